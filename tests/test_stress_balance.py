"""Balance sheets from the ledger: every number traced back to the flows and figures it comes from."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

import loopscope
from loopscope.stress import balance_sheets, eisenberg_noe


@pytest.fixture(scope="module")
def ledger():
    return loopscope.load()


def test_obligations_are_the_commitments_falling_due(ledger):
    sheets = balance_sheets(ledger, start="2026-01-01", years=3, backstop_share=0.5)
    assert (sheets.start, sheets.end) == (date(2026, 1, 1), date(2029, 1, 1))
    flows = ledger.flows().dropna(subset=["amount_usd"])
    due = flows[(flows.date >= "2026-01-01") & (flows.date < "2029-01-01")
                & flows.kind.isin(["purchase", "lease", "loan", "backstop"]) & (flows.src != flows.dst)]
    weights = np.where(due.kind == "backstop", 0.5, 1.0)
    i = sheets.parties.index("openai")
    mine = due.src == "openai"
    assert sheets.liabilities[i].sum() == pytest.approx((due.amount_usd * weights)[mine].sum())
    assert sheets.liabilities.sum() == pytest.approx((due.amount_usd * weights).sum())
    assert (np.diag(sheets.liabilities) == 0).all()


def test_outside_assets_and_the_parties_assumed_able_to_pay(ledger):
    sheets = balance_sheets(ledger, years=2, revenue_growth=0.5)
    i = sheets.parties.index("openai")
    cash = ledger.latest_figure("openai", "cash").value
    from loopscope.analysis.exposure import annual_revenue

    revenue, _ = annual_revenue(ledger, "openai")
    inside = sheets.liabilities[:, i].sum()
    assert sheets.external_assets[i] == pytest.approx(cash + max(revenue * (1 + 1.5) - inside, 0))
    for party in sheets.assumed_solvent:
        j = sheets.parties.index(party)
        assert sheets.external_assets[j] == pytest.approx(max(sheets.liabilities[j].sum() - sheets.liabilities[:, j].sum(), 0))
    assert "xai" in sheets.assumed_solvent and "oracle" not in sheets.assumed_solvent
    assert any("assumed able to pay" in a and "xai" in a for a in sheets.assumptions)
    # a party assumed able to pay does not fail on its own: only through others' shortfalls
    alone = eisenberg_noe(sheets.liabilities, sheets.external_assets)
    assert alone.default_round[[sheets.parties.index(p) for p in sheets.assumed_solvent]].min() != 1


def test_stakes_and_equity_values(ledger):
    sheets = balance_sheets(ledger)
    i, j = sheets.parties.index("nvidia"), sheets.parties.index("openai")
    flows = ledger.flows().dropna(subset=["amount_usd"])
    stake = flows[(flows.kind == "equity") & (flows.src == "nvidia") & (flows.dst == "openai")
                  & (flows.date < str(sheets.end))].amount_usd.sum()
    assert sheets.exposures[i, j] == pytest.approx(stake)
    assert sheets.equity[sheets.parties.index("oracle")] == ledger.latest_figure("oracle", "market_cap").value
    import json

    json.dumps(sheets.to_dict(), allow_nan=False)
    with pytest.raises(ValueError, match="backstop_share"):
        balance_sheets(ledger, backstop_share=2)
