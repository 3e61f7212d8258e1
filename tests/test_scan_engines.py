"""One semantics, three engines: DuckDB returns exactly the round trips of the brute-force search and
of the memory engine, chunk by chunk and through the scan driver (Spark: ``test_scan_sql_engines.py``)."""

from __future__ import annotations


import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopscope.scan.memory import find_round_trips
from loopscope.scan.prepared import write_prepared
from loopscope.scan.reference import brute_force, random_transactions
from loopscope.scan.run import scan_prepared
from loopscope.scan.spec import ScanSpec

duckdb_engine = pytest.importorskip("loopscope.backends.duckdb_engine")

SPECS = [
    ScanSpec(window=8, max_length=5),
    ScanSpec(window=8, max_length=4, order="any"),
    ScanSpec(window=12, max_length=6, amount_ratio=0.9),
    ScanSpec(window=30, max_length=6, order="any"),
    ScanSpec(window=3, max_length=2, min_amount=90.0),
    ScanSpec(window=0, max_length=3, order="any"),
]


@st.composite
def small_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    tx = random_transactions(rng, draw(st.integers(2, 6)), draw(st.integers(0, 14)), draw(st.integers(1, 25)))
    return tx, draw(st.sampled_from(SPECS))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(small_cases())
def test_duckdb_equals_brute_force(tmp_path_factory, case):
    tx, spec = case
    prepared = write_prepared(tx, tmp_path_factory.mktemp("prep"))
    with duckdb_engine.DuckDBEngine(prepared, spec) as engine:
        assert engine.find(0, len(tx)).to_lists() == brute_force(tx, spec).to_lists()


@pytest.mark.parametrize("order", ["time", "any"])
def test_duckdb_equals_memory_on_a_medium_ledger_in_chunks(tmp_path, order):
    tx = random_transactions(np.random.default_rng(21), 50, 3000, 2000)
    spec = ScanSpec(window=60, max_length=6, order=order)
    expected = find_round_trips(tx, spec).to_lists()
    assert len(expected) > 100
    prepared = write_prepared(tx, tmp_path / "prep")
    with duckdb_engine.DuckDBEngine(prepared, spec) as engine:
        assert engine.find(0, len(tx)).to_lists() == expected
        parts = []
        for lo in range(0, len(tx), 700):
            parts += engine.find(lo, min(lo + 700, len(tx))).to_lists()
        assert parts == expected


def test_driver_output_is_the_same_for_memory_and_duckdb(tmp_path):
    tx = random_transactions(np.random.default_rng(4), 30, 1500, 900)
    prepared = write_prepared(tx, tmp_path / "prep", currency="USD")
    spec = ScanSpec(window=40, max_length=5, amount_ratio=0.5)
    tables = {}
    for engine in ("memory", "duckdb"):
        summary = scan_prepared(prepared, spec, engine=engine, round_trips_path=tmp_path / f"{engine}.parquet",
                                features_path=tmp_path / f"{engine}.f.parquet", chunk_size=400, work=tmp_path)
        assert summary.engine == engine
        tables[engine] = (pq.read_table(tmp_path / f"{engine}.parquet"), pq.read_table(tmp_path / f"{engine}.f.parquet"))
    assert tables["memory"][0].num_rows > 20
    assert tables["memory"][0].equals(tables["duckdb"][0])
    assert tables["memory"][1].equals(tables["duckdb"][1])

# Spark: tests/test_scan_sql_engines.py (one shared local session, many cases per job).
