"""Benchmark: validating a generated ledger in every format.

    python3 benchmarks/run.py ledger [--deals 100000] [--repeat 3]

Measures validating a generated ledger (``loopscope validate``, end to end in a fresh process, and
``loopscope.load`` in-process) in each format, beside the time PyYAML's C loader needs only to parse
the same YAML (the reason loopscope reads with yaml-rs).  Goal from the ledger issue: validating
100,000 deals in under 10 seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = r"""
import json, resource, sys, time
what, path = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if what == "generate":
    from pathlib import Path
    sys.path.insert(0, sys.argv[4])
    from generate import synthetic_ledger
    ledger = synthetic_ledger(int(sys.argv[3]))
    folder = Path(path)
    for fmt, target in (("yaml", "ledger.yaml"), ("json", "ledger.json"), ("csv", "csv")):
        ledger.save(folder / target, fmt)
    count = len(ledger.deals)
elif what == "load":
    import loopscope
    ledger = loopscope.load(path)
    count = len(ledger.deals)
elif what == "pyyaml":
    import yaml
    with open(path, encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=yaml.CSafeLoader)
    count = len(data["deals"])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "count": count}))
"""


def _child(what: str, path: Path, *extra: str) -> dict:
    # every measurement in a fresh process: on Linux a child inherits its parent's peak memory
    run = subprocess.run([sys.executable, "-c", _CHILD, what, str(path), *extra], capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def _cli(path: Path) -> float:
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "loopscope", "validate", str(path)], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"validate failed on {path}:\n{run.stderr[:2000]}")
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is reported")
    parser.add_argument("--skip-pyyaml", action="store_true", help="skip the slow PyYAML reference")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        print(f"generating a ledger of {args.deals:,} deals ...", file=sys.stderr)
        _child("generate", tmp_path, str(args.deals), str(HERE))
        paths = {"yaml": tmp_path / "ledger.yaml", "json": tmp_path / "ledger.json", "csv": tmp_path / "csv"}
        sizes = {fmt: sum(p.stat().st_size for p in ([path] if path.is_file() else path.iterdir())) / 1e6
                 for fmt, path in paths.items()}

        rows = []
        for fmt, path in paths.items():
            cli = min(_cli(path) for _ in range(args.repeat))
            load = min((_child("load", path) for _ in range(args.repeat)), key=lambda r: r["seconds"])
            assert load["count"] == args.deals
            rows.append((f"loopscope validate ({fmt})", f"{sizes[fmt]:.0f} MB", cli, load["seconds"], load["peak_mb"]))
        if not args.skip_pyyaml:
            ref = _child("pyyaml", paths["yaml"])
            rows.append(("PyYAML CSafeLoader, parse only (yaml)", f"{sizes['yaml']:.0f} MB", None, ref["seconds"], ref["peak_mb"]))

    goal = 10.0
    print(f"\nValidating a generated ledger of {args.deals:,} deals (best of {args.repeat}; goal: under {goal:.0f} s end to end)\n")
    header = f"{'what':<40} {'input':>7} {'CLI end to end s':>17} {'load() s':>9} {'peak MB':>8} {'vs goal':>8}"
    print(header)
    print("-" * len(header))
    for what, size, cli, load, peak in rows:
        cli_text = f"{cli:17.2f}" if cli is not None else f"{'–':>17}"
        ratio = f"{(cli if cli is not None else load) / goal:7.2f}x"
        print(f"{what:<40} {size:>7} {cli_text} {load:9.2f} {peak:8.0f} {ratio:>8}")
    yaml_cli = rows[0][2]
    if not args.skip_pyyaml:
        print(f"\nPyYAML's parse alone takes {rows[-1][3] / rows[0][3]:.1f}x loopscope's whole validation of the same YAML.")
    print(f"YAML validation {'meets' if yaml_cli < goal else 'MISSES'} the goal: {yaml_cli:.2f} s < {goal:.0f} s.")


if __name__ == "__main__":
    main()
