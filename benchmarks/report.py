"""Benchmark: the report and the CLI's start, end to end in fresh processes.

    python3 benchmarks/run.py report

Goals from the report issue: ``loopscope report`` on the bundled dataset in under 3 seconds end to
end; ``loopscope --help`` in under 0.5 seconds.  Best of five runs each (the first run also fills
numba's cache; it is reported apart).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _time(args: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "loopscope", *args], cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one run each")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        first = _time(["report", "-o", "report.html"], tmp)
        report = min(_time(["report", "-o", "report.html"], tmp) for _ in range(runs))
        report_de = min(_time(["report", "-o", "bericht.html", "--lang", "de"], tmp) for _ in range(runs))
        size = (Path(tmp) / "report.html").stat().st_size / 1e6
        help_ = min(_time(["--help"], tmp) for _ in range(runs))
    print(f"\nThe report and the CLI's start, fresh process each, best of {runs}\n")
    print(f"{'command':<42} {'seconds':>8} {'goal':>7} {'met':>4}")
    print("-" * 64)
    for name, seconds, goal in (
        ("loopscope report (bundled dataset)", report, 3.0),
        ("loopscope report --lang de", report_de, 3.0),
        ("loopscope --help", help_, 0.5),
    ):
        print(f"{name:<42} {seconds:>8.2f} {goal:>6.1f}s {'yes' if seconds < goal else 'NO':>4}")
    print(f"\nFirst report run {first:.2f} s; report.html is {size:.2f} MB, cytoscape.js included.")


if __name__ == "__main__":
    main()
