"""Reference searches for round trips, written for clarity, not speed: the yardstick of the engines.

``brute_force`` tries every set of 2 … ``max_length`` transactions (for ledgers of a few dozen
transactions); ``depth_first`` extends paths one transaction at a time with no pruning beyond the
definition (for a few thousand).  Both follow ``scan.spec`` literally and share no code with the engines.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from .spec import Cycles, ScanSpec, Transactions


def _eligible(tx: Transactions, spec: ScanSpec) -> list[int]:
    return [i for i in range(len(tx)) if tx.amount[i] >= spec.min_amount and tx.src[i] != tx.dst[i]]


def _qualifies(tx: Transactions, spec: ScanSpec, sequence: list[int]) -> bool:
    times = [int(tx.time[e]) for e in sequence]
    if max(times) - min(times) > spec.window:
        return False
    if spec.order == "time":
        if any(b <= a for a, b in zip(times, times[1:])):
            return False
        if spec.amount_ratio is not None:
            amounts = [float(tx.amount[e]) for e in sequence]
            if any(b < spec.amount_ratio * a for a, b in zip(amounts, amounts[1:])):
                return False
    return True


def brute_force(tx: Transactions, spec: ScanSpec) -> Cycles:
    """Every round trip, by trying every set of transactions (exponential: tiny ledgers only)."""
    found = []
    eligible = _eligible(tx, spec)
    for k in range(2, spec.max_length + 1):
        for subset in combinations(eligible, k):
            by_src = {}
            for e in subset:
                by_src[int(tx.src[e])] = e
            if len(by_src) != k:
                continue  # an account sends twice: not a simple cycle
            sequence = [subset[0]]  # combinations are sorted: subset[0] is the earliest
            while len(sequence) <= k:
                nxt = by_src.get(int(tx.dst[sequence[-1]]))
                if nxt is None or nxt == subset[0]:
                    break
                sequence.append(nxt)
            if len(sequence) != k or int(tx.dst[sequence[-1]]) != int(tx.src[subset[0]]):
                continue
            if _qualifies(tx, spec, sequence):
                found.append(tuple(sequence))
    return Cycles.from_lists(sorted(found))


def depth_first(tx: Transactions, spec: ScanSpec) -> Cycles:
    """Every round trip, by extending paths from each transaction over later-listed ones (plain Python)."""
    eligible = _eligible(tx, spec)
    out: dict[int, list[int]] = {}
    for e in eligible:
        out.setdefault(int(tx.src[e]), []).append(e)
    found = []
    for first in eligible:
        home = int(tx.src[first])
        limit = int(tx.time[first]) + spec.window
        stack = [[first]]
        while stack:
            path = stack.pop()
            last = path[-1]
            here = int(tx.dst[last])
            visited = {int(tx.src[e]) for e in path}
            for e in out.get(here, ()):
                if e <= first or int(tx.time[e]) > limit:
                    continue
                if spec.order == "time":
                    if tx.time[e] <= tx.time[last]:
                        continue
                    if spec.amount_ratio is not None and tx.amount[e] < spec.amount_ratio * tx.amount[last]:
                        continue
                if int(tx.dst[e]) == home:
                    found.append(tuple(path + [e]))
                elif int(tx.dst[e]) not in visited and len(path) + 1 < spec.max_length:
                    stack.append(path + [e])
    return Cycles.from_lists(sorted(found))


def random_transactions(rng: np.random.Generator, n_accounts: int, n_transactions: int,
                        time_span: int, *, amount_scale: float = 100.0) -> Transactions:
    """A random small ledger (for tests): uniform accounts, integer times in ``[0, time_span)``,
    so that equal timestamps occur, and log-normal amounts."""
    src = rng.integers(0, n_accounts, n_transactions)
    dst = rng.integers(0, n_accounts, n_transactions)
    time = rng.integers(0, max(time_span, 1), n_transactions)
    amount = np.round(rng.lognormal(np.log(amount_scale), 0.5, n_transactions), 2)
    return Transactions.from_arrays(src, dst, amount, time)
