"""What a temporal round trip is: the one semantics every scan engine implements.

A *transaction ledger* is a table of payments ``src → dst`` with an ``amount`` and a ``timestamp``
(the shape of a bank's ledger, and of ``Ledger.flows()``).  After loading (``scan.load``) it is held in
time order: transaction ``i`` is the ``i``-th in order of (timestamp, source row), times are integer
microseconds since 1970-01-01 UTC and accounts are integer indices.  Every engine answers the same
question on that table:

**Time-ordered round trip** (``order="time"``, the default; temporal cycles as in Kumar & Calders 2018,
"2SCENT", PVLDB 11(11), and Blanuša, Ienne & Atasu 2022, "Fast parallel algorithms for enumerating
simple, temporal and hop-constrained cycles", SPAA/ACM TOPC): transactions ``e1 … ek`` with

- ``2 <= k <= max_length`` hops;
- ``dst(e_i) = src(e_{i+1})`` and ``dst(e_k) = src(e_1)``: the money comes back to where it started;
- the accounts ``src(e_1) … src(e_k)`` are pairwise distinct (a *simple* cycle; self-transfers
  ``src = dst`` are never part of a round trip);
- timestamps strictly increase: ``t_1 < t_2 < … < t_k``;
- it returns within the window: ``t_k - t_1 <= window`` (inclusive);
- with ``amount_ratio = r``: every hop carries at least ``r`` times the one before,
  ``amount(e_{i+1}) >= r * amount(e_i)`` for ``i < k`` (money passed on minus a cut);
- transactions below ``min_amount`` take no part.

It is listed from its first transaction.

**Any-order round trip** (``order="any"``; the cycles IBM's AMLSim plants, and Snap ML's
``lc-cycle`` feature): the same, except that the timestamps need not increase; all ``k`` transactions
lie within the window (``max t - min t <= window``).  ``amount_ratio`` is not defined for it.  It is
listed from its earliest transaction (the smallest index), then following the money.

Because each account of a simple cycle sends exactly one of its transactions, a set of transactions
forms at most one cycle, so each round trip is counted exactly once.

The *circulated amount* of a round trip is its smallest amount: what demonstrably went all the way
round.  A transaction's *cycle features* count the round trips of each length it takes part in: the
per-length histogram of Snap ML's ``GraphFeaturePreprocessor`` cycle features, whose column sum over
all transactions is ``k`` times the number of round trips of length ``k``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

MICROSECONDS = {"us": 1, "ms": 1_000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000,
                "d": 86_400_000_000, "w": 7 * 86_400_000_000}
_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(us|ms|s|m|h|d|w)\s*")
MAX_LENGTH_LIMIT = 12

Order = Literal["time", "any"]


def parse_duration(text: str) -> int:
    """A duration such as ``7d``, ``24h``, ``90m``, ``30s``, ``1.5h`` or ``2w`` in microseconds.

    >>> parse_duration("7d") == 7 * 24 * 3600 * 10**6
    True
    >>> parse_duration("1.5h")
    5400000000
    """
    match = _DURATION.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration: write a number and a unit, e.g. 7d, 24h, 90m, 30s")
    value = float(match.group(1)) * MICROSECONDS[match.group(2)]
    if value != int(value):
        raise ValueError(f"{text!r} is not a whole number of microseconds")
    return int(value)


def format_duration(microseconds: int) -> str:
    """The shortest exact spelling of a duration.

    >>> format_duration(7 * 86_400_000_000)
    '7d'
    >>> format_duration(36 * 3_600_000_000)
    '36h'
    """
    for unit in ("d", "h", "m", "s", "ms"):
        size = MICROSECONDS[unit]
        if microseconds % size == 0 and microseconds:
            return f"{microseconds // size}{unit}"
    return f"{microseconds}us"


@dataclass(frozen=True)
class ScanSpec:
    """The question a scan answers (see the module docstring for the exact semantics)."""

    window: int = MICROSECONDS["d"] * 7
    """Microseconds from the first to the last transaction of a round trip, inclusive."""
    max_length: int = 6
    min_amount: float = 0.0
    amount_ratio: float | None = None
    order: Order = "time"

    def __post_init__(self) -> None:
        if not isinstance(self.window, (int, np.integer)) or self.window < 0:
            raise ValueError(f"window must be a non-negative number of microseconds, not {self.window!r}")
        if not 2 <= self.max_length <= MAX_LENGTH_LIMIT:
            raise ValueError(f"max_length must be between 2 and {MAX_LENGTH_LIMIT}, not {self.max_length}")
        if not np.isfinite(self.min_amount) or self.min_amount < 0:
            raise ValueError(f"min_amount must be a non-negative number, not {self.min_amount}")
        if self.amount_ratio is not None and not (np.isfinite(self.amount_ratio) and self.amount_ratio > 0):
            raise ValueError(f"amount_ratio must be a positive number, not {self.amount_ratio}")
        if self.order not in ("time", "any"):
            raise ValueError(f"order must be 'time' or 'any', not {self.order!r}")
        if self.order == "any" and self.amount_ratio is not None:
            raise ValueError("amount_ratio needs time order: with order 'any' there is no 'previous hop'")

    def describe(self) -> str:
        parts = [f"window {format_duration(self.window)}", f"2–{self.max_length} hops",
                 "strictly increasing times" if self.order == "time" else "any order within the window"]
        if self.min_amount:
            parts.append(f"amounts ≥ {self.min_amount:g}")
        if self.amount_ratio is not None:
            parts.append(f"each hop ≥ {self.amount_ratio:g} × the previous")
        return ", ".join(parts)


@dataclass(frozen=True)
class Transactions:
    """A validated transaction ledger in time order: the arrays every engine reads.

    Transaction ``i`` is row ``i`` of each array; ``time`` is sorted (ties in source-row order).
    """

    src: np.ndarray
    """int32 account index of the payer."""
    dst: np.ndarray
    """int32 account index of the payee."""
    amount: np.ndarray
    """float64, in the ledger's one currency."""
    time: np.ndarray
    """int64 microseconds since 1970-01-01 UTC, non-decreasing."""

    def __post_init__(self) -> None:
        n = len(self.src)
        if not (len(self.dst) == len(self.amount) == len(self.time) == n):
            raise ValueError("src, dst, amount and time must have the same length")
        if n > 1 and bool(np.any(np.diff(self.time) < 0)):
            raise ValueError("transactions must be in time order")

    def __len__(self) -> int:
        return len(self.src)

    @classmethod
    def from_arrays(cls, src, dst, amount, time) -> "Transactions":
        """Arrays in any order; sorted by time (stable, so ties keep their order)."""
        time = np.asarray(time, dtype=np.int64)
        order = np.argsort(time, kind="stable")
        return cls(np.ascontiguousarray(np.asarray(src, dtype=np.int32)[order]),
                   np.ascontiguousarray(np.asarray(dst, dtype=np.int32)[order]),
                   np.ascontiguousarray(np.asarray(amount, dtype=np.float64)[order]),
                   np.ascontiguousarray(time[order]))


@dataclass(frozen=True)
class Cycles:
    """Round trips as compressed rows: round trip ``j`` is ``edges[offsets[j]:offsets[j+1]]``,
    transaction indices listed from the first transaction, following the money."""

    offsets: np.ndarray
    edges: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def from_lists(cls, cycles) -> "Cycles":
        cycles = list(cycles)
        offsets = np.zeros(len(cycles) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(c) for c in cycles])
        edges = np.fromiter((e for c in cycles for e in c), dtype=np.int64, count=int(offsets[-1]))
        return cls(offsets, edges)

    def to_lists(self) -> list[tuple[int, ...]]:
        return [tuple(int(e) for e in self.edges[a:b]) for a, b in zip(self.offsets[:-1], self.offsets[1:])]

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def sorted(self) -> "Cycles":
        """In canonical order: by first transaction, then the following ones (every engine's output order).

        >>> Cycles.from_lists([(3, 4), (1, 5, 2), (1, 5)]).sorted().to_lists()
        [(1, 5), (1, 5, 2), (3, 4)]
        """
        count = len(self)
        if count < 2:
            return self
        lengths = self.lengths()
        width = int(lengths.max())
        padded = np.full((count, width), -1, dtype=np.int64)
        rows = np.repeat(np.arange(count), lengths)
        cols = np.arange(len(self.edges)) - np.repeat(self.offsets[:-1], lengths)
        padded[rows, cols] = self.edges
        order = np.lexsort(padded.T[::-1])
        edges = padded[order]
        new_lengths = lengths[order]
        offsets = np.zeros(count + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(new_lengths)
        return Cycles(offsets, edges[edges >= 0] if width else edges.ravel())

    @classmethod
    def concatenate(cls, parts) -> "Cycles":
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64))
        edges = np.concatenate([p.edges for p in parts])
        offsets = [np.zeros(1, dtype=np.int64)]
        base = 0
        for p in parts:
            offsets.append(p.offsets[1:] + base)
            base += int(p.offsets[-1])
        return cls(np.concatenate(offsets), edges)


def cycle_features(cycles: Cycles, n_transactions: int, max_length: int) -> np.ndarray:
    """Per transaction, the number of round trips of each length ``2 … max_length`` through it
    (an ``n × (max_length - 1)`` int64 array; column ``k - 2`` is length ``k``).

    >>> c = Cycles.from_lists([(0, 1), (0, 2, 3)])
    >>> cycle_features(c, 4, 3).tolist()
    [[1, 1], [1, 0], [0, 1], [0, 1]]
    """
    features = np.zeros((n_transactions, max_length - 1), dtype=np.int64)
    if len(cycles):
        lengths = np.repeat(cycles.lengths(), cycles.lengths())
        np.add.at(features, (cycles.edges, lengths - 2), 1)
    return features
