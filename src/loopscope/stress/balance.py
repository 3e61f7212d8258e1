"""From the deal ledger to the inputs of the stress-test models, with every assumption stated.

:func:`balance_sheets` maps deals and figures to obligations, outside assets, equity stakes and
equity values over a horizon.  Each assumption is a parameter with a default and is listed, in words,
in the result, so that results are never shown without the assumptions behind them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from ..ledger import Ledger
from ..ledger.vocabulary import CLOSED_STATUSES, DEAL_KINDS


@dataclass(frozen=True)
class BalanceSheets:
    """Model inputs built from a ledger, in US dollars, parties in ``parties`` order.

    * ``liabilities[i][j]``: what i must pay j within the horizon (commitments falling due);
    * ``external_assets[i]``: what i has from outside the network for the horizon (cash plus
      outside revenue, see :func:`balance_sheets`);
    * ``exposures[i][j]``: what i has invested in j (equity deals up to the horizon's end);
    * ``equity[i]``: i's latest market capitalisation or valuation (NaN when none is reported);
    * ``assumed_solvent``: parties without revenue or cash figures, given just enough outside assets;
    * ``assumptions``: every assumption, in words.
    """

    parties: tuple[str, ...]
    start: date
    end: date
    liabilities: np.ndarray
    external_assets: np.ndarray
    exposures: np.ndarray
    equity: np.ndarray
    assumed_solvent: tuple[str, ...]
    assumptions: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        def plain(value):
            if isinstance(value, np.ndarray):
                return np.where(np.isfinite(value), value, None).tolist() if value.dtype.kind == "f" else value.tolist()
            if isinstance(value, date):
                return value.isoformat()
            return list(value) if isinstance(value, tuple) else value

        return {k: plain(v) for k, v in self.__dict__.items()}


def balance_sheets(ledger: Ledger, start: date | str | None = None, years: int = 5, revenue_growth: float = 0.0,
                   backstop_share: float = 1.0) -> BalanceSheets:
    """Obligations, outside assets, stakes and equity values for a stress test.

    Parameters
    ----------
    ledger : the deal ledger (its figures give cash, revenue and equity values)
    start : first day of the horizon (default: the ledger's as-of date, else its latest deal)
    years : length of the horizon in years
    revenue_growth : yearly growth of outside revenue over the horizon (0: flat at the latest figure)
    backstop_share : share of a backstop (a guarantee to buy unsold capacity) counted as an obligation

    Notes
    -----
    * Obligations are the flows of deal kinds flagged ``obligation`` (purchases, leases, loans,
      backstops times ``backstop_share``) dated within ``[start, start + years)``, as
      :meth:`~loopscope.Ledger.flows` spreads them over their horizons; undisclosed amounts count 0.
    * Outside assets are the latest cash figure plus the latest annual revenue (grown by
      ``revenue_growth`` per year) over the horizon, less the revenue the party gets from inside the
      network in that time (that arrives through the clearing itself), never below 0.
    * A party with neither a revenue nor a cash figure gets outside assets equal to what it owes
      less what the network owes it: the data cannot say whether it can pay, so it is assumed able
      to, and listed in ``assumed_solvent``.  Its failure can only come from others' shortfalls.
    * Debts outside the network are not modelled (no maturities in the data): outside creditors 0.
    """
    from ..analysis.exposure import annual_revenue

    if years <= 0:
        raise ValueError(f"years must be positive, not {years}")
    if not 0 <= backstop_share <= 1:
        raise ValueError(f"backstop_share must lie in [0, 1], not {backstop_share}")
    if revenue_growth <= -1:
        raise ValueError(f"revenue_growth must be above -1, not {revenue_growth}")
    if start is None:
        start = ledger.as_of_date or max(d.announced for d in ledger.deals)
    start = date.fromisoformat(start) if isinstance(start, str) else start
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + years, day=28)
    parties = tuple(sorted(p.id for p in ledger.parties))
    index = {p: i for i, p in enumerate(parties)}
    n = len(parties)
    flows = ledger.flows()
    flows = flows[flows["amount_usd"].notna()]
    day = flows["date"].dt.date
    within = (day >= start) & (day < end)
    obligation_kinds = [k for k, v in DEAL_KINDS.items() if v.obligation]
    due = flows[within & flows["kind"].isin(obligation_kinds)]
    weight = np.where(due["kind"] == "backstop", backstop_share, 1.0)
    L = np.zeros((n, n))
    np.add.at(L, (due["src"].map(index).to_numpy(), due["dst"].map(index).to_numpy()), due["amount_usd"].to_numpy() * weight)
    np.fill_diagonal(L, 0.0)
    stakes = flows[(flows["kind"] == "equity") & (day < end)]
    X = np.zeros((n, n))
    np.add.at(X, (stakes["src"].map(index).to_numpy(), stakes["dst"].map(index).to_numpy()), stakes["amount_usd"].to_numpy())
    np.fill_diagonal(X, 0.0)

    growth = sum((1 + revenue_growth) ** t for t in range(years))
    revenue_in = L.sum(axis=0)  # what the network owes each party in the horizon
    e = np.zeros(n)
    equity = np.full(n, math.nan)
    assumed = []
    for party, i in index.items():
        revenue, _ = annual_revenue(ledger, party)
        cash = ledger.latest_figure(party, "cash")
        cash_usd = cash.value * ledger.rate(cash.unit, cash.date) if cash is not None else 0.0
        if math.isnan(revenue) and cash is None:
            e[i] = max(L[i].sum() - revenue_in[i], 0.0)
            assumed.append(party)
        else:
            outside = max((0.0 if math.isnan(revenue) else revenue) * growth - revenue_in[i], 0.0)
            e[i] = cash_usd + outside
        for metric in ("market_cap", "valuation"):
            figure = ledger.latest_figure(party, metric)
            if figure is not None and figure.unit not in ("shares", "ratio"):
                equity[i] = figure.value * ledger.rate(figure.unit, figure.date)
                break
    undisclosed = sum(1 for d in ledger.deals if d.status not in CLOSED_STATUSES and not d.amount.disclosed
                      and DEAL_KINDS[d.kind].obligation)
    assumptions = (
        f"horizon: {start} to {end} ({years} years); obligations are the commitments falling due in it, "
        "multi-year deals spread evenly by calendar year unless the ledger gives a schedule",
        f"backstops count {backstop_share:.0%} of their amount as an obligation",
        f"{undisclosed} commitments of undisclosed amount count 0",
        f"outside revenue: the latest annual revenue, growing {revenue_growth:.0%} a year, less revenue from "
        "inside the network; plus the latest cash figure",
        f"{len(assumed)} parties without revenue or cash figures are assumed able to pay what they owe: "
        + ", ".join(assumed),
        "debts to lenders outside the network are not modelled",
        "equity stakes: equity deals up to the horizon's end, at the amounts invested",
    )
    return BalanceSheets(parties, start, end, L, e, X, equity, tuple(assumed), assumptions)
