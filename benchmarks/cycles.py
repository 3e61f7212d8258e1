"""Benchmark: round-trip enumeration against networkx and python-igraph, identical output checked.

    python3 benchmarks/run.py cycles [--quick]

Goals from the round-trip issue: at least 100x faster than ``networkx.simple_cycles(length_bound=4)``
on 2,000 nodes and 10,000 edges, and at least 2x faster than igraph's ``Graph.simple_cycles`` (C)
for k = 3 … 6 on 100,000 and 1,000,000 edges.  Graphs: uniform random simple digraphs without
self-loops, 5 edges per node.  loopscope's time is ``find_cycles(matrix, max_length=k)`` from the
sparse matrix (input conversion, enumeration, bottleneck amounts and ranking) plus reading every
cycle's parties; the peers' time is their enumeration to Python lists.  Building each library's graph
object is left out for all.  The one-off compile time of the kernel is measured apart, in a fresh
process with an empty numba cache.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp

_COMPILE = r"""
import time, numpy as np
start = time.perf_counter()
from loopscope.analysis.cycles import find_cycles
find_cycles(np.array([[0, 1.0], [1.0, 0]]), max_length=3)
find_cycles(np.array([[0, 1.0], [1.0, 0]]), temporal=True)
print(time.perf_counter() - start)
"""


def random_digraph(n: int, m: int, seed: int) -> np.ndarray:
    """``m`` distinct edges (src, dst), src ≠ dst, uniformly at random among ``n`` nodes."""
    rng = np.random.default_rng(seed)
    edges = np.empty((0, 2), dtype=np.int64)
    while len(edges) < m:
        extra = rng.integers(0, n, size=(int((m - len(edges)) * 1.2) + 10, 2))
        extra = extra[extra[:, 0] != extra[:, 1]]
        edges = np.unique(np.concatenate([edges, extra]), axis=0)
    keep = rng.choice(len(edges), size=m, replace=False)
    return edges[np.sort(keep)]


def canonical(cycle) -> tuple:
    cycle = list(cycle)
    i = cycle.index(min(cycle))
    return tuple(cycle[i:] + cycle[:i])


def time_loopscope(matrix: sp.csr_matrix, k: int) -> tuple[float, set]:
    from loopscope.analysis.cycles import find_cycles

    start = time.perf_counter()
    found = find_cycles(matrix, max_length=k)
    parties = found.parties()
    seconds = time.perf_counter() - start
    return seconds, set(parties)


def compile_seconds() -> float:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        run = subprocess.run([sys.executable, "-c", _COMPILE], capture_output=True, text=True, check=True, env=env)
    return float(run.stdout.strip())


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small graphs only (a smoke test)")
    args = parser.parse_args(argv)
    import igraph as ig
    import networkx as nx

    from loopscope.analysis.cycles import find_cycles

    find_cycles(np.array([[0, 1.0], [1.0, 0]]))  # compile or load from cache before timing
    rows: list[dict] = []

    # networkx: the correctness reference, 2,000 nodes and 10,000 edges, k = 4
    n, m = (400, 2_000) if args.quick else (2_000, 10_000)
    edges = random_digraph(n, m, seed=1)
    matrix = sp.csr_matrix((np.ones(m), (edges[:, 0], edges[:, 1])), shape=(n, n))
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(map(tuple, edges.tolist()))
    ours, found = time_loopscope(matrix, 4)
    start = time.perf_counter()
    reference = [tuple(c) for c in nx.simple_cycles(graph, length_bound=4)]
    peer = time.perf_counter() - start
    assert {canonical(c) for c in reference} == found and len(reference) == len(found), "outputs differ"
    rows.append({"peer": "networkx", "nodes": n, "edges": m, "k": 4, "cycles": len(found),
                 "loopscope_s": ours, "peer_s": peer, "goal": 100.0})

    # igraph: the speed peer
    sizes = [20_000] if args.quick else [100_000, 1_000_000]
    for m in sizes:
        n = m // 5
        edges = random_digraph(n, m, seed=m)
        matrix = sp.csr_matrix((np.ones(m), (edges[:, 0], edges[:, 1])), shape=(n, n))
        graph = ig.Graph(n=n, edges=edges.tolist(), directed=True)
        for k in (3, 4, 5, 6):
            ours, found = time_loopscope(matrix, k)
            start = time.perf_counter()
            reference = graph.simple_cycles(min=2, max=k)
            peer = time.perf_counter() - start
            assert {canonical(c) for c in reference} == found and len(reference) == len(found), "outputs differ"
            rows.append({"peer": "igraph", "nodes": n, "edges": m, "k": k, "cycles": len(found),
                         "loopscope_s": ours, "peer_s": peer, "goal": 2.0})
            print(f"  igraph {m:,} edges k={k}: {peer:.2f} s; loopscope {ours:.3f} s", file=sys.stderr, flush=True)

    compile_s = compile_seconds()
    print("\nCycle enumeration, identical output checked (seconds; speed-up = peer / loopscope)\n")
    header = (f"{'peer':<9} {'nodes':>9} {'edges':>10} {'k':>2} {'cycles':>9} {'loopscope s':>12} {'peer s':>9} "
              f"{'speed-up':>9} {'goal':>6} {'met':>4}")
    print(header)
    print("-" * len(header))
    for r in rows:
        speedup = r["peer_s"] / r["loopscope_s"]
        r["speedup"] = speedup
        print(f"{r['peer']:<9} {r['nodes']:>9,} {r['edges']:>10,} {r['k']:>2} {r['cycles']:>9,} {r['loopscope_s']:>12.4f} "
              f"{r['peer_s']:>9.2f} {speedup:>8.0f}x {r['goal']:>5.0f}x {'yes' if speedup >= r['goal'] else 'NO':>4}")
    print(f"\nOne-off compile time of the kernels (fresh process, empty numba cache, import included): {compile_s:.1f} s")
    return rows


if __name__ == "__main__":
    main()
