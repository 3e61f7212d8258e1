"""Compiled (numba) kernels that enumerate cycles; called by :mod:`loopscope.analysis.cycles`.

Both kernels return cycles as flat arrays: ``offsets`` (length ``count + 1``) and ``edges``, so that
cycle ``c`` is the edge sequence ``edges[offsets[c]:offsets[c + 1]]``.  Nothing here knows about
parties, deals or amounts.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _grow(array, needed):
    """``array`` with room for at least ``needed`` entries (doubling), contents kept."""
    if needed <= array.shape[0]:
        return array
    size = max(needed, 2 * array.shape[0])
    bigger = np.empty(size, dtype=array.dtype)
    bigger[: array.shape[0]] = array
    return bigger


@njit(cache=True)
def static_cycles(indptr, indices, rindptr, rindices, max_length):
    """Every simple cycle of 2 … ``max_length`` edges of a directed graph without self-loops.

    The graph is given twice in CSR form: ``indptr/indices`` (out-neighbours) and
    ``rindptr/rindices`` (in-neighbours, the transpose).  Each cycle is reported once, starting at
    its smallest vertex ``s``, as the CSR positions of its edges (``indices[p]`` is the head of
    edge ``p``).

    Method: for each start ``s`` in increasing order, a breadth-first search backwards from ``s``
    over vertices greater than ``s`` gives every vertex's distance to ``s`` (up to
    ``max_length - 1``); a depth-first search forwards from ``s`` then extends a simple path only
    to vertices that can still close the cycle within the bound (``depth + 1 + dist <= k``).  This
    is the distance pruning of hop-constrained cycle search (Gupta & Suzumura 2021, "Finding All
    Bounded-Length Simple Cycles in a Directed Graph", arXiv:2105.10094; Peng et al. 2019, VLDB),
    applied to Johnson's (1975) rule that a cycle is found from its smallest vertex only.

    Returns ``(starts, offsets, edges)``.
    """
    n = indptr.shape[0] - 1
    k = max_length
    stamp = np.full(n, -1, dtype=np.int64)
    dist = np.zeros(n, dtype=np.int64)
    on_path = np.zeros(n, dtype=np.bool_)
    queue = np.empty(max(n, 1), dtype=np.int64)
    path_node = np.empty(k + 1, dtype=np.int64)
    path_next = np.empty(k + 1, dtype=np.int64)
    path_edge = np.empty(k + 1, dtype=np.int64)
    starts = np.empty(64, dtype=np.int64)
    offsets = np.empty(65, dtype=np.int64)
    edges = np.empty(256, dtype=np.int64)
    offsets[0] = 0
    count = 0
    total = 0
    for s in range(n):
        # distances to s, backwards, through vertices > s
        stamp[s] = s
        dist[s] = 0
        head = 0
        tail = 1
        queue[0] = s
        while head < tail:
            v = queue[head]
            head += 1
            dv = dist[v]
            if dv >= k - 1:
                continue
            for p in range(rindptr[v], rindptr[v + 1]):
                u = rindices[p]
                if u > s and stamp[u] != s:
                    stamp[u] = s
                    dist[u] = dv + 1
                    queue[tail] = u
                    tail += 1
        if tail == 1:
            continue
        # simple paths forward from s that can still come back
        depth = 0
        path_node[0] = s
        path_next[0] = indptr[s]
        on_path[s] = True
        while depth >= 0:
            u = path_node[depth]
            p = path_next[depth]
            if p < indptr[u + 1]:
                path_next[depth] = p + 1
                v = indices[p]
                if v == s:
                    if depth >= 1:
                        length = depth + 1
                        starts = _grow(starts, count + 1)
                        offsets = _grow(offsets, count + 2)
                        edges = _grow(edges, total + length)
                        for i in range(depth):
                            edges[total + i] = path_edge[i]
                        edges[total + depth] = p
                        total += length
                        starts[count] = s
                        count += 1
                        offsets[count] = total
                elif v > s and stamp[v] == s and not on_path[v] and depth + 1 + dist[v] <= k:
                    path_edge[depth] = p
                    depth += 1
                    path_node[depth] = v
                    path_next[depth] = indptr[v]
                    on_path[v] = True
            else:
                on_path[u] = False
                depth -= 1
    return starts[:count].copy(), offsets[: count + 1].copy(), edges[:total].copy()


@njit(cache=True)
def _first_not_before(out_ptr, out_edges, time, v, t):
    """Position in ``out_edges`` of ``v``'s first out-edge at time ``t`` or later (binary search)."""
    lo = out_ptr[v]
    hi = out_ptr[v + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if time[out_edges[mid]] < t:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def temporal_cycles(src, dst, time, out_ptr, out_edges, max_length, window):
    """Every temporal cycle of 2 … ``max_length`` edges: a simple cycle of edges whose times do not
    decrease along it and whose last edge is at most ``window`` after its first (``window < 0``:
    no limit).

    Edges are numbered ``0 … m-1`` and must be sorted by ``time``; ``out_ptr/out_edges`` list each
    vertex's outgoing edges in increasing time (CSR).  There are no self-loops.

    A cycle is reported once, from its first edge in time (an edge of the earliest time after
    which the times never decrease going round).  When all its edges have the same time every
    rotation qualifies; then only the rotation starting at its smallest vertex is reported.

    Method: depth-first search from each edge over edges no earlier than the one before and within
    the window, vertex-simple, bounded by ``max_length`` (the time-respecting path search of
    Kumar & Calders 2018, "2SCENT: an efficient algorithm for enumerating all simple temporal
    cycles", PVLDB 11(11), without their source-detection phase).

    Returns ``(offsets, edges)``.
    """
    n = out_ptr.shape[0] - 1
    m = src.shape[0]
    k = max_length
    on_path = np.zeros(n, dtype=np.bool_)
    path_node = np.empty(k + 1, dtype=np.int64)
    path_next = np.empty(k + 1, dtype=np.int64)
    path_edge = np.empty(k + 1, dtype=np.int64)
    offsets = np.empty(65, dtype=np.int64)
    edges = np.empty(256, dtype=np.int64)
    offsets[0] = 0
    count = 0
    total = 0
    for first in range(m):
        s = src[first]
        t0 = time[first]
        limit = t0 + window
        on_path[s] = True
        path_edge[0] = first
        depth = 1
        v0 = dst[first]
        on_path[v0] = True
        path_node[1] = v0
        path_next[1] = _first_not_before(out_ptr, out_edges, time, v0, t0)
        while depth >= 1:
            u = path_node[depth]
            p = path_next[depth]
            if p < out_ptr[u + 1]:
                e = out_edges[p]
                t = time[e]
                if window >= 0 and t > limit:
                    path_next[depth] = out_ptr[u + 1]
                    continue
                path_next[depth] = p + 1
                v = dst[e]
                if v == s:
                    accept = True
                    if t == t0:  # every edge has the same time: report from the smallest vertex only
                        for i in range(1, depth + 1):
                            if path_node[i] < s:
                                accept = False
                                break
                    if accept:
                        length = depth + 1
                        offsets = _grow(offsets, count + 2)
                        edges = _grow(edges, total + length)
                        for i in range(depth):
                            edges[total + i] = path_edge[i]
                        edges[total + depth] = e
                        total += length
                        count += 1
                        offsets[count] = total
                elif not on_path[v] and depth + 1 < k:
                    path_edge[depth] = e
                    depth += 1
                    path_node[depth] = v
                    on_path[v] = True
                    path_next[depth] = _first_not_before(out_ptr, out_edges, time, v, t)
            else:
                on_path[u] = False
                depth -= 1
        on_path[s] = False
    return offsets[: count + 1].copy(), edges[:total].copy()
