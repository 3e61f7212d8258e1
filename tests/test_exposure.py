"""Per-company exposure, checked against linear programming, hand-made cases and the articles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import loopscope
from loopscope.analysis.cycles import find_cycles
from loopscope.analysis.exposure import exposure


def lp_circulation_through(W: np.ndarray, v: int) -> float:
    """Reference: maximise v's outflow over all circulations 0 ≤ x ≤ W (every edge, no shortcuts)."""
    n = W.shape[0]
    rows, cols = np.nonzero(W * (1 - np.eye(n)))
    if not len(rows):
        return 0.0
    m = len(rows)
    incidence = sp.coo_matrix(
        (np.r_[np.ones(m), -np.ones(m)], (np.r_[rows, cols], np.r_[np.arange(m), np.arange(m)])), shape=(n, m)
    )
    result = linprog(-(rows == v).astype(float), A_eq=incidence, b_eq=np.zeros(n),
                     bounds=list(zip(np.zeros(m), W[rows, cols], strict=True)), method="highs")
    return -result.fun


@st.composite
def weighted(draw):
    n = draw(st.integers(2, 8))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    density = draw(st.sampled_from([0.2, 0.4, 0.8]))
    return np.where(rng.random((n, n)) < density, rng.integers(1, 1000, (n, n)).astype(float), 0.0)


@settings(max_examples=80, deadline=None)
@given(weighted())
def test_round_tripped_inflow_equals_the_linear_programme(W):
    result = exposure(W)
    for v in range(W.shape[0]):
        row = result[v]
        assert row.round_tripped_usd == pytest.approx(lp_circulation_through(W, v), rel=1e-9, abs=1e-6)
        assert row.round_tripped_usd <= row.inflow_usd + 1e-9 and row.round_tripped_usd <= row.outflow_usd + 1e-9
        assert row.inflow_usd == pytest.approx(W[:, v].sum() - W[v, v])
        assert row.cycles == sum(1 for c in find_cycles(W).parties() if v in c)


def test_vendor_financing_by_hand():
    # nvidia invests 100 in openai; openai buys 40 from nvidia and 300 from oracle; oracle buys 30 from nvidia
    flows = pd.DataFrame({
        "src": ["nvidia", "openai", "openai", "oracle", "microsoft"],
        "dst": ["openai", "nvidia", "oracle", "nvidia", "oracle"],
        "amount": [100.0, 40.0, 300.0, 30.0, 100.0],
        "kind": ["equity", "purchase", "purchase", "purchase", "purchase"],
    })
    result = exposure(flows)
    nvidia, oracle = result["nvidia"], result["oracle"]
    assert nvidia.inflows == {"purchase": 70.0} and nvidia.outflows == {"equity": 100.0}
    assert nvidia.round_tripped_usd == 70.0 and nvidia.round_tripped_share == 1.0  # all its revenue is its own money
    assert oracle.round_tripped_usd == 30.0 and oracle.round_tripped_share == pytest.approx(30 / 400)
    assert (oracle.top_customer, oracle.top_customer_share) == ("openai", 0.75)
    assert oracle.hhi == pytest.approx(0.75**2 + 0.25**2)
    assert result["openai"].top_customer is None  # equity is not revenue
    assert oracle.commitments_usd == 30.0 and np.isnan(oracle.commitment_years)  # no revenue figure in a flows table


def test_oracle_two_thirds_comes_out_of_the_data_with_its_sources():
    """ntv.de (8 Nov 2025): two thirds of Oracle's future revenue hangs on one customer, OpenAI."""
    ledger = loopscope.load()
    autumn = exposure(ledger.as_of("2025-09-30"))["oracle"]
    backlog = autumn.backlog
    assert backlog is not None and backlog.customer == "openai"
    assert backlog.deals == ("openai-oracle-compute-2025",)
    assert backlog.figure == "oracle-rpo-2025-08-31"
    assert backlog.share == pytest.approx(300 / 455)
    assert 0.64 < backlog.share < 0.68
    figure = ledger.deal("openai-oracle-compute-2025")
    assert {s.url for s in figure.sources} <= set(backlog.sources)
    assert {s.url for s in next(f for f in ledger.figures if f.id == backlog.figure).sources} <= set(backlog.sources)
    reported = {r.figure: r.value for r in autumn.reported_shares}
    assert reported == {"oracle-customer-share-2025-08-31": 0.66}
    # later: the backlog grew, the share fell to about the reported 0.47
    later = exposure(ledger)["oracle"]
    assert later.backlog.share == pytest.approx(0.47, abs=0.005)
    assert {r.value for r in later.reported_shares} == {0.66, 0.47}


def test_commitments_against_revenue_in_the_dataset():
    ledger = loopscope.load()
    openai = exposure(ledger)["openai"]
    flows = ledger.flows()
    own = flows[(flows.src == "openai") & flows.kind.isin(["purchase", "backstop", "loan", "lease"])]
    assert openai.commitments_usd == pytest.approx(own.amount_usd.sum(skipna=True))
    assert openai.revenue_basis.startswith("openai-")
    assert openai.commitment_years == pytest.approx(openai.commitments_usd / openai.revenue_usd)
    assert openai.commitment_years > 10  # commitments dwarf revenue
    assert openai.commitments_high_usd == float("inf") or openai.commitments_high_usd >= openai.commitments_usd


def test_exposure_json_and_frame():
    import json

    result = exposure(loopscope.load())
    document = result.to_dict()
    json.dumps(document, allow_nan=False)
    assert len(document["parties"]) == len(loopscope.load().parties)
    frame = result.to_frame()
    inflows = [r.inflow_usd for r in result.values()]
    assert inflows == sorted(inflows, reverse=True)
    assert frame.loc["oracle", "top_customer"] == "openai"


def test_undisclosed_flows_open_the_upper_bound_and_zero_commitments_are_zero_years():
    flows = pd.DataFrame({"src": ["a", "b"], "dst": ["b", "a"], "amount": [np.nan, 5.0]})
    row = exposure(flows)["a"]
    assert row.round_tripped_usd == 0 and row.round_tripped_high_usd == float("inf")
    amazon = exposure(loopscope.load())["amazon"]
    assert amazon.commitments_usd == 0 and amazon.commitment_years == 0.0


def test_a_year_is_never_taken_from_a_quarter_and_53_week_years_count():
    """Fiscal years of 53 weeks (371 days) are years; on one date a fiscal year comes after its last
    quarter; node sizes in the report use annual revenue, not the latest quarter."""
    from loopscope.analysis.exposure import annual_revenue, annual_revenue_figure
    from loopscope.ledger import Ledger
    from loopscope.ledger.model import Figure, Party
    from loopscope.report.content import network_view

    source = [{"url": "https://example.org/10-k", "publisher": "SEC"}]

    def revenue(ident, start, end, value):
        return Figure.model_validate({"id": ident, "party": "chipco", "metric": "revenue", "value": value, "unit": "USD",
                                      "kind": "exact", "period": {"start": start, "end": end}, "sources": source})

    year = revenue("chipco-fy", "2023-01-30", "2024-02-03", 60e9)  # 53 weeks: 371 days
    last_quarter = revenue("chipco-fy-q4", "2023-10-30", "2024-02-03", 22e9)
    later_quarter = revenue("chipco-q1", "2024-02-04", "2024-05-04", 26e9)
    party = Party(id="chipco", name="Chip Co", kind="company")
    ledger = Ledger([party], [], [later_quarter, last_quarter, year])
    assert ledger.latest_figure("chipco", "revenue").id == "chipco-q1"
    assert [f.id for f in ledger.figures_of("chipco", "revenue")] == ["chipco-fy-q4", "chipco-fy", "chipco-q1"]
    assert annual_revenue_figure(ledger, "chipco").id == "chipco-fy"
    assert annual_revenue(ledger, "chipco") == (60e9, "chipco-fy (revenue, 2024-02-03)")
    node, = network_view(ledger)["nodes"]
    assert node["sized"] and "2024-02-03" in node["size_text"] and "60" in node["size_text"]
