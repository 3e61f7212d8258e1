"""Compiled kernels of the memory engine: temporal round trips on a time-sorted edge list.

For every eligible start transaction ``first = (home → v, t0)`` the search

1. checks that ``v`` has any transaction inside the window at all (most starts stop here; one
   sequential merge over each account's incoming and outgoing lists answers this for all starts);
2. runs a hop-bounded *backward* search from ``home`` over the transactions inside the window,
   recording for each account ``x`` and hop budget ``h ≤ H`` the latest time at which ``x`` can still
   leave and reach ``home`` in at most ``h`` hops with increasing times (in any-order mode: whether
   it can reach ``home`` at all in ``h`` hops);
3. runs a forward depth-first search from ``v`` over transactions with later times (any-order mode:
   larger indices) inside the window, along simple paths of at most ``max_length`` hops, extending a
   path only to accounts whose backward record says they can still close the cycle in time.

The backward bound is the "closing times" idea of Kumar & Calders (2018, "2SCENT: an efficient
algorithm for enumerating all simple temporal cycles", PVLDB 11(11)) and of the hop-constrained
search of Blanuša, Ienne & Atasu (2022, "Fast parallel algorithms for enumerating simple, temporal
and hop-constrained cycles", SPAA; ACM TOPC 2023): a necessary condition, so pruning never loses a
round trip.  Start transactions are independent, so they run in parallel threads (numba ``prange``
over threads, each with its own scratch arrays, taking every ``threads``-th start): a first pass counts the round trips of each start, a second pass
re-runs only the starts that have any and writes them where the counts say.  The adjacency lists
carry copies of the times, amounts and endpoints in list order, so the searches read memory in
sequence rather than jumping through edge numbers.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

BACKWARD_BUDGET = 256
"""Most payments the backward search of one start may read.  Around hubs (accounts receiving thousands of
payments a day) a deeper level would cost more than the forward search it prunes; the levels completed
within the budget are used, which is still a valid (weaker) bound."""


@njit(cache=True, inline="always")
def _first_after_time(ptr, times, v, t):
    """Position of ``v``'s first list entry with time > ``t`` (binary search)."""
    lo = ptr[v]
    hi = ptr[v + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if times[mid] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _first_after_index(ptr, edges, v, first):
    """Position of ``v``'s first list entry with edge number > ``first`` (binary search)."""
    lo = ptr[v]
    hi = ptr[v + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if edges[mid] <= first:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _backward(first, mark, home, t0, limit, any_order, levels, iptr, iedge, itime, isrc,
              lat, stamp, frontier, changed, touched):
    """Fill ``lat[h, x]`` (valid where ``stamp[h, x] == mark``) for ``h = 1 … levels``: the latest
    time ``x`` can leave and still reach ``home`` in at most ``h`` hops inside the window.  Returns the
    number of levels filled within ``BACKWARD_BUDGET`` payments read (0: none)."""
    n_touched = 0
    n_front = 0
    p = _first_after_index(iptr, iedge, home, first) if any_order else _first_after_time(iptr, itime, home, t0)
    end = _first_after_time(iptr, itime, home, limit)
    budget = BACKWARD_BUDGET - (end - p)
    if budget < 0:
        return 0
    while p < end:
        t = itime[p]
        if t > limit:
            break
        y = isrc[p]
        if stamp[1, y] != mark:
            stamp[1, y] = mark
            lat[1, y] = t
            touched[n_touched] = y
            n_touched += 1
            frontier[n_front] = y
            n_front += 1
        elif t > lat[1, y]:
            lat[1, y] = t
        p += 1
    for h in range(2, levels + 1):
        for i in range(n_touched):
            x = touched[i]
            stamp[h, x] = mark
            lat[h, x] = lat[h - 1, x]
        n_changed = 0
        for i in range(n_front):
            y = frontier[i]
            bound = lat[h - 1, y]
            q = _first_after_index(iptr, iedge, y, first) if any_order else _first_after_time(iptr, itime, y, t0)
            end = _first_after_time(iptr, itime, y, limit if any_order else bound - 1)
            budget -= end - q
            if budget < 0:
                return h - 1
            while q < end:
                t = itime[q]
                if t > limit or (not any_order and t >= bound):
                    break
                z = isrc[q]
                if z != home:
                    if stamp[h, z] != mark:
                        stamp[h, z] = mark
                        lat[h, z] = t
                        touched[n_touched] = z
                        n_touched += 1
                        changed[n_changed] = z
                        n_changed += 1
                    elif t > lat[h, z]:
                        if not any_order and lat[h, z] == lat[h - 1, z]:
                            changed[n_changed] = z  # improved for the first time at this level
                            n_changed += 1
                        lat[h, z] = t
                q += 1
        for i in range(n_changed):
            frontier[i] = changed[i]
        n_front = n_changed
        if n_front == 0:  # nothing new: the deeper levels equal this one
            for hh in range(h + 1, levels + 1):
                for i in range(n_touched):
                    x = touched[i]
                    stamp[hh, x] = mark
                    lat[hh, x] = lat[h, x]
            break
    return levels


@njit(cache=True, inline="always")
def _can_close(lat, stamp, mark, h, x, t, any_order):
    if stamp[h, x] != mark:
        return False
    return any_order or lat[h, x] > t


@njit(cache=True)
def _from_start(first, mark, home, v0, t0, a0, window, max_length, levels, ratio, any_order,
                optr, oedge, otime, odst, oamt, iptr, iedge, itime, isrc,
                lat, stamp, frontier, changed, touched, on_path, path_node, path_next, path_edge, path_amt,
                fill, out, pos):
    """Round trips whose first transaction is ``first``: their number, and with ``fill`` their
    transactions written to ``out[pos:]`` (each listed from ``first``, following the money)."""
    limit = t0 + window
    start = _first_after_index(optr, oedge, v0, first) if any_order else _first_after_time(optr, otime, v0, t0)
    if levels > 0:
        levels = _backward(first, mark, home, t0, limit, any_order, levels, iptr, iedge, itime, isrc, lat, stamp,
                           frontier, changed, touched)
    k = max_length
    if k - 1 <= levels and not _can_close(lat, stamp, mark, k - 1, v0, t0, any_order):
        return 0
    count = 0
    on_path[home] = True
    on_path[v0] = True
    path_edge[0] = first
    path_amt[0] = a0
    path_node[1] = v0
    path_next[1] = start
    depth = 1
    while depth >= 1:
        u = path_node[depth]
        p = path_next[depth]
        if p < optr[u + 1]:
            t = otime[p]
            if t > limit:
                path_next[depth] = optr[u + 1]
                continue
            path_next[depth] = p + 1
            a = oamt[p]
            if ratio > 0.0 and a < ratio * path_amt[depth - 1]:
                continue
            v = odst[p]
            if v == home:
                if fill:
                    for i in range(depth):
                        out[pos + i] = path_edge[i]
                    out[pos + depth] = oedge[p]
                    pos += depth + 1
                count += 1
            elif not on_path[v] and depth + 1 < k:
                remaining = k - depth - 1
                if remaining <= levels and not _can_close(lat, stamp, mark, remaining, v, t, any_order):
                    continue
                path_edge[depth] = oedge[p]
                path_amt[depth] = a
                depth += 1
                path_node[depth] = v
                on_path[v] = True
                path_next[depth] = (_first_after_index(optr, oedge, v, first) if any_order
                                    else _first_after_time(optr, otime, v, t))
        else:
            if depth > 1:
                on_path[u] = False
            depth -= 1
    on_path[home] = False
    on_path[v0] = False
    return count


@njit(cache=True)
def _lists(key, m, n, time, amount, other):
    """Adjacency lists keyed by ``key`` (src: outgoing, dst: incoming), each in edge order, with the
    times, amounts and other endpoints copied in list order."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(m):
        ptr[key[e] + 1] += 1
    for v in range(n):
        ptr[v + 1] += ptr[v]
    edge = np.empty(m, dtype=np.int64)
    ltime = np.empty(m, dtype=np.int64)
    lamt = np.empty(m, dtype=np.float64)
    lother = np.empty(m, dtype=np.int64)
    fill = ptr[:-1].copy()
    for e in range(m):  # edges are in time order, so each list is too
        q = fill[key[e]]
        edge[q] = e
        ltime[q] = time[e]
        lamt[q] = amount[e]
        lother[q] = other[e]
        fill[key[e]] = q + 1
    return ptr, edge, ltime, lamt, lother


@njit(cache=True)
def _candidates(lo, hi, n, window, any_order, src, dst, optr, oedge, otime, iptr, iedge, itime):
    """Starts in ``[lo, hi)`` whose payee sends anything inside the window afterwards (one merge per
    account of its incoming and outgoing lists)."""
    ok = np.zeros(hi - lo, dtype=np.bool_)
    for v in range(n):
        j = optr[v]
        end = optr[v + 1]
        if j == end:
            continue
        for q in range(iptr[v], iptr[v + 1]):
            e = iedge[q]
            if e >= hi:
                break
            t = itime[q]
            if any_order:
                while j < end and oedge[j] <= e:
                    j += 1
            else:
                while j < end and otime[j] <= t:
                    j += 1
            if j == end:
                break
            if e >= lo and otime[j] <= t + window and src[e] != v:
                ok[e - lo] = True
    return np.flatnonzero(ok) + lo


@njit(cache=True, parallel=True)
def round_trips(src, dst, amount, time, lo, hi, n_accounts, max_length, levels, window, ratio, any_order, threads):
    """Every round trip whose first transaction is in ``[lo, hi)`` (edges numbered ``0 … m-1`` in time
    order; the caller leaves out self-transfers and small amounts).  Returns ``(offsets, edges)``,
    grouped by start in increasing order."""
    m = src.shape[0]
    n = n_accounts
    optr, oedge, otime, oamt, odst = _lists(src, m, n, time, amount, dst)
    iptr, iedge, itime, _, isrc = _lists(dst, m, n, time, amount, src)
    cand = _candidates(lo, hi, n, window, any_order, src, dst, optr, oedge, otime, iptr, iedge, itime)
    s = cand.shape[0]

    h = levels + 1
    lat = np.empty((threads, h, n), dtype=np.int64)
    stamp = np.zeros((threads, h, n), dtype=np.int64)
    frontier = np.empty((threads, n), dtype=np.int64)
    changed = np.empty((threads, n), dtype=np.int64)
    touched = np.empty((threads, n), dtype=np.int64)
    on_path = np.zeros((threads, n), dtype=np.bool_)
    path_node = np.empty((threads, max_length + 1), dtype=np.int64)
    path_next = np.empty((threads, max_length + 1), dtype=np.int64)
    path_edge = np.empty((threads, max_length + 1), dtype=np.int64)
    path_amt = np.empty((threads, max_length + 1), dtype=np.float64)
    dummy = np.empty(0, dtype=np.int64)

    counts = np.zeros(s, dtype=np.int64)
    for tid in prange(threads):  # scratch per thread; starts interleaved so the work balances
        my_lat, my_stamp, my_frontier, my_changed = lat[tid], stamp[tid], frontier[tid], changed[tid]
        my_touched, my_on_path = touched[tid], on_path[tid]
        my_node, my_next, my_edge, my_amt = path_node[tid], path_next[tid], path_edge[tid], path_amt[tid]
        for i in range(tid, s, threads):
            first = cand[i]
            counts[i] = _from_start(first, first + 1, src[first], dst[first], time[first], amount[first], window,
                                    max_length, levels, ratio, any_order, optr, oedge, otime, odst, oamt,
                                    iptr, iedge, itime, isrc, my_lat, my_stamp, my_frontier, my_changed,
                                    my_touched, my_on_path, my_node, my_next, my_edge, my_amt, False, dummy, 0)
    # second pass: only the starts that have round trips, each writing into its own block of
    # count × max_length slots; then the blocks are compacted
    with_any = np.flatnonzero(counts)
    w = with_any.shape[0]
    block = np.zeros(w + 1, dtype=np.int64)
    for j in range(w):
        block[j + 1] = block[j] + counts[with_any[j]] * max_length
    padded = np.empty(block[w], dtype=np.int64)
    for tid in prange(threads):
        my_lat, my_stamp, my_frontier, my_changed = lat[tid], stamp[tid], frontier[tid], changed[tid]
        my_touched, my_on_path = touched[tid], on_path[tid]
        my_node, my_next, my_edge, my_amt = path_node[tid], path_next[tid], path_edge[tid], path_amt[tid]
        for j in range(tid, w, threads):
            first = cand[with_any[j]]
            _from_start(first, first + 1 + m, src[first], dst[first], time[first], amount[first], window,
                        max_length, levels, ratio, any_order, optr, oedge, otime, odst, oamt, iptr, iedge, itime,
                        isrc, my_lat, my_stamp, my_frontier, my_changed, my_touched, my_on_path, my_node, my_next,
                        my_edge, my_amt, True, padded, block[j])
    n_cycles = 0
    for j in range(w):
        n_cycles += counts[with_any[j]]
    offsets = np.zeros(n_cycles + 1, dtype=np.int64)
    edges = np.empty(n_cycles * max_length, dtype=np.int64)
    c = 0
    total = 0
    for j in range(w):
        i = with_any[j]
        home = src[cand[i]]
        p = block[j]
        for _ in range(counts[i]):
            while True:
                e = padded[p]
                edges[total] = e
                total += 1
                p += 1
                if dst[e] == home:
                    break
            c += 1
            offsets[c] = total
    return offsets, edges[:total].copy()
