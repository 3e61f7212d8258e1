"""Benchmark: every analysis of the bundled ai-2025 dataset together.

    python3 benchmarks/run.py dataset

Goal from the round-trip issue: all analyses of the bundled dataset together in under 1 second.
Measured in-process after one warm-up run (the kernels compiled or loaded from numba's cache, the
ledger loaded); the cold first run in a fresh process, import and compile-cache load included, is
reported beside it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

_COLD = r"""
import time
start = time.perf_counter()
import loopscope
ledger = loopscope.load()
loaded = time.perf_counter()
from benchmarks_dataset import analyse
analyse(ledger)
print(loaded - start, time.perf_counter() - loaded)
"""


def analyse(ledger) -> dict:
    from loopscope import (
        exposure,
        find_cycles,
        finn_cycling_index,
        hodge_decomposition,
        max_circulation,
        reciprocity,
    )

    timings = {}
    for name, call in (
        ("find_cycles (static, k=6)", lambda: find_cycles(ledger)),
        ("find_cycles (temporal, 365d)", lambda: find_cycles(ledger, temporal=True, window="365d")),
        ("max_circulation", lambda: max_circulation(ledger)),
        ("hodge_decomposition", lambda: hodge_decomposition(ledger)),
        ("finn_cycling_index", lambda: finn_cycling_index(ledger)),
        ("reciprocity", lambda: reciprocity(ledger)),
        ("exposure", lambda: exposure(ledger)),
    ):
        start = time.perf_counter()
        call()
        timings[name] = time.perf_counter() - start
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="(no effect: the dataset is small)")
    parser.parse_args(argv)
    import loopscope

    ledger = loopscope.load()
    analyse(ledger)  # warm-up
    best: dict[str, float] = {}
    for _ in range(5):
        for name, seconds in analyse(ledger).items():
            best[name] = min(best.get(name, float("inf")), seconds)
    from pathlib import Path

    here = Path(__file__).resolve().parent
    code = _COLD.replace("from benchmarks_dataset import analyse", "from dataset import analyse")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=here)
    load_s, cold_s = map(float, run.stdout.split())
    total = sum(best.values())
    print(f"\nAll analyses of the bundled dataset ({len(ledger.deals)} deals, {len(ledger.parties)} parties), "
          "best of 5 after a warm-up\n")
    print(f"{'analysis':<32} {'seconds':>9}")
    print("-" * 42)
    for name, seconds in best.items():
        print(f"{name:<32} {seconds:>9.4f}")
    print("-" * 42)
    print(f"{'total':<32} {total:>9.4f}   goal < 1 s: {'met' if total < 1 else 'MISSED'}")
    print(f"\nCold, in a fresh process: loading the ledger {load_s:.2f} s, first run of all analyses {cold_s:.2f} s "
          "(imports and numba cache load included)")


if __name__ == "__main__":
    main()
