"""Benchmark: how much goes in circles, at scale.

    python3 benchmarks/run.py circulation [--quick]
    python3 benchmarks/circulation.py [--quick]

* ``hodge_decomposition`` on a random graph of 1,000,000 parties and 5,000,000 flows (goal: under
  60 s and 8 GiB);
* ``max_circulation`` on 100,000 flows among 20,000 parties (goal: under 30 s), and beside it on a
  smaller graph networkx's minimum-cost flow (``network_simplex``) on the same integer amounts, the
  answers checked equal;
* ``finn_cycling_index`` on the bundled dataset.

Graphs: ``m`` flows with uniform random payer and payee (never the same), lognormal amounts, given to
the analyses as a scipy.sparse matrix.  Every measurement runs in a fresh process: ``peak_mb`` is
that process's peak resident memory (``resource.getrusage``), graph generation and imports included,
``seconds`` the wall time of the analysis call alone (after a warm-up call on a tiny graph, so that
lazy imports are not counted).  ``ratio`` = peer seconds / loopscope seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_CHILD = r"""
import json, resource, sys, time
import numpy as np
import scipy.sparse as sp

what = sys.argv[1]
n, m, seed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


def graph(integer=False):
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n - 1, m)
    dst += dst >= src  # never src
    amount = rng.lognormal(0.0, 1.0, m)
    if integer:
        amount = np.maximum(np.round(amount * 100), 1.0)
    matrix = sp.csr_matrix((amount, (src, dst)), shape=(n, n))
    matrix.sum_duplicates()
    return matrix


out = {}
tiny = np.array([[0, 2.0, 0], [0, 0, 1.0], [1.0, 0, 0]])
if what == "hodge":
    from loopscope.analysis.hodge import hodge_decomposition
    hodge_decomposition(tiny, _direct_max=0)  # warm-up: lazy imports are not part of the timing
    W = graph()
    out["input_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    result = hodge_decomposition(W)
    out["seconds"] = time.perf_counter() - start
    out["notes"] = (f"{result.method}, {result.iterations} iterations, relative residual {result.residual:.1e}, "
                    f"loop ratio {result.loop_ratio:.4f}")
elif what == "circulation":
    from loopscope.analysis.circulation import max_circulation
    max_circulation(tiny)
    W = graph()
    start = time.perf_counter()
    result = max_circulation(W)
    out["seconds"] = time.perf_counter() - start
    out["notes"] = f"circularity {result.circularity:.4f}, max imbalance {result.max_imbalance:.1e}"
elif what == "networkx":
    import networkx as nx
    from loopscope.analysis.circulation import max_circulation
    max_circulation(tiny)
    W = graph(integer=True)
    start = time.perf_counter()
    result = max_circulation(W)
    out["seconds"] = time.perf_counter() - start
    # the peer: minimise the one-way part D (unit cost per unit of flow, capacity W) that keeps every
    # party's net position; networkx's demand is inflow - outflow
    coo = W.tocoo()
    net_in = np.asarray(W.sum(axis=0)).ravel() - np.asarray(W.sum(axis=1)).ravel()
    start = time.perf_counter()
    G = nx.DiGraph()
    G.add_nodes_from((i, {"demand": int(round(net_in[i]))}) for i in range(n))
    G.add_edges_from((int(i), int(j), {"capacity": int(w), "weight": 1}) for i, j, w in zip(coo.row, coo.col, coo.data))
    cost, _ = nx.network_simplex(G)
    out["peer_seconds"] = time.perf_counter() - start
    peer_circulated = float(W.sum()) - cost
    if abs(peer_circulated - result.circulated) > 1e-6 * max(1.0, peer_circulated):
        raise SystemExit(f"answers differ: loopscope {result.circulated} networkx {peer_circulated}")
    out["notes"] = f"same circulated volume {peer_circulated:,.0f} (networkx time includes building its graph)"
elif what == "finn":
    import loopscope
    from loopscope.analysis.finn import finn_cycling_index
    ledger = loopscope.load()
    finn_cycling_index(ledger)  # warm-up: lazy imports
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        result = finn_cycling_index(ledger)
        best = min(best, time.perf_counter() - start)
    out["seconds"] = best
    out["size"] = f"bundled ai-2025 dataset: {len(ledger.parties)} parties, {len(ledger.flows())} flows"
    out["notes"] = f"FCI {result.fci:.4f} (best of 5 after a warm-up)"
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def _child(what: str, n: int = 0, m: int = 0, seed: int = 0) -> dict:
    # a fresh process per measurement: on Linux a child inherits its parent's peak memory figure
    run = subprocess.run([sys.executable, "-c", _CHILD, what, str(n), str(m), str(seed)],
                         capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"benchmark {what} failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def _row(benchmark: str, size: str, measured: dict, goal: str | None, peer: str | None = None) -> dict:
    peer_seconds = measured.get("peer_seconds")
    notes = measured.get("notes")
    if "input_peak_mb" in measured:
        notes = f"{notes}; peak {measured['input_peak_mb']:.0f} MB before the call (imports and input graph)"
    return {
        "benchmark": benchmark,
        "size": measured.get("size", size),
        "seconds": measured["seconds"],
        "peak_mb": measured["peak_mb"],
        "goal": goal,
        "peer": peer,
        "peer_seconds": peer_seconds,
        "ratio": peer_seconds / measured["seconds"] if peer_seconds is not None else None,
        "notes": notes,
    }


def run(quick: bool = False) -> list[dict]:
    """Run every measurement; ``quick`` uses small sizes (a smoke test).  One dict per row."""
    hodge_n, hodge_m = (20_000, 100_000) if quick else (1_000_000, 5_000_000)
    circ_n, circ_m = (2_000, 10_000) if quick else (20_000, 100_000)
    peer_n, peer_m = (300, 1_500) if quick else (2_000, 10_000)
    rows = [
        _row("hodge_decomposition", f"{hodge_n:,} parties, {hodge_m:,} flows", _child("hodge", hodge_n, hodge_m, 1),
             "< 60 s and < 8192 MB"),
        _row("max_circulation", f"{circ_n:,} parties, {circ_m:,} flows", _child("circulation", circ_n, circ_m, 2),
             "< 30 s"),
        _row("max_circulation vs networkx", f"{peer_n:,} parties, {peer_m:,} flows (integer amounts)",
             _child("networkx", peer_n, peer_m, 3), None, "networkx.network_simplex"),
        _row("finn_cycling_index", "bundled dataset", _child("finn"), None),
    ]
    return rows


def _met(row: dict) -> str:
    goal = row["goal"]
    if not goal:
        return "–"
    ok = True
    if "s" in goal.split("and")[0]:
        ok &= row["seconds"] < float(goal.split("<")[1].split("s")[0])
    if "MB" in goal:
        ok &= row["peak_mb"] < float(goal.split("<")[-1].split("MB")[0])
    return "yes" if ok else "NO"


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke test)")
    args = parser.parse_args(argv)
    rows = run(quick=args.quick)
    print("\nHow much goes in circles (fresh process per row; seconds = the analysis call; ratio = peer / loopscope)\n")
    header = (f"{'benchmark':<28} {'size':<48} {'seconds':>8} {'peak MB':>8} {'goal':>22} {'met':>4} "
              f"{'peer s':>8} {'ratio':>7}")
    print(header)
    print("-" * len(header))
    for r in rows:
        peer_s = f"{r['peer_seconds']:8.2f}" if r["peer_seconds"] is not None else f"{'–':>8}"
        ratio = f"{r['ratio']:6.1f}x" if r["ratio"] is not None else f"{'–':>7}"
        print(f"{r['benchmark']:<28} {r['size']:<48} {r['seconds']:8.3f} {r['peak_mb']:8.0f} {r['goal'] or '–':>22} "
              f"{_met(r):>4} {peer_s} {ratio}")
    for r in rows:
        if r["notes"]:
            print(f"  {r['benchmark']}: {r['notes']}")
    return rows


if __name__ == "__main__":
    main()
