"""The Ledger API: flows conserve every deal's money, the matrix sums the flows, as_of cuts history."""

from __future__ import annotations

import math
from datetime import date

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import loopscope
from loopscope.ledger import Ledger
from loopscope.ledger.model import Deal, Horizon, Party

from .strategies import ledgers

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _deal(**changes) -> Deal:
    record = {
        "id": "d1", "kind": "purchase", "from": "a", "to": "b", "title": "t", "announced": date(2025, 1, 10),
        "amount": {"value": 100.0, "currency": "USD", "kind": "exact"},
        "history": [{"date": date(2025, 1, 10), "status": "announced"}],
        "sources": [{"url": "https://example.org", "publisher": "E"}],
    }
    record.update(changes)
    return Deal.model_validate(record)


PARTIES = [Party(id="a", name="A", kind="company"), Party(id="b", name="B", kind="company")]


@SETTINGS
@given(ledgers())
def test_flows_conserve_each_deals_money(ledger):
    flows = ledger.flows()
    live = [d for d in ledger.deals if d.status not in ("superseded", "cancelled")]
    assert set(flows["deal_id"]) == {d.id for d in live}
    for deal in live:
        rows = flows[flows["deal_id"] == deal.id]
        assert (rows["src"] == deal.src).all() and (rows["dst"] == deal.dst).all()
        central, lower, upper = ledger.to_usd(deal.amount, deal.announced)
        if central is None:
            assert rows["amount_usd"].isna().all()
            continue
        if deal.horizon is not None and deal.horizon.schedule and deal.horizon.schedule[0].amount is not None:
            scheduled = sum(i.amount for i in deal.horizon.schedule)
            assert math.isclose(rows["amount_usd"].sum(), central * scheduled / deal.amount.central, rel_tol=1e-9)
        else:
            assert math.isclose(rows["amount_usd"].sum(), central, rel_tol=1e-9)
            assert math.isclose(rows["low_usd"].sum(), lower, rel_tol=1e-9, abs_tol=1e-12)
            assert math.isclose(rows["high_usd"].sum(), upper, rel_tol=1e-9)
        assert (rows["low_usd"] <= rows["amount_usd"] * (1 + 1e-12)).all()
        assert (rows["amount_usd"] <= rows["high_usd"] * (1 + 1e-12)).all()
        if deal.horizon is not None:
            assert rows["date"].min().date() >= deal.horizon.first
            assert rows["date"].max().date() <= deal.horizon.last


@SETTINGS
@given(ledgers())
def test_matrix_equals_a_networkx_sum_of_the_flows(ledger):
    matrix, index = ledger.matrix()
    assert index == [p.id for p in ledger.parties]
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(index)
    for row in ledger.flows().itertuples():
        if not math.isnan(row.amount_usd):
            graph.add_edge(row.src, row.dst, weight=row.amount_usd)
    expected = nx.to_numpy_array(graph, nodelist=index, weight="weight", multigraph_weight=sum)
    assert np.allclose(matrix.toarray(), expected, rtol=1e-12, atol=0)


@SETTINGS
@given(ledgers())
def test_as_of_keeps_only_what_was_known(ledger):
    for deal in ledger.deals:
        day = deal.history[-1].date
        cut = ledger.as_of(day)
        assert all(d.announced <= day for d in cut.deals)
        assert all(e.date <= day for d in cut.deals for e in d.history)
        assert all(f.as_of <= day for f in cut.figures)
        kept = cut.deal(deal.id)
        assert kept.status == deal.status
        # a cut ledger is still valid: every deal passes validation again
        assert [Deal.model_validate(d.model_dump(by_alias=True)) for d in cut.deals] == list(cut.deals)


def test_even_spread_over_calendar_years():
    horizon = Horizon(start=date(2027, 1, 1), years=5)
    slices = horizon.slices(300e9)
    assert [d for d, _ in slices] == [date(y, 1, 1) for y in range(2027, 2032)]
    assert sum(s for _, s in slices) == pytest.approx(1)
    assert horizon.last == date(2031, 12, 31)
    # a span starting mid-year gives partial first and last years, weighted by days
    part = Horizon(start=date(2025, 7, 1), end=date(2026, 6, 30)).slices(1.0)
    assert [d for d, _ in part] == [date(2025, 7, 1), date(2026, 1, 1)]
    assert part[0][1] == pytest.approx(184 / 365)


def test_schedule_shares_and_dates_are_kept():
    deal = _deal(horizon={"schedule": [{"date": date(2026, 6, 30), "share": 0.25}, {"date": date(2027, 6, 30), "share": 0.75}]})
    flows = Ledger(PARTIES, [deal]).flows()
    assert list(flows["amount_usd"]) == [25.0, 75.0]
    assert list(flows["date"].dt.date) == [date(2026, 6, 30), date(2027, 6, 30)]
    assert set(flows["date_basis"]) == {"horizon"}


def test_deal_without_horizon_moves_on_its_announcement_and_says_so():
    flows = Ledger(PARTIES, [_deal()]).flows()
    assert list(flows["date"].dt.date) == [date(2025, 1, 10)]
    assert list(flows["date_basis"]) == ["announced"]


def test_up_to_amount_has_zero_low_and_superseded_deals_move_nothing():
    up_to = _deal(amount={"value": 100.0, "currency": "USD", "kind": "up_to"})
    gone = _deal(id="d2", history=[{"date": date(2025, 1, 10), "status": "announced"},
                                   {"date": date(2025, 6, 1), "status": "superseded"}], superseded_by="d1")
    flows = Ledger(PARTIES, [up_to, gone]).flows()
    assert list(flows["deal_id"]) == ["d1"]
    assert (flows["low_usd"].iloc[0], flows["high_usd"].iloc[0]) == (0.0, 100.0)
    # before it was superseded, the letter of intent was live
    early = Ledger(PARTIES, [up_to, gone]).as_of(date(2025, 3, 1))
    assert early.deal("d2").status == "announced" and early.deal("d2").superseded_by is None
    assert sorted(early.flows()["deal_id"]) == ["d1", "d2"]


def test_foreign_currency_converts_at_the_latest_rate_before_announcement():
    from loopscope.ledger.model import Rate

    source = {"url": "https://example.org/r", "publisher": "ECB"}
    rates = [Rate(currency="EUR", date=date(2024, 1, 1), usd=1.1, source=source),
             Rate(currency="EUR", date=date(2025, 1, 1), usd=1.2, source=source),
             Rate(currency="EUR", date=date(2026, 1, 1), usd=1.3, source=source)]
    deal = _deal(amount={"value": 100.0, "currency": "EUR", "kind": "range", "low": 50.0, "high": 150.0})
    ledger = Ledger(PARTIES, [deal], rates=rates)
    assert ledger.to_usd(deal.amount, deal.announced) == pytest.approx((120.0, 60.0, 180.0))
    # before any rate: the earliest one
    assert ledger.rate("EUR", date(2000, 1, 1)) == 1.1


def test_matrix_filters_by_kind_and_rejects_unknown_kinds():
    ledger = Ledger(PARTIES, [_deal(), _deal(id="d2", kind="equity", amount={"value": 7.0, "currency": "USD", "kind": "exact"})])
    matrix, index = ledger.matrix(kinds=["equity"])
    assert matrix[index.index("a"), index.index("b")] == 7.0
    with pytest.raises(ValueError, match="unknown deal kinds"):
        ledger.matrix(kinds=["gift"])


def test_bundled_dataset_loads_and_expands():
    ledger = loopscope.load()
    flows = ledger.flows()
    assert len(flows) > len(ledger.deals) / 2
    assert set(flows.columns) >= {"src", "dst", "amount_usd", "low_usd", "high_usd", "date", "deal_id", "kind"}
    matrix, index = ledger.matrix()
    assert matrix.shape == (len(ledger.parties), len(ledger.parties))
    assert matrix.sum() == pytest.approx(flows["amount_usd"].sum(skipna=True))
