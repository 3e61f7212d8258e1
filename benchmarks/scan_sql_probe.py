"""Probe the SQL scan engines (DuckDB, Spark) on large synthetic ledgers: time and peak memory.

    python benchmarks/scan_sql_probe.py make  /tmp/ledger-1m  --transactions 1000000
    python benchmarks/scan_sql_probe.py duckdb /tmp/ledger-1m --window 24h --max-length 6
    python benchmarks/scan_sql_probe.py duckdb /tmp/ledger-10m --window 24h --chunk 1000000 --memory-limit 2GB
    python benchmarks/scan_sql_probe.py spark /tmp/ledger-1m --window 24h --chunk 1000000 --chunks 1

Each measurement should run in its own process: the peak RSS printed is the process's (``ru_maxrss``).
The ledger: accounts with heavy-tailed (Pareto, shape ``--alpha``) activity, payer and payee drawn
independently by activity, times uniform over ``--days`` days, log-normal amounts.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np


def make(args) -> None:
    from loopscope.scan.prepared import write_prepared
    from loopscope.scan.spec import Transactions

    rng = np.random.default_rng(args.seed)
    weight = rng.pareto(args.alpha, args.accounts) + 1.0
    weight /= weight.sum()
    cumulative = np.cumsum(weight)
    n = args.transactions
    src = np.searchsorted(cumulative, rng.random(n) * cumulative[-1]).astype(np.int32)
    dst = np.searchsorted(cumulative, rng.random(n) * cumulative[-1]).astype(np.int32)
    time_ = rng.integers(0, args.days * 86_400_000_000, n) + 1_700_000_000_000_000
    amount = np.round(rng.lognormal(np.log(1000.0), 1.0, n), 2)
    tx = Transactions.from_arrays(src, dst, amount, time_)
    write_prepared(tx, args.folder, source="scan_sql_probe")
    degree = np.bincount(np.concatenate([src, dst]), minlength=args.accounts)
    print(f"wrote {n:,} transactions over {args.days} days to {args.folder}; accounts {args.accounts:,}, "
          f"degree max {degree.max():,}, p99 {np.percentile(degree, 99):.0f}, median {np.median(degree):.0f}, "
          f"self-transfers {(src == dst).sum():,}")


def _spec(args):
    from loopscope.scan.spec import ScanSpec, parse_duration

    return ScanSpec(window=parse_duration(args.window), max_length=args.max_length, order=args.order,
                    min_amount=args.min_amount, amount_ratio=args.amount_ratio)


def _chunks(n: int, chunk: int | None, count: int | None):
    chunk = chunk or n
    bounds = [(lo, min(lo + chunk, n)) for lo in range(0, n, chunk)]
    return bounds[:count] if count else bounds


def _report(engine: str, args, n: int, found: int, lengths: np.ndarray, seconds: float, extra: str = "") -> None:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    hist = " ".join(f"{k}:{c}" for k, c in enumerate(lengths) if c)
    print(f"{engine} n={n:,} window={args.window} max_length={args.max_length} order={args.order} "
          f"chunk={args.chunk or n:,}: {found:,} round trips ({hist}) in {seconds:.1f} s; "
          f"peak RSS {rss:.2f} GiB (children {children:.2f} GiB){extra}", flush=True)


def duckdb(args) -> None:
    from loopscope.backends.duckdb_engine import DuckDBEngine
    from loopscope.scan.prepared import PreparedLedger

    prepared = PreparedLedger(Path(args.folder))
    n = len(prepared)
    lengths = np.zeros(13, dtype=np.int64)
    found = 0
    start = time.perf_counter()
    with DuckDBEngine(prepared, _spec(args), memory_limit=args.memory_limit, threads=args.threads,
                      temp_directory=args.temp_directory) as engine:
        for lo, hi in _chunks(n, args.chunk, args.chunks):
            t = time.perf_counter()
            cycles = engine.find(lo, hi)
            found += len(cycles)
            lengths += np.bincount(cycles.lengths(), minlength=13)[:13]
            if args.verbose:
                print(f"  [{lo:,}, {hi:,}): {len(cycles):,} in {time.perf_counter() - t:.1f} s", flush=True)
    _report("duckdb", args, n, found, lengths, time.perf_counter() - start)


def spark(args) -> None:
    from loopscope.backends.spark_engine import SparkEngine
    from loopscope.scan.prepared import PreparedLedger

    prepared = PreparedLedger(Path(args.folder))
    n = len(prepared)
    lengths = np.zeros(13, dtype=np.int64)
    found = 0
    start = time.perf_counter()
    first = None
    with SparkEngine(prepared, _spec(args), master=args.master) as engine:
        session = time.perf_counter() - start
        if args.all:
            cycles = engine.find_all()
            found, lengths = len(cycles), np.bincount(cycles.lengths(), minlength=13)[:13]
            first = time.perf_counter() - start
        else:
            for lo, hi in _chunks(n, args.chunk, args.chunks):
                t = time.perf_counter()
                cycles = engine.find(lo, hi)
                found += len(cycles)
                lengths += np.bincount(cycles.lengths(), minlength=13)[:13]
                first = first or time.perf_counter() - start
                if args.verbose:
                    print(f"  [{lo:,}, {hi:,}): {len(cycles):,} in {time.perf_counter() - t:.1f} s", flush=True)
    _report("spark " + args.master, args, n, found, lengths, time.perf_counter() - start,
            f"; session start {session:.1f} s, first result after {first:.1f} s")


def memory(args) -> None:
    """The compiled memory engine, for comparison (if present)."""
    from loopscope.scan.memory import MemoryEngine
    from loopscope.scan.prepared import PreparedLedger

    prepared = PreparedLedger(Path(args.folder))
    n = len(prepared)
    lengths = np.zeros(13, dtype=np.int64)
    found = 0
    start = time.perf_counter()
    with MemoryEngine(prepared, _spec(args)) as engine:
        for lo, hi in _chunks(n, args.chunk, args.chunks):
            cycles = engine.find(lo, hi)
            found += len(cycles)
            lengths += np.bincount(cycles.lengths(), minlength=13)[:13]
    _report("memory", args, n, found, lengths, time.perf_counter() - start)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("folder")
    m.add_argument("--transactions", type=int, default=1_000_000)
    m.add_argument("--accounts", type=int, default=100_000)
    m.add_argument("--days", type=int, default=30)
    m.add_argument("--alpha", type=float, default=1.5)
    m.add_argument("--seed", type=int, default=7)
    for name in ("duckdb", "spark", "memory"):
        p = sub.add_parser(name)
        p.add_argument("folder")
        p.add_argument("--window", default="24h")
        p.add_argument("--max-length", type=int, default=6)
        p.add_argument("--order", default="time")
        p.add_argument("--min-amount", type=float, default=0.0)
        p.add_argument("--amount-ratio", type=float, default=None)
        p.add_argument("--chunk", type=int, default=None)
        p.add_argument("--chunks", type=int, default=None, help="stop after this many chunks")
        p.add_argument("--verbose", action="store_true")
        if name == "duckdb":
            p.add_argument("--memory-limit", default="3GB")
            p.add_argument("--threads", type=int, default=None)
            p.add_argument("--temp-directory", default=None)
        if name == "spark":
            p.add_argument("--master", default="local[2]")
            p.add_argument("--all", action="store_true", help="find_all (one job) instead of chunks")
    args = parser.parse_args(argv)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    {"make": make, "duckdb": duckdb, "spark": spark, "memory": memory}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
