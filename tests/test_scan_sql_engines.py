"""The SQL scan engines (DuckDB, Spark) find exactly the round trips of the reference searches.

Spark tests (names ``test_spark_*``; deselect with ``-k "not spark"``) share one local session and
are skipped when pyspark or Java is missing.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopscope.backends import sql as scan_sql
from loopscope.backends.duckdb_engine import DuckDBEngine
from loopscope.scan import reference
from loopscope.scan.prepared import write_prepared
from loopscope.scan.spec import MAX_LENGTH_LIMIT, Cycles, ScanSpec, Transactions


def _ledger(seed: int, accounts: int, transactions: int, span: int) -> Transactions:
    return reference.random_transactions(np.random.default_rng(seed), accounts, transactions, span)


def _chunks(n: int, cuts) -> list[tuple[int, int]]:
    bounds = sorted({0, n, *(c for c in cuts if 0 < c < n)})
    return list(itertools.pairwise(bounds))


specs = st.one_of(
    st.builds(ScanSpec, window=st.integers(0, 12), max_length=st.integers(2, 6),
              min_amount=st.sampled_from([0.0, 0.0, 90.0]),
              amount_ratio=st.sampled_from([None, None, 0.8, 1.0]), order=st.just("time")),
    st.builds(ScanSpec, window=st.integers(0, 12), max_length=st.integers(2, 6),
              min_amount=st.sampled_from([0.0, 0.0, 90.0]), order=st.just("any")),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), accounts=st.integers(2, 6), transactions=st.integers(0, 15),
       span=st.integers(1, 12), spec=specs, cuts=st.lists(st.integers(1, 14), max_size=2))
def test_duckdb_equals_brute_force(seed, accounts, transactions, span, spec, cuts):
    """Few accounts and few distinct times: parallel transactions, equal timestamps, every spec feature."""
    tx = _ledger(seed, accounts, transactions, span)
    want = reference.brute_force(tx, spec).to_lists()
    with tempfile.TemporaryDirectory() as folder, DuckDBEngine(write_prepared(tx, folder), spec, threads=1) as engine:
        assert engine.find(0, len(tx)).to_lists() == want
        parts = [engine.find(lo, hi).to_lists() for lo, hi in _chunks(len(tx), cuts)]
    assert [c for part in parts for c in part] == want


def test_equal_times_are_ordered_by_index(tmp_path):
    """With equal timestamps a round trip cannot go on in time order, and in any order it is listed from
    its smallest index: a later-listed transaction at the same time does not come first."""
    tx = Transactions.from_arrays([0, 1, 1, 0], [1, 0, 0, 1], [5.0, 5.0, 5.0, 5.0], [10, 10, 11, 11])
    with DuckDBEngine(write_prepared(tx, tmp_path), ScanSpec(window=1, order="any")) as engine:
        assert engine.find(0, 4).to_lists() == [(0, 1), (0, 2), (1, 3), (2, 3)]
        assert engine.find(1, 4).to_lists() == [(1, 3), (2, 3)]
    with DuckDBEngine(write_prepared(tx, tmp_path / "t"), ScanSpec(window=1)) as engine:
        assert engine.find(0, 4).to_lists() == [(0, 2), (1, 3)]


@pytest.mark.parametrize("max_length", [7, 9, 12])
def test_duckdb_long_round_trips_equal_brute_force(tmp_path, max_length):
    """Rings of up to 12 accounts planted among random transactions, both orders."""
    rng = np.random.default_rng(max_length)
    noise = reference.random_transactions(rng, 14, 6, 40)
    ring = np.arange(max_length)
    src = np.concatenate([noise.src, ring, ring[::-1][:5]])
    dst = np.concatenate([noise.dst, np.roll(ring, -1), np.roll(ring[::-1], -1)[:5]])
    time = np.concatenate([noise.time, np.arange(max_length) * 3, [7, 9, 11, 13, 15]])
    amount = np.concatenate([noise.amount, np.full(max_length, 100.0), np.full(5, 50.0)])
    tx = Transactions.from_arrays(src, dst, amount, time)
    for spec in (ScanSpec(window=40, max_length=max_length), ScanSpec(window=30, max_length=max_length, order="any"),
                 ScanSpec(window=40, max_length=max_length, amount_ratio=1.0)):
        want = reference.depth_first(tx, spec).to_lists()
        assert any(len(c) == max_length for c in want) or spec.order == "any"
        with DuckDBEngine(write_prepared(tx, tmp_path / spec.order), spec, threads=1) as engine:
            assert engine.find(0, len(tx)).to_lists() == want
    small = Transactions(tx.src[-14:], tx.dst[-14:], tx.amount[-14:], tx.time[-14:])
    spec = ScanSpec(window=40, max_length=max_length)
    with DuckDBEngine(write_prepared(small, tmp_path / "small"), spec, threads=1) as engine:
        assert engine.find(0, len(small)).to_lists() == reference.brute_force(small, spec).to_lists()


MEDIUM = [
    ScanSpec(window=40, max_length=6),
    ScanSpec(window=25, max_length=5, order="any"),
    ScanSpec(window=60, max_length=6, amount_ratio=0.9, min_amount=60.0),
]


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    """3,000 transactions among 25 accounts, three per time unit: thousands of round trips."""
    tx = _ledger(11, 25, 3000, 1000)
    return tx, write_prepared(tx, tmp_path_factory.mktemp("medium"))


@pytest.mark.parametrize("spec", MEDIUM, ids=["time", "any", "ratio"])
def test_duckdb_equals_depth_first_on_a_medium_ledger(medium, spec):
    tx, prepared = medium
    want = reference.depth_first(tx, spec)
    with DuckDBEngine(prepared, spec) as engine:
        got = engine.find(0, len(tx))
        assert len(want) > 100
        assert got.to_lists() == want.to_lists()
        # consecutive chunks, as the scan driver calls them, concatenate to the same
        chunked = [engine.find(lo, min(lo + 700, len(tx))) for lo in range(0, len(tx), 700)]
    assert Cycles.concatenate(chunked).to_lists() == want.to_lists()


def test_duckdb_splits_a_chunk_that_would_not_fit(medium):
    """A tiny budget for the closing join's in-memory side and for a chunk: the parts add up."""
    tx, prepared = medium
    spec = MEDIUM[0]
    with DuckDBEngine(prepared, spec) as engine:
        want = engine.find(0, len(tx)).to_lists()
    with DuckDBEngine(prepared, spec, build_rows=2_000, chunk_rows=1_100, memory_limit="500MB") as engine:
        assert engine.build_rows == 2_000
        assert engine.find(0, len(tx)).to_lists() == want
        assert engine.last_build_rows > 0
        assert engine.find(5, 5).to_lists() == [] and engine.find(len(tx), len(tx) + 9).to_lists() == []


@pytest.mark.parametrize("max_length", range(2, MAX_LENGTH_LIMIT + 1))
def test_every_statement_translates_with_sqlglot(max_length):
    """The search is written once: each statement must survive sqlglot's translation and parse as Spark SQL."""
    sqlglot = pytest.importorskip("sqlglot")
    for spec in (ScanSpec(max_length=max_length), ScanSpec(max_length=max_length, order="any"),
                 ScanSpec(max_length=max_length, amount_ratio=0.9, min_amount=1.5)):
        plan = scan_sql.scan_plan(spec, source="t", lo=10, hi=20, ts_base=0, ts_bound=99, prefix="x_")
        for statement in [s.sql for s in plan.stages] + [plan.result, plan.build, plan.estimate]:
            spark_sql = scan_sql.to_spark(statement)
            sqlglot.parse_one(spark_sql, read="spark")
            assert "//" not in spark_sql and "NULLS LAST" not in spark_sql


# -- Spark: one local session for the module ---------------------------------------------------

@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="Spark tests need pyspark (pip install 'loopscope[spark]')")
    pytest.importorskip("sqlglot", reason="Spark tests need sqlglot")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("Spark tests need Java 17+ (no java on PATH and no JAVA_HOME)")
    from loopscope.backends.spark_engine import spark_session

    # tiny ledgers: interpreted expressions and no adaptive re-planning start faster than generated code
    session = spark_session("local[2]", "loopscope-sql-tests", shuffle_partitions=1, config={
        "spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN",
        "spark.sql.adaptive.enabled": "false"})
    yield session
    session.stop()


def test_spark_equals_brute_force_and_duckdb(spark, tmp_path):
    from loopscope.backends.spark_engine import SparkEngine

    cases = [(_ledger(3, 4, 15, 8), ScanSpec(window=6, max_length=5, min_amount=80.0)),
             (_ledger(4, 5, 15, 6), ScanSpec(window=3, max_length=4, order="any")),
             (_ledger(5, 4, 15, 10), ScanSpec(window=7, max_length=4, amount_ratio=0.9))]
    for i, (tx, spec) in enumerate(cases):
        prepared = write_prepared(tx, tmp_path / str(i))
        want = reference.brute_force(tx, spec).to_lists()
        with SparkEngine(prepared, spec, session=spark) as engine:
            assert engine.find(0, len(tx)).to_lists() == want
        with DuckDBEngine(prepared, spec) as engine:
            assert engine.find(0, len(tx)).to_lists() == want
    assert not spark.sparkContext._jsc.sc().isStopped()  # a shared session is left running


def test_spark_chunks_and_one_job(spark, tmp_path):
    from loopscope.backends.spark_engine import SparkEngine

    tx = _ledger(8, 12, 120, 200)
    spec = ScanSpec(window=40, max_length=6)
    want = reference.depth_first(tx, spec).to_lists()
    assert len(want) > 10
    with SparkEngine(write_prepared(tx, tmp_path), spec, session=spark) as engine:
        assert engine.find_all().to_lists() == want
        assert engine.find(40, 80).to_lists() == [c for c in want if 40 <= c[0] < 80]
