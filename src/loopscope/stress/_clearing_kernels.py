"""Compiled (numba) kernel of the fictitious default algorithm, over many scenarios in parallel.

Called by :mod:`loopscope.stress.clearing`; nothing here validates input.  Each scenario is cleared
on its own (the loop over scenarios runs in parallel threads), so the scenarios may share one
network or each bring their own (Monte Carlo samples of uncertain amounts).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _solve_in_place(a, b):
    """Solve ``a x = b`` by Gaussian elimination with partial pivoting; ``b`` becomes ``x``.

    Returns False (and leaves garbage) when a pivot is negligible: the system is singular, which
    happens when the defaulting firms form a closed group paying only among themselves."""
    m = b.shape[0]
    for k in range(m):
        pivot = k
        best = abs(a[k, k])
        for r in range(k + 1, m):
            if abs(a[r, k]) > best:
                best = abs(a[r, k])
                pivot = r
        if best < 1e-12:
            return False
        if pivot != k:
            for c in range(m):
                a[k, c], a[pivot, c] = a[pivot, c], a[k, c]
            b[k], b[pivot] = b[pivot], b[k]
        for r in range(k + 1, m):
            f = a[r, k] / a[k, k]
            if f != 0.0:
                for c in range(k, m):
                    a[r, c] -= f * a[k, c]
                b[r] -= f * b[k]
    for k in range(m - 1, -1, -1):
        total = b[k]
        for c in range(k + 1, m):
            total -= a[k, c] * b[c]
        b[k] = total / a[k, k]
    return True


@njit(cache=True)
def _clear_one(pi, owed, inflow_full, e, alpha, beta, p, received, first_round):
    """Clear one scenario in place: ``p`` (payments), ``received`` (what each firm is paid by the
    others) and ``first_round``; returns the rounds used.

    ``pi[i, j]``: share of i's payments that goes to j; ``owed[i]``: what i owes in all;
    ``inflow_full[j]``: what j receives when everyone pays in full (``owed @ pi``)."""
    n = owed.shape[0]
    state = np.zeros(n, dtype=np.int8)
    members = np.empty(n, dtype=np.int64)
    for i in range(n):
        p[i] = owed[i]
        first_round[i] = 0
    rounds = 0
    for round_ in range(1, n + 2):
        # what each firm has: outside assets + what the others pay in; the firms paying in full
        # contribute inflow_full, the defaulters only what they pay
        for j in range(n):
            received[j] = inflow_full[j]
        d = 0
        for i in range(n):
            if state[i] == 1:
                members[d] = i
                d += 1
                short = owed[i] - p[i]
                if short != 0.0:
                    for j in range(n):
                        received[j] -= short * pi[i, j]
        fresh = 0
        for j in range(n):
            if state[j] == 0 and e[j] + received[j] < owed[j] - 1e-12 * max(owed[j], 1.0):
                state[j] = 1
                first_round[j] = round_
                members[d + fresh] = j
                fresh += 1
        if fresh == 0:
            break
        rounds = round_
        d += fresh
        # the defaulters pay alpha·e + beta·(inflow from full payers + from defaulters): solve exactly
        a = np.empty((d, d))
        b = np.empty(d)
        for r in range(d):
            i = members[r]
            inflow_fixed = inflow_full[i]
            for c in range(d):
                inflow_fixed -= owed[members[c]] * pi[members[c], i]
            b[r] = alpha * e[i] + beta * inflow_fixed
            for c in range(d):
                a[r, c] = -beta * pi[members[c], i]
            a[r, r] += 1.0
        keep = b.copy()
        if not _solve_in_place(a, b):
            # a closed group of defaulters: its greatest clearing is the largest fixed point,
            # reached from above by monotone iteration (Eisenberg & Noe 2001, Theorem 2)
            x = np.empty(d)
            for r in range(d):
                x[r] = p[members[r]]
            for _ in range(1000 * n + 10000):
                moved = False
                for r in range(d):
                    i = members[r]
                    total = keep[r]
                    for c in range(d):
                        total += beta * pi[members[c], i] * x[c]
                    nxt = min(owed[i], max(total, 0.0))
                    if abs(nxt - x[r]) > 1e-14 * max(abs(x[r]), 1e-300):
                        moved = True
                    x[r] = nxt
                if not moved:
                    break
            for r in range(d):
                b[r] = x[r]
        for r in range(d):
            p[members[r]] = min(max(b[r], 0.0), owed[members[r]])
    return rounds


@njit(cache=True, parallel=True)
def clear_many(pi, owed, e, alpha, beta):
    """Clear every scenario of ``e`` (S, n); ``pi`` (K, n, n) and ``owed`` (K, n) with K = 1 (one
    network for all) or K = S (a network per scenario).

    Returns, each (S, n): payments; book equity (everyone pays in full: ``e + inflow − owed``);
    equity after clearing (``e + received − owed``); losses (``inflow − received``); whether the
    firm defaulted; the round it was first found short (0: did not default); and the rounds per
    scenario (S,).  Computed here, in parallel, rather than by numpy afterwards: for a million
    scenarios the temporaries would cost more than the clearing."""
    S, n = e.shape
    K = pi.shape[0]
    inflow = np.zeros((K, n))
    for k in range(K):
        for i in range(n):
            for j in range(n):
                inflow[k, j] += owed[k, i] * pi[k, i, j]
    p = np.empty((S, n))
    book = np.empty((S, n))
    equity = np.empty((S, n))
    losses = np.empty((S, n))
    defaulted = np.empty((S, n), dtype=np.bool_)
    default_round = np.empty((S, n), dtype=np.int32)
    rounds = np.zeros(S, dtype=np.int64)
    for s in prange(S):
        k = np.int64(s) * np.int64(K > 1)
        received = np.empty(n)
        first = np.empty(n, dtype=np.int64)
        rounds[s] = _clear_one(pi[k], owed[k], inflow[k], e[s], alpha, beta, p[s], received, first)
        for j in range(n):
            o = owed[k, j]
            book[s, j] = e[s, j] + (inflow[k, j] - o)
            equity[s, j] = e[s, j] + (received[j] - o)
            losses[s, j] = inflow[k, j] - received[j]
            short = p[s, j] < o - 1e-9 * max(o, 1.0)
            defaulted[s, j] = short
            default_round[s, j] = first[j] if short else 0
    return p, book, equity, losses, defaulted, default_round, rounds
