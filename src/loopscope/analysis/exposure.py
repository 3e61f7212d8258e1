"""Per company: where its money comes from, how much of it is its own money coming back, how
concentrated its customers are, and how many years of revenue its commitments would take.

:func:`exposure` turns the network-wide questions into one row per party.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np

from ..ledger.vocabulary import DEAL_KINDS
from .network import FlowNetwork, as_network

REVENUE_KINDS = tuple(k for k, v in DEAL_KINDS.items() if v.revenue)
COMMITMENT_KINDS = tuple(k for k, v in DEAL_KINDS.items() if v.obligation)


@dataclass(frozen=True)
class Backlog:
    """The share of a party's reported backlog (remaining performance obligations) that one
    customer's commitments in the ledger make up: ``commitments_usd / rpo_usd``.

    Only the customer's deals announced on or before the backlog's date count.  An
    approximation, stated as such: a commitment's full amount is set against the backlog, though
    part of it may already be recognised as revenue.
    """

    customer: str
    commitments_usd: float
    rpo_usd: float
    rpo_date: date
    share: float
    deals: tuple[str, ...]
    figure: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ReportedShare:
    """A customer share the sources report (a ``customer_share`` figure)."""

    counterparty: str | None
    of: str | None
    value: float
    low: float | None
    high: float | None
    date: date | None
    kind: str
    figure: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class PartyExposure:
    """One party's exposure.  Amounts in US dollars; shares are fractions (0 … 1).

    * ``inflow_usd``/``outflow_usd``: disclosed money in and out, by deal kind in ``inflows``/``outflows``;
      ``undisclosed_in``/``undisclosed_out`` count the deals whose amount is not known.
    * ``round_tripped_usd``: the most of its inflow that can be its own money coming back, i.e. the
      largest circulation through the party (money that leaves it and returns through the network);
      ``round_tripped_share`` divides it by ``inflow_usd``.  Low and high from the amounts' ranges;
      high is infinite when a flow of undisclosed amount lies on a cycle with the party.
    * ``top_customer``, ``top_customer_share``, ``hhi``: customer concentration of its revenue inflows
      (purchases, leases, backstops it receives), Herfindahl-Hirschman index over customers (0 … 1).
    * ``backlog``: the top customer's share of the reported backlog (see :class:`Backlog`);
      ``reported_shares``: customer shares the sources state.
    * ``commitments_usd``: its outgoing commitments (purchases, leases, backstops, loans);
      ``revenue_usd`` its latest annual revenue (``revenue_basis`` names the figure);
      ``commitment_years`` = commitments / revenue.
    * ``cycles``: how many round trips it sits on; ``top_cycles`` the largest of them.
    """

    party: str
    name: str
    inflow_usd: float
    outflow_usd: float
    inflows: dict[str, float]
    outflows: dict[str, float]
    undisclosed_in: int
    undisclosed_out: int
    round_tripped_usd: float
    round_tripped_low_usd: float
    round_tripped_high_usd: float
    round_tripped_share: float
    top_customer: str | None
    top_customer_share: float
    hhi: float
    customers: int
    backlog: Backlog | None
    reported_shares: tuple[ReportedShare, ...]
    commitments_usd: float
    commitments_low_usd: float
    commitments_high_usd: float
    revenue_usd: float
    revenue_basis: str | None
    commitment_years: float
    cycles: int
    top_cycles: tuple[tuple[str, ...], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


class Exposure(Mapping[str, PartyExposure]):
    """Every party's :class:`PartyExposure`, by party id, largest inflow first."""

    def __init__(self, rows: list[PartyExposure], as_of: date | None):
        self._rows = {r.party: r for r in rows}
        self.as_of = as_of

    def __getitem__(self, party: str) -> PartyExposure:
        return self._rows[party]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat() if self.as_of else None,
                "parties": [row.to_dict() for row in self._rows.values()]}

    def to_frame(self):
        import pandas as pd

        columns = [
            "party", "inflow_usd", "outflow_usd", "round_tripped_usd", "round_tripped_share", "top_customer",
            "top_customer_share", "hhi", "backlog_share", "commitments_usd", "revenue_usd", "commitment_years", "cycles",
        ]
        rows = []
        for r in self._rows.values():
            row = {c: getattr(r, c) for c in columns if c != "backlog_share"}
            row["backlog_share"] = r.backlog.share if r.backlog else float("nan")
            rows.append(row)
        return pd.DataFrame(rows, columns=columns).set_index("party")


def exposure(data: Any, max_length: int = 6) -> Exposure:
    """Per-party exposure: flows by kind, round-tripped inflow, customer concentration, backlog
    share, commitments against revenue and the round trips it sits on.

    Parameters
    ----------
    data
        A :class:`~loopscope.Ledger` (figures give backlog, reported shares and revenue), or a flows
        DataFrame / square matrix (then those are left empty).
    max_length
        Longest round trip counted in ``cycles``.

    Returns
    -------
    Exposure
        A mapping party id → :class:`PartyExposure`, largest inflow first.

    Notes
    -----
    *Round-tripped inflow.*  For party ``v`` the largest circulation ``x`` with ``0 ≤ x ≤ W`` that
    passes through ``v`` (maximise ``v``'s outflow in ``x`` subject to conservation at every
    party): the most money that can leave ``v`` and come back to it, which bounds how much of its
    inflow is its own money returning (vendor financing: A invests in B, B buys from A).  Computed
    as a maximum flow from ``v`` back to ``v`` inside its strongly connected component
    (Edmonds-Karp).  It is the
    per-party counterpart of the network's maximum circulation (see
    :func:`~loopscope.analysis.circulation.max_circulation`) and, unlike a share of one optimal
    circulation, does not depend on which optimum a solver returns.

    *Concentration.*  Revenue inflows are those of deal kinds flagged ``revenue`` in
    :data:`~loopscope.ledger.vocabulary.DEAL_KINDS` (every inflow, when the input has no deal kinds);
    the Herfindahl-Hirschman index is the sum of squared customer shares (1: one customer).

    *Commitments against revenue.*  The party's outgoing deals of kinds flagged ``obligation``
    (all their amounts, whatever the schedule), divided by its latest annual revenue: a 12-month
    ``revenue`` figure or an ``annualized_revenue`` run rate, whichever is later (the reported one on
    a tie).

    References
    ----------
    .. [1] A. O. Hirschman, "The Paternity of an Index", American Economic Review 54(5):761, 1964.
    .. [2] R. K. Ahuja, T. L. Magnanti, J. B. Orlin, *Network Flows*, Prentice Hall, 1993 (circulations).
    .. [3] J. Edmonds, R. M. Karp, "Theoretical improvements in algorithmic efficiency for network
       flow problems", Journal of the ACM 19(2):248-264, 1972.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[0, 10, 0], [4, 0, 6], [0, 0, 0]])  # 0 invests 10 in 1, 1 pays 4 back
    >>> exposure(W)[0].round_tripped_usd
    4.0
    """
    from .cycles import find_cycles

    net = as_network(data)
    ledger = net.ledger
    amount = np.nan_to_num(net.amount, nan=0.0)
    low = np.nan_to_num(net.low, nan=0.0)
    high = np.nan_to_num(net.high, nan=0.0)
    real = net.src != net.dst
    round_trip = _RoundTrips(net)
    cycles = find_cycles(net, max_length=max_length)
    on_cycles: dict[int, list[tuple[str, ...]]] = {}
    index = {label: i for i, label in enumerate(net.labels)}
    for parties in cycles.parties():
        for party in parties:
            on_cycles.setdefault(index[party], []).append(parties)
    rows = []
    for v in range(net.n):
        label = net.labels[v]
        into, out = (net.dst == v) & real, (net.src == v) & real
        inflows, outflows = _by_kind(net, into, amount), _by_kind(net, out, amount)
        inflow, outflow = float(amount[into].sum()), float(amount[out].sum())
        circ, circ_low, circ_high = round_trip.through(v)
        customers, top, top_share, hhi = _concentration(net, into, amount, v)
        commitments = out & np.isin(net.kind.astype(str), COMMITMENT_KINDS)
        revenue, basis = annual_revenue(ledger, label) if ledger is not None else (float("nan"), None)
        committed = float(amount[commitments].sum())
        rows.append(PartyExposure(
            party=label, name=net.name(v), inflow_usd=inflow, outflow_usd=outflow, inflows=inflows,
            outflows=outflows, undisclosed_in=_count(net, into),
            undisclosed_out=_count(net, out), round_tripped_usd=circ, round_tripped_low_usd=circ_low,
            round_tripped_high_usd=circ_high, round_tripped_share=circ / inflow if inflow > 0 else float("nan"),
            top_customer=top, top_customer_share=top_share, hhi=hhi, customers=customers,
            backlog=_backlog(ledger, net, label, top) if ledger is not None and top is not None else None,
            reported_shares=_reported_shares(ledger, label) if ledger is not None else (),
            commitments_usd=committed, commitments_low_usd=float(low[commitments].sum()),
            commitments_high_usd=float(high[commitments].sum()) if not _count(net, commitments) else float("inf"),
            revenue_usd=revenue, revenue_basis=basis,
            commitment_years=committed / revenue if revenue > 0 else float("nan"),
            cycles=len(on_cycles.get(v, [])), top_cycles=tuple(on_cycles.get(v, [])[:5]),
        ))
    rows.sort(key=lambda r: (-r.inflow_usd, str(r.party)))
    return Exposure(rows, ledger.as_of_date if ledger is not None else None)


def _count(net: FlowNetwork, mask: np.ndarray) -> int:
    """Deals (or flows, without deal ids) under ``mask`` whose amount is undisclosed."""
    unknown = mask & np.isnan(net.amount)
    ids = net.deal_id[unknown]
    return len({d for d in ids if d is not None}) + int(sum(1 for d in ids if d is None))


def _by_kind(net: FlowNetwork, mask: np.ndarray, amount: np.ndarray) -> dict[str, float]:
    totals: dict[str, float] = {}
    for kind, value in zip(net.kind[mask], amount[mask], strict=True):
        key = "flow" if kind is None else str(kind)
        totals[key] = totals.get(key, 0.0) + float(value)
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def _concentration(net: FlowNetwork, into: np.ndarray, amount: np.ndarray, v: int):
    kinds = net.kind[into]
    revenue = np.array([k is None or k in REVENUE_KINDS for k in kinds], dtype=bool)
    payers = net.src[into][revenue]
    values = amount[into][revenue]
    if values.sum() <= 0:
        return 0, None, float("nan"), float("nan")
    per_customer = np.bincount(payers, weights=values, minlength=net.n)
    shares = per_customer / per_customer.sum()
    top = int(np.argmax(shares))
    return int((per_customer > 0).sum()), net.labels[top], float(shares[top]), float((shares**2).sum())


#: Days a fiscal year of 52 or 53 weeks, or a calendar year, can have (a 53-week year has 371).
YEAR_DAYS = (350, 380)


def annual_revenue_figure(ledger, party: str):
    """A party's latest annual revenue figure: a ``revenue`` figure over one fiscal year
    (:data:`YEAR_DAYS`) or an ``annualized_revenue`` run rate, whichever is later (reported on a
    tie); None without either.  Quarters and half years are never taken for a year."""
    candidates = []
    for figure in ledger.figures_of(party):
        if figure.metric == "revenue" and figure.period is not None:
            days = (figure.period.end - figure.period.start).days + 1
            if YEAR_DAYS[0] <= days <= YEAR_DAYS[1]:
                candidates.append((figure.period.end, 1, figure))
        elif figure.metric == "annualized_revenue" and figure.date is not None:
            candidates.append((figure.date, 0, figure))
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c[0], c[1]))[2]


def annual_revenue(ledger, party: str) -> tuple[float, str | None]:
    """A party's latest annual revenue in US dollars and the figure it comes from
    (:func:`annual_revenue_figure`); NaN and None without one."""
    figure = annual_revenue_figure(ledger, party)
    if figure is None:
        return float("nan"), None
    day = figure.as_of
    value = figure.value * (ledger.rate(figure.unit, day) if figure.unit != "USD" else 1.0)
    return float(value), f"{figure.id} ({figure.metric}, {day.isoformat()})"


def _backlog(ledger, net: FlowNetwork, party: str, customer: str) -> Backlog | None:
    rpo = ledger.latest_figure(party, "rpo")
    if rpo is None or rpo.value <= 0:
        return None
    deals = [
        d for d in ledger.deals
        if d.src == customer and d.dst == party and DEAL_KINDS[d.kind].revenue and d.announced <= rpo.date
        and d.status not in ("superseded", "cancelled") and d.amount.disclosed
    ]
    if not deals:
        return None
    total = sum(ledger.to_usd(d.amount, d.announced)[0] or 0.0 for d in deals)
    rpo_usd = rpo.value * (ledger.rate(rpo.unit, rpo.date) if rpo.unit != "USD" else 1.0)
    sources = tuple(dict.fromkeys([s.url for s in rpo.sources] + [s.url for d in deals for s in d.sources]))
    return Backlog(customer, float(total), float(rpo_usd), rpo.date, float(total / rpo_usd),
                   tuple(d.id for d in deals), rpo.id, sources)


def _reported_shares(ledger, party: str) -> tuple[ReportedShare, ...]:
    return tuple(
        ReportedShare(f.counterparty, f.of, f.value, f.low, f.high, f.date, f.kind, f.id, tuple(s.url for s in f.sources))
        for f in sorted(ledger.figures_of(party, "customer_share"), key=lambda f: f.date or date.min)
    )


class _RoundTrips:
    """The largest circulation through each party: a maximum flow from the party (leaving by its
    out-edges) back to itself (arriving by its in-edges), inside its strongly connected component.

    Edmonds-Karp (shortest augmenting paths, so it terminates on real-valued capacities;
    Edmonds & Karp 1972).  Ledger-sized graphs: pure Python is fast enough and exact up to rounding.
    """

    def __init__(self, net: FlowNetwork):
        from scipy.sparse.csgraph import connected_components

        self.W = {column: net.matrix(column).tocoo() for column in ("amount", "low", "high")}
        self.count, self.component = connected_components(net.graph(), directed=True, connection="strong")
        # components holding a flow of undisclosed amount: there the upper bound is open
        unknown = np.isnan(net.amount) & (net.src != net.dst)
        inside = self.component[net.src[unknown]] == self.component[net.dst[unknown]]
        self.open = set(self.component[net.src[unknown]][inside].tolist())

    def through(self, v: int) -> tuple[float, float, float]:
        amount, low, high = (self._max_flow(v, self.W[c]) for c in ("amount", "low", "high"))
        if self.component[v] in self.open:
            high = float("inf")  # an undisclosed flow could carry more round
        return amount, low, high

    def _max_flow(self, v: int, W) -> float:
        home = self.component[v]
        sink = -1  # v as the end of the loop
        residual: dict[int, dict[int, float]] = {}
        for a, b, capacity in zip(W.row.tolist(), W.col.tolist(), W.data.tolist(), strict=True):
            if capacity <= 0 or self.component[a] != home or self.component[b] != home:
                continue
            b = sink if b == v else b
            residual.setdefault(a, {})
            residual[a][b] = residual[a].get(b, 0.0) + capacity
            residual.setdefault(b, {}).setdefault(a, 0.0)
        if v not in residual or sink not in residual:
            return 0.0
        tolerance = 1e-12 * max(c for edges in residual.values() for c in edges.values())
        total = 0.0
        while True:
            parent = {v: v}
            queue = [v]
            for node in queue:  # breadth-first: shortest augmenting path
                if sink in parent:
                    break
                for nxt, capacity in residual[node].items():
                    if capacity > tolerance and nxt not in parent:
                        parent[nxt] = node
                        queue.append(nxt)
            if sink not in parent:
                return total
            path, node = [], sink
            while node != v:
                path.append((parent[node], node))
                node = parent[node]
            push = min(residual[a][b] for a, b in path)
            for a, b in path:
                residual[a][b] -= push
                residual[b][a] += push
            total += push
