"""The funding gap: commitments per year traced to the flows, revenue projections, the growth each
party needs, and Bain's estimate rebuilt from its sourced inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import loopscope
from loopscope.analysis.exposure import annual_revenue
from loopscope.cli import app
from loopscope.stress.gap import bain_gap, funding_gap


@pytest.fixture(scope="module")
def ledger():
    return loopscope.load()


def test_commitments_per_year_are_the_flows_falling_due(ledger):
    result = funding_gap(ledger, as_of="2025-11-08")
    flows = ledger.flows().dropna(subset=["amount_usd"])
    flows = flows[(flows.date >= "2025-01-01") & (flows.src != flows.dst)]  # the base year counts in full
    due = flows[flows.kind.isin(["purchase", "lease", "loan", "backstop"])
                | ((flows.kind == "equity") & (flows.status != "completed"))]
    assert result.years[0] == 2025 and result.years[-1] == due.date.dt.year.max()
    by_year = due.groupby(due.date.dt.year).amount_usd.sum()
    assert result.commitments_usd == pytest.approx([by_year.get(y, 0.0) for y in result.years])
    openai = next(p for p in result.parties if p.party == "openai")
    mine = due[due.src == "openai"].groupby(due.date.dt.year).amount_usd.sum()
    assert openai.commitments_usd == pytest.approx([mine.get(y, 0.0) for y in result.years])
    hidden = ledger.flows()
    hidden = hidden[hidden.amount_usd.isna() & (hidden.date >= "2025-01-01") & (hidden.src == "openai")
                    & (hidden.kind.isin(["purchase", "lease", "loan", "backstop"])
                       | ((hidden.kind == "equity") & (hidden.status != "completed")))]
    assert openai.undisclosed == hidden.deal_id.nunique() > 0  # undisclosed deals falling due from the base year
    assert sum(p.total_commitments_usd for p in result.parties) == pytest.approx(due.amount_usd.sum())


def test_the_day_within_the_base_year_does_not_matter(ledger):
    """Yearly instalments are dated 1 January: counting from the as-of day would drop them."""
    early, late = funding_gap(ledger, as_of="2026-01-01"), funding_gap(ledger, as_of="2026-05-10")
    assert early.commitments_usd == pytest.approx(late.commitments_usd)
    assert early.revenue_projected_usd == pytest.approx(late.revenue_projected_usd)
    assert [p.growth_needed for p in early.parties] == [p.growth_needed for p in late.parties]
    short = funding_gap(ledger, as_of="2026-05-10", last_year=2027)
    assert short.years == (2026, 2027)
    assert {p.party: p.growth_needed for p in short.parties} == {p.party: p.growth_needed for p in late.parties
                                                                  if p.party in {q.party for q in short.parties}}
    with pytest.raises(ValueError, match="before the base year"):
        funding_gap(ledger, as_of="2026-05-10", last_year=2020)


def test_revenue_projection_and_the_growth_needed(ledger):
    result = funding_gap(ledger, growth={"openai": 0.5})
    openai = next(p for p in result.parties if p.party == "openai")
    revenue, figure = annual_revenue(ledger, "openai")
    assert openai.revenue_usd == revenue and openai.revenue_figure == figure and openai.growth == 0.5
    assert openai.revenue_projected_usd[0] == pytest.approx(revenue)
    assert openai.revenue_projected_usd[3] == pytest.approx(revenue * 1.5 ** 3)
    assert openai.gap_usd == pytest.approx(openai.commitments_usd - openai.revenue_projected_usd)
    others = [p for p in result.parties if p.party != "openai"]
    assert all(p.growth == 0 for p in others)
    for p in result.parties:
        if not (math.isfinite(p.growth_needed) and p.growth_needed > 0):
            continue
        k = np.arange(len(result.years))
        due = (p.commitments_usd > 0) & (k > 0)
        at = p.revenue_usd * (1 + p.growth_needed) ** k
        assert (at[due] >= p.commitments_usd[due] * (1 - 1e-9)).all()  # enough growth covers every year
        less = p.revenue_usd * (1 + p.growth_needed - 0.01) ** k
        assert (less[due] < p.commitments_usd[due]).any()  # and no less would
    assert any(p.party == "openai" and p.growth_needed > 1 for p in result.parties)
    with pytest.raises(ValueError, match="does not have: acme"):
        funding_gap(ledger, growth={"acme": 0.1})


def test_bain_rebuilt_from_its_inputs():
    b = bain_gap()
    assert b.revenue_needed_usd == pytest.approx(2e12) and b.shortfall_usd == pytest.approx(8e11)
    assert any("$500 billion" in s["quote"] and "$2 trillion" in s["quote"] for s in b.sources)
    assert any("$800 billion short" in s["quote"] for s in b.sources)
    rows = {(r, f): (need, short) for r, f, need, short in b.sensitivity}
    assert rows[(0.25, 1.2e12)] == pytest.approx((2e12, 8e11))
    assert rows[(0.20, 1.2e12)] == pytest.approx((2.5e12, 1.3e12))
    # a lower sustainable ratio needs more revenue: the gap falls as the ratio rises
    shortfalls = [rows[(r, 1.2e12)][1] for r in (0.20, 0.25, 0.30, 0.35)]
    assert shortfalls == sorted(shortfalls, reverse=True)
    with pytest.raises(ValueError):
        bain_gap(capex_to_revenue=0)


def test_the_gap_command():
    runner = CliRunner()
    result = runner.invoke(app, ["gap"])
    assert result.exit_code == 0, result.output
    assert "Commitments per year against revenue" in result.output and "OpenAI" in result.output
    assert "$2tn revenue needed by 2030" in result.output and "shortfall $800bn" in result.output
    german = runner.invoke(app, ["gap", "--lang", "de", "-g", "openai=100%"])
    assert german.exit_code == 0, german.output
    assert "Lücke 800 Mrd. $" in german.output
    openai_row = next(line for line in german.output.splitlines() if "OpenAI" in line)
    assert "100 %" in openai_row  # the growth assumed for OpenAI, in its row
    document = json.loads(runner.invoke(app, ["gap", "--json", "-g", "0.2"]).stdout)
    direct = funding_gap(loopscope.load(), growth=0.2).to_dict()
    assert document["network"] == direct["network"] and document["bain"]["shortfall_usd"] == 8e11
    bad = runner.invoke(app, ["gap", "-g", "fast"])
    assert bad.exit_code == 2 and "expected a rate" in bad.output
