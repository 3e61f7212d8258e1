"""Benchmark: clearing many scenarios at once, and Monte Carlo on the bundled dataset.

    python3 benchmarks/run.py stress            # 1,000,000 scenarios (about a minute)
    python3 benchmarks/run.py stress --quick    # 20,000 scenarios

Goals from the stress-test issue: at most 5 µs per scenario for a 50-firm network with
Eisenberg-Noe (1,000,000 scenarios in under 10 seconds), exact to 1e-9 relative against the
single-scenario solver, side by side with a straightforward per-scenario loop; 10,000 Monte Carlo
samples of a built-in scenario on the bundled dataset in under 2 seconds.

The network: 50 firms, each pair linked with probability 0.2, amounts uniform on [0, 10).  Each
scenario's outside assets are the firm's net need (what it owes less what it is owed, at least 0)
plus a tenth of what it owes, times a factor uniform on [0, 1.5): about 14 of 50 firms default per
scenario, in two to three rounds of the fictitious default algorithm, so the solver does real work.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def network(n: int = 50, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    L = np.where(rng.random((n, n)) < 0.2, rng.uniform(0, 10, (n, n)), 0.0)
    np.fill_diagonal(L, 0.0)
    base = np.maximum(L.sum(axis=1) - L.sum(axis=0), 0.0) + 0.1 * L.sum(axis=1)
    return L, base


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 scenarios instead of 1,000,000")
    args = parser.parse_args(argv)
    import loopscope
    from loopscope.stress import BUILTIN, eisenberg_noe, stress_test
    from loopscope.stress.clearing import _solve_numpy

    S = 20_000 if args.quick else 1_000_000
    L, base = network()
    n = L.shape[0]
    e = base * np.random.default_rng(2).uniform(0, 1.5, (S, n))
    eisenberg_noe(L, e[:100])  # compile or load the kernel
    start = time.perf_counter()
    many = eisenberg_noe(L, e)
    batched = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    loops = 2_000
    start = time.perf_counter()
    for s in range(loops):
        eisenberg_noe(L, e[s])
    api_loop = (time.perf_counter() - start) / loops
    start = time.perf_counter()
    reference = [_solve_numpy(L, e[s:s + 1], np.zeros(n), "pro_rata", 1.0, 1.0, "eisenberg_noe") for s in range(loops)]
    numpy_loop = (time.perf_counter() - start) / loops
    exact = np.concatenate([r.payments for r in reference])
    scale = np.maximum(np.abs(exact), 1e-300)
    worst = float(np.max(np.abs(many.payments[:loops] - exact) / scale))
    same_defaults = bool((many.defaulted[:loops] == np.concatenate([r.defaulted for r in reference])).all())

    per = batched / S * 1e6
    print(f"Eisenberg-Noe, {n} firms, {S:,} scenarios ({many.defaulted.sum(axis=1).mean():.1f} defaults and "
          f"{many.rounds.mean():.1f} rounds per scenario on average)")
    print(f"{'solver':<52} {'µs/scenario':>12} {'ratio':>8}")
    print(f"{'loopscope, all scenarios at once (compiled kernel)':<52} {per:>12.2f} {1:>8.1f}")
    print(f"{'loopscope eisenberg_noe(), one call per scenario':<52} {api_loop * 1e6:>12.2f} {api_loop * 1e6 / per:>8.1f}")
    print(f"{'straightforward numpy loop, one scenario at a time':<52} {numpy_loop * 1e6:>12.2f} {numpy_loop * 1e6 / per:>8.1f}")
    print(f"total {batched:.2f} s for {S:,} scenarios (goal: 5 µs/scenario, {S * 5e-6:.1f} s); peak memory {rss:,.0f} MB")
    print(f"largest relative difference from the single-scenario solver over {loops:,} scenarios: {worst:.1e} "
          f"(goal 1e-9); same defaults: {same_defaults}")
    print("NEVA (Python) is not on PyPI and cannot be installed here; REFERENCES.md gives about 1.5 ms per scenario "
          "at 50 firms for it, which is not measured in this run.")

    ledger = loopscope.load()
    stress_test(ledger, "perfect-storm", samples=100)
    print(f"\nMonte Carlo on the bundled dataset ({len(ledger.parties)} parties), 10,000 samples, seed 1, after one warm-up")
    print(f"{'scenario':<24} {'model':<9} {'seconds':>8}  (goal: under 2 s)")
    for name in BUILTIN:
        for model in ("en", "debtrank"):
            start = time.perf_counter()
            stress_test(ledger, name, model=model, samples=10_000, seed=1)
            print(f"{name:<24} {model:<9} {time.perf_counter() - start:>8.2f}")


if __name__ == "__main__":
    main()
