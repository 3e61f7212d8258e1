"""The memory engine and the scan driver against the brute-force and depth-first references."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import loopscope.scan.prepared as prepared_module
from loopscope.scan.memory import find_round_trips
from loopscope.scan.prepared import write_prepared
from loopscope.scan.reference import brute_force, depth_first, random_transactions
from loopscope.scan.run import scan_prepared
from loopscope.scan.spec import Cycles, ScanSpec, Transactions, cycle_features, parse_duration


@st.composite
def small_cases(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    tx = random_transactions(rng, draw(st.integers(2, 6)), draw(st.integers(0, 15)), draw(st.integers(1, 25)))
    order = draw(st.sampled_from(["time", "any"]))
    ratio = draw(st.sampled_from([None, 0.5, 0.9, 1.0])) if order == "time" else None
    spec = ScanSpec(window=draw(st.integers(0, 30)), max_length=draw(st.integers(2, 6)),
                    min_amount=draw(st.sampled_from([0.0, 80.0, 120.0])), amount_ratio=ratio, order=order)
    return tx, spec


@settings(max_examples=300, deadline=None)
@given(small_cases(), st.sampled_from([1, 2, 3, 5]))
def test_equals_brute_force(case, levels):
    tx, spec = case
    assert find_round_trips(tx, spec, levels=levels).to_lists() == brute_force(tx, spec).to_lists()


@pytest.mark.parametrize("order", ["time", "any"])
def test_equals_depth_first_on_a_medium_ledger(order):
    tx = random_transactions(np.random.default_rng(7), 60, 3000, 2000)
    spec = ScanSpec(window=60, max_length=6, order=order)
    expected = depth_first(tx, spec)
    assert len(expected) > 100  # the ledger has round trips of several lengths to find
    assert len(set(expected.lengths().tolist())) >= 4
    assert find_round_trips(tx, spec).to_lists() == expected.to_lists()


def test_start_slices_partition_the_round_trips():
    tx = random_transactions(np.random.default_rng(3), 20, 800, 300)
    spec = ScanSpec(window=25, max_length=5)
    whole = find_round_trips(tx, spec).to_lists()
    parts = []
    for lo in range(0, 800, 123):
        parts += find_round_trips(tx, spec, slice(lo, lo + 123)).to_lists()
    assert parts == whole and whole


def test_time_order_is_strict_and_the_window_inclusive():
    # a → b at 0, b → a at 10: inside a window of 10, outside 9; equal times never close a trip
    tx = Transactions.from_arrays([0, 1, 1], [1, 0, 0], [5.0, 5.0, 5.0], [0, 10, 0])
    assert find_round_trips(tx, ScanSpec(window=10, max_length=2)).to_lists() == [(0, 2)]
    assert find_round_trips(tx, ScanSpec(window=9, max_length=2)).to_lists() == []
    # in any order the tie counts, listed from the earlier-listed transaction
    assert find_round_trips(tx, ScanSpec(window=10, max_length=2, order="any")).to_lists() == [(0, 1), (0, 2)]


def test_amount_ratio_follows_the_money():
    tx = Transactions.from_arrays([0, 1, 2], [1, 2, 0], [100.0, 91.0, 80.0], [1, 2, 3])
    assert len(find_round_trips(tx, ScanSpec(window=5, max_length=3, amount_ratio=0.9))) == 0
    assert len(find_round_trips(tx, ScanSpec(window=5, max_length=3, amount_ratio=0.85))) == 1


def test_cycle_features_match_counts():
    tx = random_transactions(np.random.default_rng(11), 8, 400, 200)
    spec = ScanSpec(window=30, max_length=5)
    cycles = find_round_trips(tx, spec)
    features = cycle_features(cycles, len(tx), 5)
    for k in range(2, 6):  # column sum = k × round trips of length k (Snap ML's convention)
        assert features[:, k - 2].sum() == k * int((cycles.lengths() == k).sum())
    one = cycles.to_lists()[0]
    assert all(features[e].sum() >= 1 for e in one)


@pytest.mark.parametrize("order", ["time", "any"])
def test_driver_chunks_give_the_same_files(tmp_path, monkeypatch, order):
    monkeypatch.setattr(prepared_module, "ROW_GROUP", 64)
    tx = random_transactions(np.random.default_rng(5), 25, 900, 500)
    prepared = write_prepared(tx, tmp_path / "prep", currency="EUR")
    spec = ScanSpec(window=30, max_length=5, order=order)
    expected = depth_first(tx, spec)
    features = cycle_features(expected, len(tx), 5)
    for chunk in (900, 101, 7):
        out, feats = tmp_path / f"rt{chunk}.parquet", tmp_path / f"f{chunk}.parquet"
        summary = scan_prepared(prepared, spec, engine="memory", round_trips_path=out, features_path=feats,
                                chunk_size=chunk)
        table = pq.read_table(out)
        # ids are the 1-based rows here; transactions listed following the money
        assert [tuple(int(i) - 1 for i in r) for r in table.column("transactions").to_pylist()] == expected.to_lists()
        assert summary.round_trips == len(expected)
        assert sum(summary.by_length.values()) == len(expected)
        got = pq.read_table(feats)
        assert got.column("id").to_pylist() == [str(i) for i in range(1, 901)]
        matrix = np.column_stack([got.column(f"cycles_{k}").to_numpy() for k in range(2, 6)])
        assert np.array_equal(matrix, features)
        assert summary.transactions_on_round_trips == int(np.count_nonzero(features.sum(axis=1)))
        first = expected.to_lists()[0]
        row = table.slice(0, 1).to_pylist()[0]
        assert row["amounts"] == [float(tx.amount[e]) for e in first]
        assert row["accounts"] == [f"a{tx.src[e]}" for e in first]
        assert row["circulated_amount"] == min(float(tx.amount[e]) for e in first)
        assert row["currency"] == "EUR"
        assert row["first_time"].timestamp() * 1e6 == pytest.approx(min(int(tx.time[e]) for e in first))
        assert row["last_time"].timestamp() * 1e6 == pytest.approx(max(int(tx.time[e]) for e in first))


def test_largest_round_trips_are_ranked_by_circulated_amount(tmp_path):
    tx = random_transactions(np.random.default_rng(9), 15, 600, 300)
    prepared = write_prepared(tx, tmp_path / "prep")
    spec = ScanSpec(window=30, max_length=4)
    summary = scan_prepared(prepared, spec, engine="memory", chunk_size=50)
    expected = sorted((min(float(tx.amount[e]) for e in c) for c in depth_first(tx, spec).to_lists()), reverse=True)
    assert [v.circulated for v in summary.largest] == expected[:10]


def test_empty_ledger(tmp_path):
    empty = np.zeros(0)
    tx = Transactions(empty.astype(np.int32), empty.astype(np.int32), empty, empty.astype(np.int64))
    prepared = write_prepared(tx, tmp_path / "prep")
    summary = scan_prepared(prepared, ScanSpec(), engine="memory", round_trips_path=tmp_path / "rt.parquet",
                            features_path=tmp_path / "f.parquet")
    assert summary.round_trips == 0 and pq.read_table(tmp_path / "rt.parquet").num_rows == 0


def test_cycles_sorting_is_lexicographic():
    rng = np.random.default_rng(0)
    lists = [tuple(int(x) for x in rng.integers(0, 6, rng.integers(2, 5))) for _ in range(300)]
    assert Cycles.from_lists(lists).sorted().to_lists() == sorted(lists)


@pytest.mark.parametrize("text, value", [("7d", 7 * 86400 * 10**6), ("24h", 86400 * 10**6), ("90m", 5400 * 10**6),
                                          ("30s", 30 * 10**6), ("2w", 14 * 86400 * 10**6), ("500ms", 500_000)])
def test_durations(text, value):
    assert parse_duration(text) == value


@pytest.mark.parametrize("text", ["7", "d", "-1d", "1y", "1.0000001us"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_spec_refuses_nonsense():
    with pytest.raises(ValueError, match="max_length"):
        ScanSpec(max_length=1)
    with pytest.raises(ValueError, match="amount_ratio needs time order"):
        ScanSpec(order="any", amount_ratio=0.9)
    with pytest.raises(ValueError, match="min_amount"):
        ScanSpec(min_amount=float("nan"))
