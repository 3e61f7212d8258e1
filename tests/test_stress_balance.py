"""Balance sheets from the ledger: every number traced back to the flows and figures it comes from."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import loopscope
from loopscope.analysis.exposure import annual_revenue
from loopscope.stress import balance_sheets, eisenberg_noe
from loopscope.stress.balance import _quantile


@pytest.fixture(scope="module")
def ledger():
    return loopscope.load()


def due_flows(ledger, start, end):
    flows = ledger.flows().dropna(subset=["amount_usd"])
    within = (flows.date >= start) & (flows.date < end) & (flows.src != flows.dst)
    promised = (flows.kind == "equity") & (flows.status != "completed")
    return flows[within & (flows.kind.isin(["purchase", "lease", "loan", "backstop"]) | promised)]


def test_obligations_are_the_commitments_and_promised_investments_falling_due(ledger):
    sheets = balance_sheets(ledger, as_of="2025-11-08", horizon=3, backstop_share=0.5)
    assert (sheets.start, sheets.end) == (date(2025, 11, 8), date(2028, 11, 8))
    due = due_flows(ledger, "2025-11-08", "2028-11-08")
    weights = np.where(due.kind == "backstop", 0.5, 1.0)
    for party in ("openai", "nvidia", "alphabet"):
        i = sheets.parties.index(party)
        assert sheets.liabilities[i].sum() == pytest.approx((due.amount_usd * weights)[due.src == party].sum())
    assert sheets.liabilities.sum() == pytest.approx((due.amount_usd * weights).sum())
    # Nvidia's promised $30bn for OpenAI (signed, not completed, February 2026) is owed in the horizon
    nvidia, openai = sheets.parties.index("nvidia"), sheets.parties.index("openai")
    assert sheets.liabilities[nvidia, openai] >= 30e9
    assert (np.diag(sheets.liabilities) == 0).all()


def test_outside_assets_funding_and_the_parties_assumed_able_to_pay(ledger):
    sheets = balance_sheets(ledger, horizon=2, revenue_growth=0.5)
    revenue_kinds = ["purchase", "lease", "backstop"]
    due = due_flows(ledger, str(sheets.start), str(sheets.end))
    for party in ("openai", "oracle", "microsoft"):
        i = sheets.parties.index(party)
        cash = ledger.latest_figure(party, "cash")
        cash = cash.value if cash is not None else 0.0
        revenue, _ = annual_revenue(ledger, party)
        inside = due[(due.dst == party) & due.kind.isin(revenue_kinds)].amount_usd.sum()
        assert sheets.cash[i] == pytest.approx(cash)
        assert sheets.outside_revenue[i] == pytest.approx(max(revenue * (1 + 1.5) - inside, 0))
        gap = sheets.liabilities[i].sum() - sheets.liabilities[:, i].sum() - cash - sheets.outside_revenue[i]
        assert sheets.funding[i] == pytest.approx(max(gap, 0), abs=1e-3)
    assert sheets.external_assets == pytest.approx(sheets.cash + sheets.outside_revenue + sheets.funding)
    assert "xai" in sheets.assumed_solvent and "oracle" not in sheets.assumed_solvent
    assert any("assumed able to pay" in a and "xai" in a for a in sheets.assumptions)
    # the baseline is the plan: everyone pays in full
    assert not eisenberg_noe(sheets.liabilities, sheets.external_assets).defaulted.any()
    # without outside funding, only the parties without figures keep what they need
    bare = balance_sheets(ledger, horizon=2, revenue_growth=0.5, outside_funding=False)
    assert (bare.funding == 0).all()
    alone = eisenberg_noe(bare.liabilities, bare.external_assets)
    assumed = [bare.parties.index(p) for p in bare.assumed_solvent]
    assert alone.default_round[assumed].min() != 1  # they fail only through others' shortfalls
    assert alone.defaulted[bare.parties.index("openai")]


def test_stakes_and_equity_values(ledger):
    sheets = balance_sheets(ledger)
    i, j = sheets.parties.index("nvidia"), sheets.parties.index("openai")
    flows = ledger.flows().dropna(subset=["amount_usd"])
    stake = flows[(flows.kind == "equity") & (flows.src == "nvidia") & (flows.dst == "openai")
                  & (flows.date < str(sheets.end))].amount_usd.sum()
    assert sheets.exposures[i, j] == pytest.approx(stake)
    assert sheets.equity[sheets.parties.index("oracle")] == ledger.latest_figure("oracle", "market_cap").value
    json.dumps(sheets.to_dict(), allow_nan=False)
    with pytest.raises(ValueError, match="backstop_share"):
        balance_sheets(ledger, backstop_share=2)
    with pytest.raises(ValueError, match="horizon"):
        balance_sheets(ledger, horizon=0)


def test_draws_stay_within_each_amounts_range_and_repeat_with_the_seed(ledger):
    sheets = balance_sheets(ledger, as_of="2025-11-08")
    central, central_stakes = sheets.draw(0)
    again = sheets.assemble(central, central_stakes)
    assert again.liabilities[0] == pytest.approx(sheets.liabilities)
    assert again.external_assets[0] == pytest.approx(sheets.external_assets)
    amounts, stakes = sheets.draw(500, seed=3)
    terms = sheets.terms
    low = np.where(terms.amount_kind == "exact", terms.amount, terms.low.fillna(terms.amount)) * terms.weight
    high = np.where(terms.amount_kind == "exact", terms.amount, terms.high.fillna(terms.amount)) * terms.weight
    assert (amounts >= low.to_numpy() - 1e-6).all() and (amounts <= high.to_numpy() + 1e-6).all()
    exact = (terms.amount_kind == "exact").to_numpy()
    assert (amounts[:, exact] == central[:, exact]).all()
    uncertain = ~exact & (terms.low < terms.high).to_numpy()
    assert uncertain.any() and (amounts[:, uncertain].std(axis=0) > 0).all()
    same, _ = sheets.draw(500, seed=3)
    assert (same == amounts).all()
    # all flows of one deal share a quantile: their amounts move together
    deal = terms.deal_id[uncertain].value_counts().index[0]
    flows = np.flatnonzero((terms.deal_id == deal).to_numpy() & uncertain)
    if len(flows) > 1:
        position = (amounts[:, flows] - low.to_numpy()[flows]) / (high.to_numpy()[flows] - low.to_numpy()[flows])
        assert np.ptp(position, axis=1) == pytest.approx(0, abs=1e-9)
    stacked = sheets.assemble(amounts, stakes)
    assert stacked.liabilities.shape == (500, *sheets.liabilities.shape)
    assert not eisenberg_noe(stacked.liabilities, stacked.external_assets).defaulted.any()  # each sample's plan clears


@settings(max_examples=100, deadline=None)
@given(st.floats(0, 1e3), st.floats(0, 1), st.floats(0, 1e3), st.sampled_from(["up_to", "range", "estimate"]))
def test_the_documented_distributions(low, where, width, kind):
    """Uniform for 'up to' and ranges, triangular with the peak at the value for estimates:
    quantile 0 is the low end, 1 the high end, and the quantile function is monotone."""
    high = low + width
    mode = low + where * width
    u = np.linspace(0, 1, 201)[:, None]
    q = _quantile(u, np.array([low]), np.array([mode]), np.array([high]), np.array([kind], dtype=object))[:, 0]
    assert q[0] == pytest.approx(low) and q[-1] == pytest.approx(high)
    assert (np.diff(q) >= -1e-9).all()
    if kind != "estimate":
        assert q[100] == pytest.approx((low + high) / 2)
    elif width > 1e-6 * max(low, 1):
        # the triangular distribution's CDF at its peak is (mode - low) / width
        assert np.interp(mode, q, u[:, 0]) == pytest.approx(where, abs=0.01)


def test_stated_percentages_become_holdings_valued_at_the_held_partys_value(ledger):
    sheets = balance_sheets(ledger)
    at = sheets.parties.index
    # Microsoft's ~27% of OpenAI after the recapitalisation, at OpenAI's latest valuation
    assert sheets.holdings[at("microsoft"), at("openai")] == pytest.approx(0.27)
    assert sheets.exposures[at("microsoft"), at("openai")] == pytest.approx(0.27 * sheets.equity[at("openai")])
    # a warrant makes its holder (the deal's recipient) an owner of the issuer, as if fully vested
    assert sheets.holdings[at("openai"), at("amd")] == pytest.approx(0.10)
    assert sheets.exposures[at("openai"), at("amd")] == pytest.approx(0.10 * sheets.equity[at("amd")])
    # two grants to Google, the second stating the total (~14%): the largest, not the sum
    assert sheets.holdings[at("alphabet"), at("terawulf")] == pytest.approx(0.14)
    # without a value for the held party, the stake stays at what was invested
    assert np.isnan(sheets.equity[at("intel")])
    invested = ledger.flows().query("kind == 'equity' and src == 'nvidia' and dst == 'intel'").amount_usd.sum()
    assert sheets.exposures[at("nvidia"), at("intel")] == pytest.approx(invested)
    assert not np.diag(sheets.holdings).any() and (sheets.holdings < 1).all()
