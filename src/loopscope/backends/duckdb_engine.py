"""The round-trip scan on DuckDB: embedded, multi-threaded, out of core (spills to a temp directory).

Runs the staged SQL of ``loopscope.backends.sql`` as written, each stage a temporary table, over the
prepared ledger's Parquet file read in place (row-group statistics on ``idx`` and ``ts`` skip what a
chunk does not need).
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
from pathlib import Path

from loopscope.scan.prepared import PreparedLedger
from loopscope.scan.spec import Cycles, ScanSpec

from . import sql as scan_sql

_instances = itertools.count()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _arrow(relation):
    """A DuckDB relation as a pyarrow Table (``to_arrow_table`` in DuckDB 2, ``arrow`` before)."""
    method = getattr(relation, "to_arrow_table", None) or relation.arrow
    return method()


def _bytes(text: str) -> int:
    """DuckDB's spelling of a memory size (``3GB``, ``2.7 GiB``, ``512MB``) in bytes.

    >>> _bytes("3GB"), _bytes("2.7 GiB"), _bytes("512 MiB")
    (3000000000, 2899102924, 536870912)
    """
    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?)(I?)B?\s*", text.upper())
    if not match:
        raise ValueError(f"{text!r} is not a memory size such as 3GB")
    power = " KMGT".index(match.group(2) or " ")
    return int(float(match.group(1)) * (1024 if match.group(3) else 1000) ** power)


def _row_bytes(spec: ScanSpec) -> int:
    """What one forward half-path costs in the closing join's hash table, roughly (columns, pointers)."""
    hops = spec.max_length - spec.max_length // 2
    return 12 * hops + 8 * 6 + 64


class DuckDBEngine:
    """Finds round trips (``scan.spec``) in a prepared ledger with DuckDB.

    ``find(lo, hi)`` returns every round trip whose first transaction is ``lo <= idx < hi``, in
    canonical order; concatenating consecutive chunks gives ``find(0, n)``.  Memory stays within
    ``memory_limit`` (DuckDB spills to ``temp_directory``, by default a fresh folder removed by
    ``close``): a ``find`` of more than ``chunk_rows`` starts, or whose closing join would hold more
    than ``build_rows`` forward half-paths (default: 40% of the memory limit), runs in parts.
    ``threads`` defaults to DuckDB's (all cores).
    """

    def __init__(self, prepared: PreparedLedger, spec: ScanSpec, *, memory_limit: str = "3GB",
                 threads: int | None = None, temp_directory=None, build_rows: int | None = None,
                 chunk_rows: int = 1_000_000):
        import duckdb

        self.prepared = prepared
        self.spec = spec
        self.n = len(prepared)
        config = {"memory_limit": memory_limit, "preserve_insertion_order": False}
        if threads is not None:
            config["threads"] = int(threads)
        self._own_temp = temp_directory is None
        if temp_directory is None:  # not DuckDB's default, a .tmp folder wherever we happen to be
            temp_directory = tempfile.mkdtemp(prefix="loopscope-duckdb-")
        Path(temp_directory).mkdir(parents=True, exist_ok=True)
        self.temp_directory = Path(temp_directory)
        config["temp_directory"] = os.fspath(temp_directory)
        self._con = duckdb.connect(":memory:", config=config)
        limit = self._con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        self.build_rows = build_rows or max(10_000, int(_bytes(limit) * 0.4) // _row_bytes(spec))
        self.chunk_rows = int(chunk_rows)
        self.last_build_rows = 0
        """The estimated build side of the last chunk searched (for tuning)."""
        self._prefix = f"ls{next(_instances)}_"
        self._source = f"{self._prefix}ledger"
        self._con.execute(f"CREATE TEMP VIEW {self._source} AS SELECT idx, src, dst, amount, ts "
                          f"FROM read_parquet({_quote(os.fspath(prepared.transactions_path))})")

    def plan(self, lo: int, hi: int) -> scan_sql.ScanPlan | None:
        """The statements for the chunk ``lo … hi-1`` (``None`` when it is empty)."""
        lo, hi = max(int(lo), 0), min(int(hi), self.n)
        if lo >= hi:
            return None
        ts_lo, ts_hi = scan_sql.chunk_times(self.prepared, lo, hi)
        whole = lo == 0 and hi == self.n
        return scan_sql.scan_plan(self.spec, source=self._source, lo=lo, hi=None if whole else hi,
                                  ts_base=int(ts_lo), ts_bound=None if whole else int(ts_hi) + int(self.spec.window),
                                  prefix=self._prefix)

    def find(self, lo: int, hi: int) -> Cycles:
        """Every round trip whose first transaction is ``lo <= idx < hi``, in canonical order.

        A chunk of more than ``chunk_rows`` transactions, or whose longest forward half-paths would
        not fit in ``build_rows``, is searched in parts, one after the other (the same result).
        """
        lo, hi = max(int(lo), 0), min(int(hi), self.n)
        if hi - lo > self.chunk_rows:
            return Cycles.concatenate([self.find(a, min(a + self.chunk_rows, hi)) for a in range(lo, hi, self.chunk_rows)])
        plan = self.plan(lo, hi)
        if plan is None:
            return scan_sql.empty_cycles()
        con = self._con
        try:
            for stage in plan.stages:
                kind = "TABLE" if stage.materialise else "VIEW"
                con.execute(f"CREATE OR REPLACE TEMP {kind} {stage.name} AS {stage.sql}")
            rows = int(con.execute(plan.estimate).fetchall()[0][0] or 0)
            self.last_build_rows = rows
            if rows > self.build_rows and hi - lo > 1:
                parts = min(hi - lo, -(-rows // self.build_rows))
                table = None
            else:
                parts = 1
                table = _arrow(con.sql(plan.result))
        finally:
            for stage in reversed(plan.stages):
                con.execute(f"DROP {'TABLE' if stage.materialise else 'VIEW'} IF EXISTS {stage.name}")
        if parts > 1:
            bounds = [lo + (hi - lo) * i // parts for i in range(parts + 1)]
            return Cycles.concatenate([self.find(a, b) for a, b in itertools.pairwise(bounds) if a < b])
        return scan_sql.cycles_from_arrow(table, plan.max_length)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
            if self._own_temp:
                shutil.rmtree(self.temp_directory, ignore_errors=True)

    def __enter__(self) -> "DuckDBEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
