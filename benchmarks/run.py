"""Benchmarks: one command runs them all and prints each table with the peers side by side.

    python3 benchmarks/run.py                 # everything (takes a while)
    python3 benchmarks/run.py cycles          # one of: ledger, cycles, circulation, dataset, report, stress, serve, scan
    python3 benchmarks/run.py all --quick     # small sizes, a smoke test

Speed and memory goals are measured here, never in the unit tests.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
SUITES = ("ledger", "cycles", "circulation", "dataset", "report", "stress", "serve", "scan")


def main() -> None:
    args = sys.argv[1:]
    which = args.pop(0) if args and not args[0].startswith("-") else "all"
    if which not in (*SUITES, "all"):
        raise SystemExit(f"unknown benchmark {which!r}: expected one of {', '.join(SUITES)} or all")
    for suite in SUITES if which == "all" else (which,):
        print(f"\n=== {suite} ===", flush=True)
        module = importlib.import_module(suite)
        suite_args = list(args)
        if suite == "ledger" and "--quick" in suite_args:
            suite_args = [a for a in suite_args if a != "--quick"] + ["--deals", "2000", "--repeat", "1"]
        module.main(suite_args)


if __name__ == "__main__":
    main()
