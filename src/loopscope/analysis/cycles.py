"""Round trips: the simple cycles of the money graph, static and in time order.

:func:`find_cycles` answers "which circles does the money run in, and how much can each carry?".
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, overload

import numpy as np

from .narrative import LANGS, tell_cycle
from .network import FlowNetwork, as_network


@dataclass(frozen=True)
class Step:
    """One step of a round trip: the money going from ``src`` to ``dst``.

    In a static cycle a step is every flow between the two parties (all their deals, summed); in a
    temporal cycle it is one dated flow.  ``amount_usd`` sums the disclosed amounts (NaN when none
    is disclosed), ``low_usd`` the lows, ``high_usd`` the highs (infinite when any amount is
    undisclosed: there is no upper bound).  ``deals`` are ordered by amount, largest first;
    ``undisclosed`` counts the deals without an amount.
    """

    src: Any
    dst: Any
    deals: tuple[str, ...]
    kinds: tuple[str, ...]
    amount_usd: float
    low_usd: float
    high_usd: float
    dates: tuple[date, ...]
    undisclosed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.src, "to": self.dst, "deals": list(self.deals), "kinds": list(self.kinds),
            "amount_usd": _finite(self.amount_usd), "low_usd": _finite(self.low_usd),
            "high_usd": _finite(self.high_usd), "dates": [d.isoformat() for d in self.dates],
            "undisclosed": self.undisclosed,
        }


@dataclass(frozen=True)
class Cycle:
    """A round trip: parties in order (the last pays the first), the steps between them, and the
    circulated amount, the bottleneck along the cycle (``low_usd``/``high_usd`` from the amounts'
    uncertainty; ``amount_usd`` NaN when every deal of a step is undisclosed; when only some are,
    the step counts its disclosed deals, so the amount is a lower bound and ``high_usd`` infinite).

    ``temporal`` says whether the steps happen in time order: for a cycle from the temporal search
    always true; for a static cycle, true when one dated flow per step can be chosen so that, going
    round from some party, each is no earlier than the one before.
    """

    parties: tuple[Any, ...]
    steps: tuple[Step, ...]
    amount_usd: float
    low_usd: float
    high_usd: float
    temporal: bool
    narrative: dict[str, str] = field(compare=False)

    def __len__(self) -> int:
        return len(self.parties)

    @property
    def deals(self) -> list[list[str]]:
        """The deals on every step."""
        return [list(step.deals) for step in self.steps]

    def to_dict(self) -> dict[str, Any]:
        return {
            "parties": list(self.parties), "deals": self.deals, "amount_usd": _finite(self.amount_usd),
            "low_usd": _finite(self.low_usd), "high_usd": _finite(self.high_usd), "temporal": self.temporal,
            "narrative": dict(self.narrative), "steps": [s.to_dict() for s in self.steps],
        }


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else float(value)


class Cycles(Sequence[Cycle]):
    """The cycles found, ranked by circulated amount (largest first; unknown amounts last).

    A sized sequence of :class:`Cycle`; cycles are built when accessed, so millions of them cost
    only their arrays.  ``to_dict()`` gives the JSON shape of ``loopscope cycles --json``;
    ``to_frame()`` one row per cycle.
    """

    def __init__(
        self, network: FlowNetwork, kind: str, offsets: np.ndarray, edges: np.ndarray, order: np.ndarray,
        amount: np.ndarray, low: np.ndarray, high: np.ndarray, step: _Steps, *, max_length: int | None,
        window: timedelta | None, min_amount: float, self_loops: int,
    ):
        self.network = network
        #: ``"static"`` (cycles of the party graph) or ``"temporal"`` (time-ordered cycles of flows)
        self.search = kind
        self._offsets, self._edges, self._order = offsets, edges, order
        self._amount, self._low, self._high = amount, low, high
        self._step = step
        self.max_length = max_length
        self.window = window
        self.min_amount = min_amount
        #: flows from a party to itself, left out of the search (they are not round trips)
        self.self_loops = self_loops

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> Cycle: ...
    @overload
    def __getitem__(self, index: slice) -> list[Cycle]: ...
    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("cycle index out of range")
        c = int(self._order[index])
        return self._step.cycle(
            self._edges[self._offsets[c]:self._offsets[c + 1]], self._amount[c], self._low[c], self._high[c]
        )

    def __iter__(self) -> Iterator[Cycle]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        return f"<Cycles: {len(self)} {self.search} cycles up to length {self.max_length}>"

    def parties(self) -> list[tuple[Any, ...]]:
        """Every cycle's parties, in rank order, without building the cycles' steps."""
        out = []
        for i in range(len(self)):
            c = int(self._order[i])
            out.append(self._step.parties(self._edges[self._offsets[c]:self._offsets[c + 1]]))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"cycles": [cycle.to_dict() for cycle in self]}

    def to_frame(self):
        import pandas as pd

        rows = [
            {
                "rank": rank + 1, "length": len(c), "parties": " → ".join(map(str, c.parties + c.parties[:1])),
                "amount_usd": c.amount_usd, "low_usd": c.low_usd, "high_usd": c.high_usd, "temporal": c.temporal,
                "deals": "; ".join(", ".join(d) for d in c.deals),
            }
            for rank, c in enumerate(self)
        ]
        columns = ["rank", "length", "parties", "amount_usd", "low_usd", "high_usd", "temporal", "deals"]
        return pd.DataFrame(rows, columns=columns)


def find_cycles(
    data: Any,
    max_length: int | None = 6,
    temporal: bool = False,
    window: timedelta | str | int | None = None,
    min_amount: float = 0,
    labels: Sequence[Any] | None = None,
) -> Cycles:
    """Every simple cycle of the money graph up to ``max_length`` parties, ranked by the amount it
    can carry.

    Parameters
    ----------
    data
        A :class:`~loopscope.Ledger`, a flows DataFrame (``src, dst, amount[, low, high, date,
        deal_id, kind]``) or a square matrix with ``W[i][j]`` = amount from i to j (see
        :func:`~loopscope.analysis.as_network`).
    max_length
        Longest cycle, in steps (= parties).  ``None``: no bound (the number of cycles can grow
        exponentially).
    temporal
        False: cycles of the party graph, where a step is all the flows from one party to the next.
        True: round trips in the strict sense, cycles of dated flows, each no earlier than the one
        before, so that the money comes back after it went out.
    window
        With ``temporal``: the longest time from the first step to the last (a timedelta, a number
        of days, or a string such as ``"365d"`` or ``"52w"``).  Flows are dated by day, so the window
        is rounded down to whole days.  Default: no limit.
    min_amount
        Only cycles that can carry at least this much (US dollars): steps smaller than this are
        left out before the search, which is the same thing because a cycle carries its smallest
        step.  With ``min_amount > 0`` steps of undisclosed amount are left out too.
    labels
        Party labels for matrix input.

    Returns
    -------
    Cycles
        A sized sequence of :class:`Cycle`, largest circulated amount first.

    Notes
    -----
    Self-loops (a party paying itself) are not cycles of the money graph: they are left out of
    the search and counted in ``Cycles.self_loops``.  A pair paying each other is a cycle of
    length 2.

    Static cycles are reported once each, as their parties from the smallest party id (label),
    exactly the cycles of ``networkx.simple_cycles(G, length_bound=max_length)`` on the graph
    without self-loops.  Temporal cycles start with the earliest step (when every step has the same
    date, with the smallest party); two flows between the same parties make two temporal cycles.

    The enumeration runs in compiled code: for each start vertex a backward breadth-first search
    bounds the distance back, and a forward depth-first search extends only paths that can still
    close in time, so the work follows the cycles found rather than all paths
    (Johnson 1975; Gupta & Suzumura 2021).  Temporal cycles: Kumar & Calders (2018).

    References
    ----------
    .. [1] D. B. Johnson, "Finding all the elementary circuits of a directed graph",
       SIAM J. Computing 4(1):77-84, 1975.
    .. [2] A. Gupta, T. Suzumura, "Finding All Bounded-Length Simple Cycles in a Directed Graph",
       arXiv:2105.10094, 2021.
    .. [3] R. Kumar, T. Calders, "2SCENT: An Efficient Algorithm for Enumerating All Simple Temporal
       Cycles", PVLDB 11(11):1441-1453, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[0, 100, 0], [0, 0, 80], [50, 30, 0]])
    >>> cycles = find_cycles(W, labels=["a", "b", "c"])
    >>> [(c.parties, c.amount_usd) for c in cycles]
    [(('a', 'b', 'c'), 50.0), (('b', 'c'), 30.0)]
    """
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or max_length < 1
    ):
        raise ValueError(f"max_length must be a whole number of at least 1 (or None), not {max_length!r}")
    if not isinstance(min_amount, (int, float, np.number)) or not min_amount >= 0 or math.isinf(min_amount):
        raise ValueError(f"min_amount must be a finite amount of at least 0, not {min_amount!r}")
    window = parse_window(window)
    if window is not None and not temporal:
        raise ValueError("window only applies to temporal cycles (temporal=True)")
    network = as_network(data, labels)
    loops = network.src == network.dst
    network_without_loops = network.subset(~loops)
    bound = network.n if max_length is None else int(max_length)
    if temporal:
        return _temporal(network_without_loops, network, bound, max_length, window, float(min_amount), int(loops.sum()))
    return _static(network_without_loops, network, bound, max_length, float(min_amount), int(loops.sum()))


_DURATION = re.compile(r"(\d+)\s*(d|days?|w|weeks?)")
_DAYS = {"d": 1, "day": 1, "days": 1, "w": 7, "week": 7, "weeks": 7}


def parse_window(window: Any) -> timedelta | None:
    """A time window from a timedelta, a number of days, or text such as ``365d``, ``52w``,
    ``90 days`` (other durations as pandas reads them, e.g. ``36h``)."""
    if window is None:
        return None
    if isinstance(window, timedelta):
        value = window
    elif isinstance(window, (int, np.integer)) and not isinstance(window, bool):
        value = timedelta(days=int(window))
    elif isinstance(window, str) and (match := _DURATION.fullmatch(window.strip().lower())):
        value = timedelta(days=int(match[1]) * _DAYS[match[2]])
    elif isinstance(window, (str, np.timedelta64)):
        import pandas as pd

        try:
            parsed = pd.Timedelta(window)
            if parsed is pd.NaT:
                raise ValueError
            value = parsed.to_pytimedelta()
        except ValueError:
            raise ValueError(f"window: cannot read {window!r} as a duration (examples: 365d, 52w, 90 days)") from None
    else:
        raise ValueError(f"window must be a timedelta, a number of days or text like '365d', not {window!r}")
    if value < timedelta(0):
        raise ValueError(f"window must not be negative, not {window!r}")
    return value


# ---------------------------------------------------------------------------------------- static
def _static(net: FlowNetwork, full: FlowNetwork, bound: int, max_length, min_amount: float, self_loops: int) -> Cycles:
    from ._cycle_kernels import static_cycles

    n = net.n
    key = net.src * n + net.dst
    pairs, inverse = np.unique(key, return_inverse=True)
    amount, low, high = _pair_amounts(net, inverse, len(pairs))
    keep = np.ones(len(pairs), dtype=bool) if min_amount == 0 else amount >= min_amount
    pairs, amount, low, high = pairs[keep], amount[keep], low[keep], high[keep]
    renumber = np.full(len(keep), -1, dtype=np.int64)
    renumber[keep] = np.arange(int(keep.sum()))
    flow_pair = renumber[inverse]
    psrc, pdst = pairs // n, pairs % n
    indptr = np.concatenate(([0], np.cumsum(np.bincount(psrc, minlength=n)))).astype(np.int64)
    by_dst = np.lexsort((psrc, pdst))
    rindptr = np.concatenate(([0], np.cumsum(np.bincount(pdst, minlength=n)))).astype(np.int64)
    if bound >= 2 and len(pairs):
        _starts, offsets, edges = static_cycles(
            indptr, pdst.astype(np.int64), rindptr, psrc[by_dst].astype(np.int64), bound
        )
    else:
        offsets, edges = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    c_amount, c_low, c_high = _bottlenecks(offsets, edges, amount, low, high)
    order = _rank(c_amount, c_high)
    steps = _Steps(net, "static", psrc, pdst, amount, low, high, flow_pair)
    return Cycles(full, "static", offsets, edges, order, c_amount, c_low, c_high, steps,
                  max_length=max_length, window=None, min_amount=min_amount, self_loops=self_loops)


def _pair_amounts(net: FlowNetwork, inverse: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair: the sum of disclosed amounts (NaN if none is disclosed), of lows, of highs
    (infinite if any amount is undisclosed)."""
    known = ~np.isnan(net.amount)
    amount = np.bincount(inverse, weights=np.where(known, net.amount, 0.0), minlength=count).astype(float)
    disclosed = np.bincount(inverse, weights=known.astype(float), minlength=count)
    amount[disclosed == 0] = np.nan
    low = np.bincount(inverse, weights=np.nan_to_num(net.low, nan=0.0), minlength=count).astype(float)
    high = np.bincount(inverse, weights=np.nan_to_num(net.high, nan=np.inf), minlength=count).astype(float)
    return amount, low, high


def _bottlenecks(offsets, edges, amount, low, high):
    count = len(offsets) - 1
    if count == 0:
        empty = np.zeros(0)
        return empty, empty.copy(), empty.copy()
    starts = offsets[:-1]
    return (np.minimum.reduceat(amount[edges], starts), np.minimum.reduceat(low[edges], starts),
            np.minimum.reduceat(high[edges], starts))


def _rank(amount: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Largest amount first, unknown amounts last (those by their upper bound); ties in search order."""
    unknown = np.isnan(amount)
    primary = np.where(unknown, np.inf, -np.nan_to_num(amount))
    return np.lexsort((np.arange(len(amount)), -high, primary))


# ---------------------------------------------------------------------------------------- temporal
def _temporal(net: FlowNetwork, full: FlowNetwork, bound: int, max_length, window: timedelta | None,
              min_amount: float, self_loops: int) -> Cycles:
    from ._cycle_kernels import temporal_cycles

    dated = ~np.isnat(net.date)
    if min_amount > 0:
        dated &= net.amount >= min_amount
    flows = np.flatnonzero(dated)
    day = net.date[flows].astype(np.int64)
    order = np.argsort(day, kind="stable")
    flows, day = flows[order], day[order]
    src, dst = net.src[flows], net.dst[flows]
    by_src = np.argsort(src, kind="stable")  # keeps time order within each party
    out_ptr = np.concatenate(([0], np.cumsum(np.bincount(src, minlength=net.n)))).astype(np.int64)
    limit = -1 if window is None else int(window // timedelta(days=1))
    if bound >= 2 and len(flows):
        offsets, edges = temporal_cycles(src, dst, day, out_ptr, by_src.astype(np.int64), bound, limit)
    else:
        offsets, edges = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    edges = flows[edges]  # back to flow numbers
    amount = net.amount
    low = np.nan_to_num(net.low, nan=0.0)
    high = np.nan_to_num(net.high, nan=np.inf)
    c_amount, c_low, c_high = _bottlenecks(offsets, edges, amount, low, high)
    rank = _rank(c_amount, c_high)
    steps = _Steps(net, "temporal", net.src, net.dst, amount, low, high, None)
    return Cycles(full, "temporal", offsets, edges, rank, c_amount, c_low, c_high, steps,
                  max_length=max_length, window=window, min_amount=min_amount, self_loops=self_loops)


# ---------------------------------------------------------------------------------------- building cycles
class _Steps:
    """Builds :class:`Cycle` objects from edge sequences: pairs of parties (static) or flows (temporal)."""

    def __init__(self, net: FlowNetwork, kind: str, src, dst, amount, low, high, flow_pair):
        self.net, self.kind = net, kind
        self.src, self.dst = src, dst
        self.amount, self.low, self.high = amount, low, high
        if flow_pair is not None:  # flows of each pair, for the deals on a static step
            valid = flow_pair >= 0
            order = np.argsort(flow_pair[valid], kind="stable")
            self._pair_flows = np.flatnonzero(valid)[order]
            counts = np.bincount(flow_pair[valid], minlength=len(src))
            self._pair_ptr = np.concatenate(([0], np.cumsum(counts)))
        ledger = net.ledger
        self._announced = {d.id: d.announced for d in ledger.deals} if ledger is not None else {}

    def parties(self, edges: np.ndarray) -> tuple[Any, ...]:
        labels = self.net.labels
        return tuple(labels[int(self.src[e])] for e in edges)

    def _flows(self, e: int) -> np.ndarray:
        if self.kind == "temporal":
            return np.array([e])
        return self._pair_flows[self._pair_ptr[e]:self._pair_ptr[e + 1]]

    def step(self, e: int) -> tuple[Step, list[date]]:
        net = self.net
        flows = self._flows(e)
        # deals, largest first (a deal's slices summed), those of undisclosed amount last
        totals: dict[Any, float] = {}
        kinds: dict[Any, str | None] = {}
        undisclosed: set[Any] = set()
        for f in flows:
            deal = net.deal_id[f] if net.deal_id[f] is not None else f"flow {f}"
            value = net.amount[f]
            if np.isnan(value):
                undisclosed.add(deal)
            totals[deal] = totals.get(deal, 0.0) + (0.0 if np.isnan(value) else value)
            kinds[deal] = net.kind[f]
        ordered = sorted(totals, key=lambda d: (d in undisclosed and totals[d] == 0, -totals[d]))
        has_ids = any(net.deal_id[f] is not None for f in flows)
        deals = tuple(str(d) for d in ordered) if has_ids else ()
        step_kinds = tuple(kinds[d] for d in ordered if kinds[d] is not None)
        dates = sorted({_to_date(net.date[f]) for f in flows if not np.isnat(net.date[f])})
        if self.kind == "temporal" or not has_ids:
            shown = [dates[0]] if dates else [None]
        else:
            first = self._announced.get(ordered[0])
            shown = [first] if first is not None else ([dates[0]] if dates else [None])
        step = Step(
            src=net.labels[int(self.src[e])], dst=net.labels[int(self.dst[e])], deals=deals, kinds=step_kinds,
            amount_usd=float(self.amount[e]), low_usd=float(self.low[e]), high_usd=float(self.high[e]),
            dates=tuple(dates), undisclosed=len(undisclosed),
        )
        return step, shown

    def cycle(self, edges: np.ndarray, amount: float, low: float, high: float) -> Cycle:
        built = [self.step(int(e)) for e in edges]
        steps = tuple(s for s, _ in built)
        shown = [d for _, d in built]
        parties = tuple(s.src for s in steps)
        temporal = self.kind == "temporal" or _in_time_order([s.dates for s in steps])
        indices = [int(self.src[e]) for e in edges]
        names = [self.net.name(i) for i in indices]
        narrative = {
            lang: tell_cycle(steps, names, shown, float(amount), float(low), float(high), temporal,
                             self.kind == "temporal", lang)
            for lang in LANGS
        }
        return Cycle(parties, steps, float(amount), float(low), float(high), temporal, narrative)


def _to_date(value: np.datetime64) -> date:
    return value.astype("datetime64[D]").item()


def _in_time_order(step_dates: Sequence[Sequence[date]]) -> bool:
    """Whether one date per step can be chosen so that, going round from some step, each is no
    earlier than the one before (greedy: take the earliest date not before the previous one)."""
    if any(not d for d in step_dates):
        return False
    k = len(step_dates)
    for start in range(k):
        previous = date.min
        for i in range(k):
            dates = step_dates[(start + i) % k]
            position = bisect.bisect_left(dates, previous)
            if position == len(dates):
                break
            previous = dates[position]
        else:
            return True
    return False
