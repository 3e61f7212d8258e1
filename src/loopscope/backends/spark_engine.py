"""The round-trip scan on Apache Spark: the staged SQL of ``loopscope.backends.sql``, translated by sqlglot.

Every stage is DuckDB-dialect SQL run through ``sqlglot.transpile(..., write="spark")`` and
``spark.sql``; materialised stages are ``CACHE TABLE name AS …`` (eager), the others temporary views.
The prepared ledger's Parquet file is a temporary view; filters on ``idx`` and ``ts`` reach the
Parquet reader, whose row-group statistics skip what a chunk does not need.

Needs ``pyspark`` (``pip install 'loopscope[spark]'``) and Java 17+.  Nothing here is imported until
an engine is made, so the rest of loopscope works without them.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile

from loopscope.scan.prepared import PreparedLedger
from loopscope.scan.spec import Cycles, ScanSpec

from . import sql as scan_sql

_instances = itertools.count()


def local_cores(master: str) -> int | None:
    """The number of cores of a ``local[N]`` / ``local[*]`` / ``local`` master (``None`` for a cluster).

    >>> local_cores("local[3]"), local_cores("local"), local_cores("local[4,2]"), local_cores("spark://host:7077")
    (3, 1, 4, None)
    """
    if master == "local":
        return 1
    match = re.fullmatch(r"local\[(\d+|\*)(?:,\s*\d+)?\]", master)
    if not match:
        return None
    return (os.cpu_count() or 1) if match.group(1) == "*" else int(match.group(1))


def spark_session(master: str = "local[2]", app_name: str = "loopscope-scan", *, driver_memory: str = "2g",
                  shuffle_partitions: int | None = None, config: dict | None = None):
    """A SparkSession set up for the scan: no UI, UTC, quiet logs; when local, few shuffle partitions and
    broadcast joins up to 64 MB (``config`` entries override these).

    On a local master ``SPARK_LOCAL_IP`` defaults to 127.0.0.1 (no network interface is needed).
    ``driver_memory`` only applies if this call starts the JVM.
    """
    from pyspark.sql import SparkSession

    cores = local_cores(master)
    if cores is not None:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if shuffle_partitions is None:
        shuffle_partitions = max(4, 2 * cores) if cores is not None else 200
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.memory", driver_memory)
               .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
               .config("spark.sql.adaptive.enabled", "true")
               .config("spark.sql.session.timeZone", "UTC")
               # CACHE TABLE makes no tables, but a session would still leave a spark-warehouse folder here
               .config("spark.sql.warehouse.dir", os.path.join(tempfile.gettempdir(), "loopscope-spark-warehouse")))
    if cores is not None:
        # one machine: joining by broadcast beats shuffling and sorting for tables of tens of MB
        builder = builder.config("spark.sql.autoBroadcastJoinThreshold", "64MB")
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine:
    """Finds round trips (``scan.spec``) in a prepared ledger with Spark SQL.

    ``find(lo, hi)`` returns every round trip whose first transaction is ``lo <= idx < hi``, in
    canonical order (as the DuckDB engine); ``find_all()`` runs the whole ledger at once, for a
    cluster.  ``session`` (or else the active session, if any) is used and left running; otherwise
    one is started on ``master`` (see ``spark_session``) and stopped by ``close()``.
    """

    def __init__(self, prepared: PreparedLedger, spec: ScanSpec, *, master: str = "local[2]", session=None,
                 app_name: str = "loopscope-scan"):
        self.prepared = prepared
        self.spec = spec
        self.n = len(prepared)
        if session is None:
            from pyspark.sql import SparkSession

            session = SparkSession.getActiveSession()  # someone else's: used, and left running
            self._own = session is None
            self.spark = spark_session(master, app_name) if session is None else session
        else:
            self._own = False
            self.spark = session
        self._prefix = f"ls{os.getpid()}_{next(_instances)}_"
        self._source = f"{self._prefix}ledger"
        (self.spark.read.parquet(os.fspath(prepared.transactions_path))
         .select("idx", "src", "dst", "amount", "ts").createOrReplaceTempView(self._source))

    def _sql(self, statement: str):
        return self.spark.sql(scan_sql.to_spark(statement))

    def plan(self, lo: int, hi: int) -> scan_sql.ScanPlan | None:
        """The statements (DuckDB dialect) for the chunk ``lo … hi-1`` (``None`` when it is empty)."""
        lo, hi = max(int(lo), 0), min(int(hi), self.n)
        if lo >= hi:
            return None
        ts_lo, ts_hi = scan_sql.chunk_times(self.prepared, lo, hi)
        whole = lo == 0 and hi == self.n
        return scan_sql.scan_plan(self.spec, source=self._source, lo=lo, hi=None if whole else hi,
                                  ts_base=ts_lo, ts_bound=None if whole else ts_hi + int(self.spec.window),
                                  prefix=self._prefix)

    def find(self, lo: int, hi: int) -> Cycles:
        """Every round trip whose first transaction is ``lo <= idx < hi``, in canonical order."""
        plan = self.plan(lo, hi)
        if plan is None:
            return scan_sql.empty_cycles()
        try:
            for stage in plan.stages:
                body = scan_sql.to_spark(stage.sql)
                if stage.materialise:
                    self.spark.sql(f"CACHE TABLE {stage.name} AS {body}")
                else:
                    self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {stage.name} AS {body}")
            table = self._sql(plan.result).toArrow()
        finally:
            for stage in reversed(plan.stages):
                try:
                    if stage.materialise:
                        self.spark.sql(f"UNCACHE TABLE IF EXISTS {stage.name}")
                    self.spark.catalog.dropTempView(stage.name)
                except Exception:  # noqa: BLE001 - a stage that never came to be; keep the first error
                    pass
        return scan_sql.cycles_from_arrow(table, plan.max_length)

    def find_all(self) -> Cycles:
        """Every round trip of the ledger in one go: no chunks, the slice is the whole ledger (for a cluster)."""
        return self.find(0, self.n)

    def close(self) -> None:
        if self.spark is None:
            return
        try:
            self.spark.catalog.dropTempView(self._source)
        finally:
            if self._own:
                self.spark.stop()
            self.spark = None

    def __enter__(self) -> "SparkEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
