"""The memory engine: the round-trip search as a compiled, multi-threaded kernel (``_kernels.py``).

The fastest engine when a chunk of the ledger fits in memory; the scan driver feeds it the ledger
chunk by chunk, so memory is bounded by the window, not by the ledger.
"""

from __future__ import annotations

import numpy as np

from .prepared import PreparedLedger
from .spec import Cycles, ScanSpec, Transactions

BACKWARD_LEVELS = 2
"""Hop budgets of the backward closing-time search (at most ``max_length - 1``).  More levels prune
more of the forward search but cost more per start; see ``benchmarks/scan.py``."""


def find_round_trips(tx: Transactions, spec: ScanSpec, starts: slice | None = None,
                     *, levels: int | None = None) -> Cycles:
    """Every round trip of ``tx`` (see ``scan.spec``) whose first transaction is in ``starts``
    (default: all), in canonical order; transactions are numbered as in ``tx``.

    >>> tx = Transactions.from_arrays([0, 1, 2, 0], [1, 2, 0, 1], [10., 9., 8., 1.], [0, 5, 9, 20])
    >>> find_round_trips(tx, ScanSpec(window=10, max_length=3)).to_lists()
    [(0, 1, 2)]
    """
    n = len(tx)
    lo, hi = (0, n) if starts is None else (starts.start or 0, n if starts.stop is None else min(starts.stop, n))
    eligible = (tx.amount >= spec.min_amount) & (tx.src != tx.dst)
    if bool(eligible.all()):
        keep = None
        src, dst, amount, time = tx.src, tx.dst, tx.amount, tx.time
    else:
        keep = np.flatnonzero(eligible)
        src, dst, amount, time = tx.src[keep], tx.dst[keep], tx.amount[keep], tx.time[keep]
        lo, hi = (int(i) for i in np.searchsorted(keep, [lo, hi]))
    if len(src) == 0 or lo >= hi:
        return Cycles.concatenate([])
    src = src.astype(np.int64)
    dst = dst.astype(np.int64)
    n_accounts = int(max(src.max(), dst.max())) + 1
    if n_accounts > 2 * len(src) + 1024:  # a chunk of a big ledger: number its accounts densely
        accounts, inverse = np.unique(np.concatenate([src, dst]), return_inverse=True)
        src, dst, n_accounts = inverse[: len(src)], inverse[len(src):], len(accounts)
    depth = max(0, min(spec.max_length - 1, BACKWARD_LEVELS if levels is None else levels))
    import numba

    from ._kernels import round_trips

    offsets, edges = round_trips(np.ascontiguousarray(src), np.ascontiguousarray(dst), np.ascontiguousarray(amount),
                                 np.ascontiguousarray(time), lo, hi, n_accounts, spec.max_length, depth, int(spec.window),
                                 float(spec.amount_ratio or 0.0), spec.order == "any",
                                 numba.get_num_threads())
    return Cycles(offsets, edges if keep is None else keep[edges]).sorted()


class MemoryEngine:
    """The memory engine over a prepared ledger: ``find(lo, hi)`` reads transactions ``lo …`` up to
    the end of the window of ``hi - 1`` and searches from the starts in ``[lo, hi)``."""

    name = "memory"

    def __init__(self, prepared: PreparedLedger, spec: ScanSpec, *, threads: int | None = None) -> None:
        self.prepared = prepared
        self.spec = spec
        self.threads = threads
        self._timeline = prepared.timeline()

    def reach(self, hi: int) -> int:
        """One past the last transaction a search from starts before ``hi`` can use."""
        if hi <= 0:
            return 0
        return self._timeline.first_after(self._timeline.time_of(hi - 1) + self.spec.window)

    def find(self, lo: int, hi: int) -> Cycles:
        end = self.reach(hi)
        tx = self.prepared.read(lo, end)
        if self.threads:
            import numba

            before = numba.get_num_threads()
            numba.set_num_threads(self.threads)
        try:
            found = find_round_trips(tx, self.spec, slice(0, hi - lo))
        finally:
            if self.threads:
                numba.set_num_threads(before)
        return Cycles(found.offsets, found.edges + lo)

    def close(self) -> None:
        pass

    def __enter__(self) -> "MemoryEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
