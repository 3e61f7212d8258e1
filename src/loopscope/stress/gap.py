"""The funding gap: commitments falling due each year against the revenue that must pay them.

:func:`funding_gap` compares, per party and for the network, the commitments of the ledger falling
due in each calendar year with revenue (the latest reported annual figure, projected under stated
growth) and gives the growth each party would need to cover them.  :func:`bain_gap` rebuilds the
arithmetic of Bain & Company's estimate quoted in the articles ("about $2 trillion" of annual
revenue needed by 2030, "$800 billion short") from the inputs Bain's press material gives, and
shows how the gap moves with the assumptions behind it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from ..ledger import Ledger


@dataclass(frozen=True)
class PartyGap:
    """One party's commitments per year (``commitments_usd``, aligned with :attr:`FundingGap.years`)
    against its projected revenue; ``gap_usd`` = commitments − revenue (negative: covered).

    ``revenue_usd``: the latest annual revenue (NaN without a figure) and ``revenue_figure`` its
    source; ``growth``: the yearly growth assumed; ``growth_needed``: the constant yearly growth
    from the base year at which revenue would cover the commitments of every later year (NaN
    without revenue; ``inf`` when all commitments fall in the base year and exceed its revenue; the
    base year itself shows in ``gap_usd``)."""

    party: str
    name: str
    revenue_usd: float
    revenue_figure: str | None
    growth: float
    commitments_usd: np.ndarray
    revenue_projected_usd: np.ndarray
    gap_usd: np.ndarray
    growth_needed: float
    undisclosed: int

    @property
    def total_commitments_usd(self) -> float:
        return float(self.commitments_usd.sum())


@dataclass(frozen=True)
class BainEstimate:
    """Bain's arithmetic: revenue needed = capex ÷ sustainable capex-to-revenue ratio; shortfall =
    revenue needed − what shifted IT budgets and reinvested AI savings fund.  ``sensitivity`` holds
    (ratio, funded, revenue needed, shortfall) rows around the central inputs."""

    capex_usd: float
    capex_to_revenue: float
    funded_usd: float
    year: int
    sensitivity: tuple[tuple[float, float, float, float], ...]
    sources: tuple[dict[str, str], ...] = field(repr=False)

    @property
    def revenue_needed_usd(self) -> float:
        return self.capex_usd / self.capex_to_revenue

    @property
    def shortfall_usd(self) -> float:
        return self.revenue_needed_usd - self.funded_usd


@dataclass(frozen=True)
class FundingGap:
    """Commitments per year against revenue, per party (largest total gap first) and for the network
    (the parties with commitments), with the assumptions in words and Bain's estimate beside."""

    base_year: int
    years: tuple[int, ...]
    parties: tuple[PartyGap, ...]
    commitments_usd: np.ndarray
    revenue_projected_usd: np.ndarray
    gap_usd: np.ndarray
    assumptions: tuple[str, ...]
    bain: BainEstimate

    def to_dict(self) -> dict[str, Any]:
        def num(x):
            x = float(x)
            return None if math.isnan(x) else (x if math.isfinite(x) else ("inf" if x > 0 else "-inf"))

        def series(values):
            return [num(v) for v in values]

        return {
            "base_year": self.base_year, "years": list(self.years),
            "network": {"commitments_usd": series(self.commitments_usd),
                        "revenue_projected_usd": series(self.revenue_projected_usd), "gap_usd": series(self.gap_usd)},
            "parties": [{
                "party": p.party, "name": p.name, "revenue_usd": num(p.revenue_usd), "revenue_figure": p.revenue_figure,
                "growth": p.growth, "growth_needed": num(p.growth_needed), "undisclosed_commitments": p.undisclosed,
                "total_commitments_usd": p.total_commitments_usd, "commitments_usd": series(p.commitments_usd),
                "revenue_projected_usd": series(p.revenue_projected_usd), "gap_usd": series(p.gap_usd),
            } for p in self.parties],
            "bain": {"year": self.bain.year, "capex_usd": self.bain.capex_usd,
                     "capex_to_revenue": self.bain.capex_to_revenue, "revenue_needed_usd": self.bain.revenue_needed_usd,
                     "funded_usd": self.bain.funded_usd, "shortfall_usd": self.bain.shortfall_usd,
                     "sensitivity": [dict(zip(("capex_to_revenue", "funded_usd", "revenue_needed_usd", "shortfall_usd"), row))
                                     for row in self.bain.sensitivity],
                     "sources": list(self.bain.sources)},
            "assumptions": list(self.assumptions),
        }


#: where Bain's inputs were read (press coverage of Bain's Technology Report 2025, 23 September 2025)
BAIN_SOURCES = (
    {"url": "https://www.punjabnewsexpress.com/business/news/2-trillion-in-new-revenue-needed-to-meet-ai-demand-globally-by-2030-report-299268",
     "publisher": "IANS via Punjab News Express, 2025-09-23",
     "quote": "By 2030, technology executives will be faced with the challenge of deploying about $500 billion in "
              "capital expenditures and finding about $2 trillion in new revenue to profitably meet demand."},
    {"url": "https://cybernews.com/tech/ai-progress-requires-billions-investment/",
     "publisher": "Cybernews, 2025-09-23",
     "quote": "If companies shifted all of their on-premise IT budgets to cloud and also reinvested the savings "
              "anticipated from applying AI in sales, marketing, customer support, and R&D (estimated at about 20% of "
              "those budgets) into capital spending on new data centers, the amount would still fall $800 billion short "
              "of the revenue needed to fund the full investment"},
)


def bain_gap(capex_usd: float = 500e9, capex_to_revenue: float = 0.25, funded_usd: float = 1.2e12,
             year: int = 2030) -> BainEstimate:
    """Bain's funding-gap arithmetic (Bain & Company, Technology Report 2025).

    Sourced: about $500bn of yearly data-centre capex and about $2tn of revenue needed by 2030, and
    an $800bn shortfall after shifting on-premise IT budgets to the cloud and reinvesting AI savings
    (:data:`BAIN_SOURCES`).  Derived, not quoted: the capex-to-revenue ratio (500 ÷ 2,000 = 25%,
    Bain's "sustainable" ratio for cloud providers, whose value the coverage does not give) and the
    funded $1.2tn (2,000 − 800).  The sensitivity rows vary the ratio (20% to 35%) and the funded
    amount (±$200bn): the gap is driven mostly by the ratio."""
    if not 0 < capex_to_revenue <= 1:
        raise ValueError(f"capex_to_revenue must lie in (0, 1], not {capex_to_revenue}")
    rows = tuple((ratio, funded, capex_usd / ratio, capex_usd / ratio - funded)
                 for ratio in (0.20, 0.25, 0.30, 0.35) for funded in (funded_usd - 0.2e12, funded_usd, funded_usd + 0.2e12))
    return BainEstimate(capex_usd, capex_to_revenue, funded_usd, year, rows, BAIN_SOURCES)


def funding_gap(ledger: Ledger, as_of: date | str | None = None, growth: float | dict[str, float] = 0.0,
                last_year: int | None = None, backstop_share: float = 1.0) -> FundingGap:
    """Commitments falling due per calendar year against revenue, per party and for the network.

    Parameters
    ----------
    ledger : the deal ledger
    as_of : a day of the base year (default: the ledger's as-of date, else its latest deal); the base
        year counts in full, from 1 January, since yearly instalments are dated then
    growth : yearly revenue growth, one rate for all or ``{party: rate}`` (others: 0)
    last_year : the last year shown (default: the last year any commitment falls due); the growth
        needed always looks at every year
    backstop_share : share of a backstop counted as a commitment

    Notes
    -----
    Commitments are those of :func:`~loopscope.stress.balance_sheets`: purchases, leases, loans,
    backstops and promised equity investments, spread over their horizons by
    :meth:`~loopscope.Ledger.flows`; undisclosed amounts count 0 and are counted per party.  Revenue
    is the latest annual revenue (or run rate), total, including revenue from inside the network,
    projected as ``R·(1 + g)^(year − base year)``.  As in
    the articles, commitments are set against revenue, not profit: revenue must also pay every other
    cost, so the gap is a lower bound.
    """
    from ..analysis.exposure import annual_revenue
    from .balance import balance_sheets

    if as_of is None:
        if not ledger.deals and ledger.as_of_date is None:
            raise ValueError("the ledger has no deals: there is nothing falling due")
        as_of = ledger.as_of_date or max(d.announced for d in ledger.deals)
    start = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    rates = growth if isinstance(growth, dict) else {}
    default = 0.0 if isinstance(growth, dict) else float(growth)
    for party, rate in {**rates, "(all)": default}.items():
        if rate <= -1:
            raise ValueError(f"growth for {party} must be above -1, not {rate}")
    unknown = sorted(set(rates) - {p.id for p in ledger.parties})
    if unknown:
        raise ValueError(f"growth given for parties the ledger does not have: {', '.join(unknown)}")
    if not ledger.deals:
        raise ValueError("the ledger has no deals: there is nothing falling due")
    if last_year is not None and last_year < start.year:
        raise ValueError(f"last_year {last_year} is before the base year {start.year}")
    # the base year counts in full: yearly instalments are dated 1 January, so a count from the
    # as-of day would drop them while keeping the rest of the year
    first = date(start.year, 1, 1)
    sheets = balance_sheets(ledger, as_of=first, horizon=61, backstop_share=backstop_share)
    terms = sheets.terms
    terms = terms[terms["amount"] * terms["weight"] > 0]
    full_end = max([d.year for d in terms["date"]], default=start.year)
    n_full = full_end - start.year + 1
    year_of = np.array([d.year for d in terms["date"]], dtype=np.int64) - start.year
    per_full = np.zeros((len(sheets.parties), n_full))
    np.add.at(per_full, (terms["src"].to_numpy(), year_of), (terms["amount"] * terms["weight"]).to_numpy())
    end_year = last_year or full_end
    years = tuple(range(start.year, end_year + 1))
    n_years = len(years)
    per = np.zeros((len(sheets.parties), n_years))
    per[:, : min(n_years, n_full)] = per_full[:, : min(n_years, n_full)]
    flows = ledger.flows()
    hidden = flows[flows["amount_usd"].isna() & (flows["date"].dt.date >= first)
                   & (flows["kind"].isin(("purchase", "lease", "loan", "backstop"))
                      | ((flows["kind"] == "equity") & (flows["status"] != "completed")))]
    undisclosed = hidden.groupby("src")["deal_id"].nunique().to_dict()
    names = {p.id: p.name for p in ledger.parties}
    offsets = np.arange(n_years)
    full_offsets = np.arange(n_full)
    out = []
    for i, party in enumerate(sheets.parties):
        if not per_full[i].any():
            continue
        revenue, figure = annual_revenue(ledger, party)
        g = rates.get(party, default)
        projected = revenue * (1 + g) ** offsets if not math.isnan(revenue) else np.full(n_years, math.nan)
        due = per_full[i] > 0  # the growth needed looks at every year, whatever is shown
        later_years = np.flatnonzero(due & (full_offsets > 0))
        if math.isnan(revenue) or revenue <= 0:
            needed = math.nan
        elif later_years.size:
            needed = max((per_full[i][k] / revenue) ** (1 / full_offsets[k]) - 1 for k in later_years)
        else:  # commitments in the base year only: no growth helps
            needed = math.inf if per_full[i][0] > revenue else -1.0
        out.append(PartyGap(party, names.get(party, party), revenue, figure, g, per[i], projected, per[i] - projected,
                            needed, int(undisclosed.get(party, 0))))
    out.sort(key=lambda p: -np.nansum(np.maximum(p.gap_usd, 0)) if not math.isnan(p.revenue_usd) else -p.total_commitments_usd)
    commitments = per.sum(axis=0)
    revenue_network = np.nansum([p.revenue_projected_usd for p in out], axis=0) if out else np.zeros(n_years)
    without = [p.party for p in out if math.isnan(p.revenue_usd)]
    growth_text = (", ".join(f"{p} {r:.0%}" for p, r in rates.items()) + f", others {default:.0%}") if rates else f"{default:.0%}"
    assumptions = (
        f"commitments: purchases, leases, loans, backstops ({backstop_share:.0%}) and promised equity investments "
        f"falling due from {first} to the end of {end_year}, spread evenly over their horizons unless scheduled; "
        "undisclosed amounts count 0",
        f"revenue: each party's latest annual revenue or run rate, growing {growth_text} a year from {start.year}",
        "commitments are set against revenue, not profit: revenue must also pay every other cost",
        f"{len(without)} parties with commitments have no revenue figure and are left out of the network's revenue: "
        + (", ".join(without) or "none"),
    )
    return FundingGap(start.year, years, tuple(out), commitments, revenue_network, commitments - revenue_network,
                      assumptions, bain_gap())
