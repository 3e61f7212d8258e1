"""From the deal ledger to the inputs of the stress-test models, with every assumption stated.

:func:`balance_sheets` maps deals and figures to obligations, outside assets, equity stakes and
equity values over a horizon.  Each assumption is a parameter with a default and is listed, in words,
in the result, so that results are never shown without the assumptions behind them.

The sheets keep the deal flows behind each matrix (``terms`` and ``stake_terms``), so that
:meth:`BalanceSheets.draw` can sample uncertain amounts within their ranges and
:meth:`BalanceSheets.assemble` can build the matrices for many samples at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..ledger import Ledger
from ..ledger.vocabulary import CLOSED_STATUSES, DEAL_KINDS

#: how uncertain amounts are drawn in Monte Carlo samples, by the ledger's amount kind
DISTRIBUTIONS = {
    "exact": "the stated amount",
    "up_to": "uniform between the stated floor (0 if none) and the cap",
    "range": "uniform between low and high",
    "estimate": "triangular between low and high with its peak at the stated value (the value itself without low and high)",
}


@dataclass(frozen=True)
class Assembled:
    """The model inputs for S samples (S = 1 for the central amounts), US dollars.

    ``liabilities`` (S, n, n): what i must pay j in the horizon; ``revenue_in`` (S, n): the part of
    what i is owed that is revenue (purchases, leases, backstops), as opposed to loans and promised
    investments; ``exposures`` (S, n, n): stakes; ``cash`` (with the assumed means of parties
    without figures), ``outside_revenue`` and ``funding`` (S, n): the parts of ``external_assets``."""

    liabilities: np.ndarray
    revenue_in: np.ndarray
    exposures: np.ndarray
    cash: np.ndarray
    outside_revenue: np.ndarray
    funding: np.ndarray

    @property
    def external_assets(self) -> np.ndarray:
        return self.cash + self.outside_revenue + self.funding


@dataclass(frozen=True)
class BalanceSheets:
    """Model inputs built from a ledger, in US dollars, parties in ``parties`` order.

    * ``liabilities[i][j]``: what i must pay j within the horizon (commitments falling due);
    * ``external_assets[i]``: what i has from outside the network for the horizon: ``cash`` (for the
      ``assumed_solvent`` parties, what they need) plus ``outside_revenue`` plus ``funding`` (see
      :func:`balance_sheets`);
    * ``exposures[i][j]``: the value of i's stake in j: ``holdings[i][j]`` times j's value where the
      ledger states a percentage and j has a value, else what i invested in j (equity deals up to
      the horizon's end);
    * ``holdings[i][j]``: the share of j that i holds, where an equity deal or a warrant states a
      percentage (warrants as if fully vested; the largest stated share per pair, since a later
      grant often states the total); 0 elsewhere;
    * ``equity[i]``: i's latest market capitalisation or valuation (NaN when none is reported);
    * ``assumed_solvent``: parties without revenue or cash figures, funded by assumption;
    * ``assumptions``: every assumption, in words;
    * ``terms`` / ``stake_terms``: the deal flows behind ``liabilities`` / ``exposures`` (one row
      per flow: ``src``, ``dst`` as indices, ``amount``, ``low``, ``high``, ``weight``, ``kind``,
      ``date``, ``deal_id``, ``amount_kind``).
    """

    parties: tuple[str, ...]
    start: date
    end: date
    liabilities: np.ndarray
    external_assets: np.ndarray
    cash: np.ndarray
    outside_revenue: np.ndarray
    funding: np.ndarray
    exposures: np.ndarray
    holdings: np.ndarray
    equity: np.ndarray
    assumed_solvent: tuple[str, ...]
    assumptions: tuple[str, ...]
    terms: pd.DataFrame = field(repr=False)
    stake_terms: pd.DataFrame = field(repr=False)
    revenue_horizon: np.ndarray = field(repr=False)  # latest annual revenue over the horizon, grown
    reported_cash: np.ndarray = field(repr=False)  # the cash figures alone
    outside_funding: bool = True

    def to_dict(self) -> dict[str, Any]:
        def plain(value):
            if isinstance(value, np.ndarray):
                return np.where(np.isfinite(value), value, None).tolist() if value.dtype.kind == "f" else value.tolist()
            if isinstance(value, date):
                return value.isoformat()
            return list(value) if isinstance(value, tuple) else value

        skip = {"terms", "stake_terms", "revenue_horizon", "reported_cash"}
        return {k: plain(v) for k, v in self.__dict__.items() if k not in skip}

    def draw(self, samples: int, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Amounts of every flow behind ``liabilities`` and ``exposures``: (S, F) and (S, G).

        ``samples=0`` gives the central amounts (one row).  Otherwise each *deal* gets one quantile
        u ~ U(0, 1), shared by all its flows (a deal is large or small in every year of its
        schedule), turned into an amount by the distribution of its amount kind
        (:data:`DISTRIBUTIONS`).  Reproducible for a given ``seed``."""
        terms, stakes = self.terms, self.stake_terms
        if samples == 0:
            return (terms["amount"].to_numpy()[None] * terms["weight"].to_numpy(),
                    stakes["amount"].to_numpy()[None].copy())
        if samples < 0:
            raise ValueError(f"samples must be 0 or more, not {samples}")
        deals = pd.Index(pd.concat([terms["deal_id"], stakes["deal_id"]]).unique())
        u = np.random.default_rng(seed).random((samples, len(deals)))

        def amounts(table: pd.DataFrame) -> np.ndarray:
            q = u[:, deals.get_indexer(table["deal_id"])]
            return _quantile(q, table["low"].to_numpy(), table["amount"].to_numpy(), table["high"].to_numpy(),
                             table["amount_kind"].to_numpy())

        return amounts(terms) * terms["weight"].to_numpy(), amounts(stakes)

    def assemble(self, amounts: np.ndarray, stake_amounts: np.ndarray) -> Assembled:
        """The matrices and outside assets for amounts from :meth:`draw` (or changed by a scenario).

        Outside revenue and funding follow from the liabilities of each sample, by the rules of
        :func:`balance_sheets`."""
        n = len(self.parties)
        terms = self.terms
        L = _scatter(terms["src"].to_numpy(), terms["dst"].to_numpy(), amounts, n)
        revenue = terms["revenue"].to_numpy()
        R = _scatter(terms["src"].to_numpy()[revenue], terms["dst"].to_numpy()[revenue], amounts[:, revenue], n)
        X = _scatter(self.stake_terms["src"].to_numpy(), self.stake_terms["dst"].to_numpy(), stake_amounts, n)
        held = self.holdings * np.where(np.isfinite(self.equity), self.equity, 0.0)[None, :]
        X = np.where(held > 0, held, X)
        revenue_in = R.sum(axis=1)
        outside = np.maximum(self.revenue_horizon - revenue_in, 0.0)
        cash = np.broadcast_to(self.reported_cash, outside.shape)
        shortfall = np.maximum(L.sum(axis=2) - L.sum(axis=1) - cash - outside, 0.0)
        # a party without figures is assumed to have what it needs (counted as its cash, so that a
        # funding freeze does not make missing data look like a default)
        assumed = np.isin(self.parties, self.assumed_solvent)
        cash = np.where(assumed, cash + shortfall, cash)
        return Assembled(L, revenue_in, X, cash, outside, np.where(self.outside_funding & ~assumed, shortfall, 0.0))


def _quantile(u, low, mode, high, kind):
    """Amounts at quantiles ``u`` (S, F) of each flow's distribution (see :data:`DISTRIBUTIONS`)."""
    low = np.where(np.isnan(low), mode, low)
    high = np.where(np.isnan(high), mode, high)
    width = high - low
    uniform = low + u * width
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(width > 0, (mode - low) / np.where(width > 0, width, 1), 0.5)
        triangular = np.where(u < c, low + np.sqrt(u * width * (mode - low)),
                              high - np.sqrt((1 - u) * width * (high - mode)))
    out = np.where(np.isin(kind, ("up_to", "range")), uniform, np.where(kind == "estimate", triangular, mode))
    return np.where(width > 0, out, mode)


def _scatter(src, dst, values, n):
    """Sum (S, F) flow amounts into (S, n, n) matrices; self-flows are left out."""
    S = values.shape[0]
    keep = src != dst
    flat = np.zeros((S, n * n))
    if not keep.any():
        return flat.reshape(S, n, n)
    index = src[keep] * n + dst[keep]
    if S <= 4:
        for s in range(S):
            flat[s] = np.bincount(index, weights=values[s, keep], minlength=n * n)
    else:  # one sparse product for many samples
        from scipy import sparse

        M = sparse.csr_matrix((np.ones(index.size), (np.arange(index.size), index)), shape=(index.size, n * n))
        flat = np.asarray((M.T @ values[:, keep].T).T)
    return flat.reshape(S, n, n)


def _end(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


def balance_sheets(ledger: Ledger, as_of: date | str | None = None, horizon: int = 5, revenue_growth: float = 0.0,
                   backstop_share: float = 1.0, outside_funding: bool = True) -> BalanceSheets:
    """Obligations, outside assets, stakes and equity values for a stress test.

    Parameters
    ----------
    ledger : the deal ledger (its figures give cash, revenue and equity values)
    as_of : first day of the horizon (default: the ledger's as-of date, else its latest deal)
    horizon : length of the horizon in years
    revenue_growth : yearly growth of outside revenue over the horizon (0: flat at the latest figure)
    backstop_share : share of a backstop (a guarantee to buy unsold capacity) counted as an obligation
    outside_funding : whether the plans are funded: every party raises from outside investors what
        its cash and revenue leave short of its commitments (the baseline against which scenarios
        are measured); False gives only parties without figures such funding

    Notes
    -----
    * Obligations are the flows of deal kinds flagged ``obligation`` (purchases, leases, loans,
      backstops times ``backstop_share``) and the equity investments promised but not completed,
      dated within ``[as_of, as_of + horizon)``, as :meth:`~loopscope.Ledger.flows` spreads them
      over their horizons; undisclosed amounts count 0.
    * Outside revenue is the latest annual revenue (grown by ``revenue_growth`` per year) over the
      horizon, less the revenue the party gets from inside the network in that time (that arrives
      through the clearing itself), never below 0.  Cash is the latest cash figure.
    * Funding is what a party must raise outside (equity, debt) to pay its commitments in full
      when everyone else pays it: ``max(owed − owed to it − cash − outside revenue, 0)``.  With it,
      nobody defaults in the baseline: the network as planned.  Scenarios take it away in part or
      whole (a funding freeze) and show who then fails.  A party with neither a revenue nor a cash
      figure is assumed to hold that amount as cash (the data cannot say whether it can pay; a
      funding freeze should not turn missing data into a default) and listed in ``assumed_solvent``.
    * Debts outside the network are not modelled (no maturities in the data): outside creditors 0.
    """
    from ..analysis.exposure import annual_revenue

    if horizon <= 0:
        raise ValueError(f"horizon must be a positive number of years, not {horizon}")
    if not 0 <= backstop_share <= 1:
        raise ValueError(f"backstop_share must lie in [0, 1], not {backstop_share}")
    if revenue_growth <= -1:
        raise ValueError(f"revenue_growth must be above -1, not {revenue_growth}")
    if as_of is None:
        if not ledger.deals and ledger.as_of_date is None:
            raise ValueError("the ledger has no deals: give the start of the horizon (as_of)")
        as_of = ledger.as_of_date or max(d.announced for d in ledger.deals)
    start = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    end = _end(start, horizon)
    parties = tuple(sorted(p.id for p in ledger.parties))
    index = {p: i for i, p in enumerate(parties)}
    n = len(parties)
    flows = ledger.flows()
    flows = flows[flows["amount_usd"].notna()]
    day = flows["date"].dt.date
    within = (day >= start) & (day < end)
    obligation_kinds = [k for k, v in DEAL_KINDS.items() if v.obligation]
    promised = (flows["kind"] == "equity") & (flows["status"] != "completed")
    due = flows[within & (flows["kind"].isin(obligation_kinds) | promised)]
    stakes = flows[(flows["kind"] == "equity") & (day < end)]

    def table(rows: pd.DataFrame, weights) -> pd.DataFrame:
        return pd.DataFrame({
            "src": rows["src"].map(index).to_numpy(dtype=np.int64), "dst": rows["dst"].map(index).to_numpy(dtype=np.int64),
            "amount": rows["amount_usd"].to_numpy(float), "low": rows["low_usd"].to_numpy(float),
            "high": rows["high_usd"].to_numpy(float), "weight": weights, "kind": rows["kind"].to_numpy(object),
            "revenue": rows["kind"].map(lambda k: DEAL_KINDS[k].revenue).to_numpy(bool),
            "date": rows["date"].dt.date.to_numpy(object), "deal_id": rows["deal_id"].to_numpy(object),
            "amount_kind": rows["amount_kind"].to_numpy(object),
        })

    terms = table(due, np.where(due["kind"] == "backstop", backstop_share, 1.0))
    stake_terms = table(stakes, np.ones(len(stakes)))

    growth = sum((1 + revenue_growth) ** t for t in range(horizon))
    revenue_horizon = np.zeros(n)
    cash = np.zeros(n)
    equity = np.full(n, math.nan)
    assumed = []
    for party, i in index.items():
        revenue, _ = annual_revenue(ledger, party)
        figure = ledger.latest_figure(party, "cash")
        cash[i] = figure.value * ledger.rate(figure.unit, figure.date) if figure is not None else 0.0
        revenue_horizon[i] = 0.0 if math.isnan(revenue) else revenue * growth
        if math.isnan(revenue) and figure is None:
            assumed.append(party)
        for metric in ("market_cap", "valuation"):
            value = ledger.latest_figure(party, metric)
            if value is not None and value.unit not in ("shares", "ratio"):
                equity[i] = value.value * ledger.rate(value.unit, value.date)
                break
    holdings = np.zeros((n, n))
    for deal in ledger.deals:
        if deal.kind not in ("equity", "warrant") or deal.status in CLOSED_STATUSES or deal.announced >= end:
            continue
        share = max((u.value / 100 for u in deal.units or () if u.unit == "percent"), default=0.0)
        holder, issuer = (deal.src, deal.dst) if deal.kind == "equity" else (deal.dst, deal.src)
        if holder != issuer:
            holdings[index[holder], index[issuer]] = max(holdings[index[holder], index[issuer]], min(share, 1.0))
    sheets = BalanceSheets(parties, start, end, np.zeros((n, n)), np.zeros(n), cash, np.zeros(n), np.zeros(n),
                           np.zeros((n, n)), holdings, equity, tuple(assumed), (), terms, stake_terms, revenue_horizon,
                           cash, outside_funding)
    central = sheets.assemble(*sheets.draw(0))
    undisclosed = sum(1 for d in ledger.deals if d.status not in CLOSED_STATUSES and not d.amount.disclosed
                      and (DEAL_KINDS[d.kind].obligation or d.kind == "equity"))
    uncertain = int((terms["amount_kind"].isin(("up_to", "range", "estimate")) & (terms["low"] < terms["high"])).sum())
    assumptions = (
        f"horizon: {start} to {end} ({horizon} years); obligations are the commitments falling due in it "
        "(purchases, leases, loans, backstops and promised equity investments), multi-year deals spread "
        "evenly by calendar year unless the ledger gives a schedule",
        f"backstops count {backstop_share:.0%} of their amount as an obligation",
        f"{undisclosed} commitments of undisclosed amount count 0",
        f"{uncertain} flows have uncertain amounts: central values unless sampled ('up to' at the cap)",
        f"outside revenue: the latest annual revenue, growing {revenue_growth:.0%} a year, less revenue from "
        "inside the network; plus the latest cash figure",
        ("funding: every party raises outside what its cash and revenue leave short of its commitments, "
         "so the plans as announced clear without defaults (the baseline)") if outside_funding else
        "funding: none, except for the parties without figures",
        f"{len(assumed)} parties without revenue or cash figures are assumed able to pay what they owe: "
        + ", ".join(assumed),
        "debts to lenders outside the network are not modelled",
        "equity stakes: the stated percentage of the held party's latest value where the ledger gives one (warrants "
        "as if fully vested; the largest stated percentage per pair), else the amounts invested, up to the horizon's end",
    )
    return BalanceSheets(parties, start, end, central.liabilities[0], central.external_assets[0], central.cash[0],
                         central.outside_revenue[0], central.funding[0], central.exposures[0], holdings, equity,
                         tuple(assumed), assumptions, terms, stake_terms, revenue_horizon, cash, outside_funding)
