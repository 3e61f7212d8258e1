"""The synthetic ledger (``scan.synth``) and the scores of a scan against its labels (``scan.evaluate``)."""

import csv
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loopscope.scan.evaluate import label_scores, planted_cycle_recovery
from loopscope.scan.reference import depth_first
from loopscope.scan.spec import MICROSECONDS, Cycles, ScanSpec, cycle_features
from loopscope.scan.synth import COLUMNS, TYPOLOGIES, SynthLedger, synthesize

WEEK = 7 * MICROSECONDS["d"]


@pytest.fixture(scope="module")
def small() -> SynthLedger:
    return synthesize(300, 3_000, seed=11, laundering_share=0.05)


@pytest.fixture(scope="module")
def medium() -> SynthLedger:
    return synthesize(10_000, 100_000, seed=5)


@pytest.fixture(scope="module")
def found(small):
    """Round trips of the small ledger, by the reference search, for both orders."""
    tx = small.transactions()
    return {order: depth_first(tx, ScanSpec(window=WEEK, max_length=6, order=order)) for order in ("time", "any")}


def _same(a: SynthLedger, b: SynthLedger) -> bool:
    return (all(np.array_equal(getattr(a, k), getattr(b, k))
                for k in ("src", "dst", "amount", "time", "is_laundering", "pattern"))
            and a.patterns == b.patterns)


# determinism and shape


def test_a_seed_gives_the_same_ledger_and_the_same_bytes(tmp_path):
    a, b = synthesize(500, 5_000, seed=3), synthesize(500, 5_000, seed=3)
    assert _same(a, b)
    a.write(tmp_path / "a.parquet")
    b.write(tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    a.write(tmp_path / "a.csv")
    b.write(tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    other = synthesize(500, 5_000, seed=4)
    assert not np.array_equal(a.src, other.src) and not np.array_equal(a.time, other.time)
    assert a.patterns != other.patterns


@pytest.mark.parametrize("accounts, transactions, share", [
    (300, 3_000, 0.05), (1_000, 12_345, 0.001), (50, 60, 0.001), (20, 0, 0.01), (2, 100, 0.0), (500, 7_777, 0.3),
])
def test_exactly_the_transactions_asked_for(accounts, transactions, share):
    ledger = synthesize(accounts, transactions, seed=1, laundering_share=share)
    assert len(ledger) == transactions
    for name in ("src", "dst", "amount", "time", "is_laundering", "pattern"):
        assert len(getattr(ledger, name)) == transactions
    assert len(ledger.transactions()) == transactions == len(ledger.ids) == len(ledger.typology)
    if share == 0 or transactions == 0:
        assert ledger.patterns == () and not ledger.is_laundering.any()


def test_rows_are_valid_payments_in_time_order(medium):
    ledger = medium
    assert ledger.src.dtype == ledger.dst.dtype == np.int32
    assert ledger.amount.dtype == np.float64 and ledger.time.dtype == np.int64
    assert np.all(np.diff(ledger.time) >= 0)
    assert np.any(np.diff(ledger.time) == 0), "whole seconds: ties happen"
    assert np.all(ledger.time % MICROSECONDS["s"] == 0)
    begin = int(datetime(2025, 9, 1, tzinfo=UTC).timestamp()) * MICROSECONDS["s"]
    assert ledger.time[0] >= begin and ledger.time[-1] < begin + 30 * MICROSECONDS["d"]
    assert np.all(ledger.src != ledger.dst)
    assert ledger.src.min() >= 0 and max(ledger.src.max(), ledger.dst.max()) < ledger.accounts
    assert np.all(ledger.amount >= 0.01) and np.allclose(ledger.amount, np.round(ledger.amount, 2), rtol=0, atol=1e-9)
    tx = ledger.transactions()
    assert np.array_equal(tx.src, ledger.src) and np.array_equal(tx.time, ledger.time)
    assert list(ledger.ids[:2]) == ["t0000001", "t0000002"] and list(ledger.ids) == sorted(ledger.ids)
    names = ledger.account_names()
    assert names[12_345 % ledger.accounts] == f"ACC{12_345 % ledger.accounts:08d}" and list(names) == sorted(names)


# labels and planted patterns


def test_every_typology_is_planted_and_labelled(small, medium):
    for ledger in (small, medium):
        assert {p.typology for p in ledger.patterns} == set(TYPOLOGIES)
        assert np.array_equal(ledger.is_laundering, ledger.pattern >= 0)
        typology = ledger.typology
        assert set(typology[~ledger.is_laundering]) == {""}
        rows = np.concatenate([p.transactions for p in ledger.patterns])
        assert len(rows) == len(set(rows.tolist())) == int(ledger.is_laundering.sum())
        for p in ledger.patterns:
            assert p.pattern == ledger.patterns.index(p)
            index = list(p.transactions)
            assert set(ledger.pattern[index]) == {p.pattern} and set(typology[index]) == {p.typology}
            assert set(ledger.src[index]) | set(ledger.dst[index]) == set(p.accounts)
            assert len(set(p.accounts)) == len(p.accounts)
            assert p.span == int(ledger.time[index].max() - ledger.time[index].min()) <= WEEK
    share = medium.is_laundering.mean()
    assert 0.0007 <= share <= 0.0013, share


def test_patterns_have_their_typologys_shape(small):
    ledger = small
    for p in ledger.patterns:
        index = np.array(p.transactions)
        src, dst, time = ledger.src[index], ledger.dst[index], ledger.time[index]
        if p.typology == "fan-out":
            assert len(set(src)) == 1 and len(set(dst)) == len(index) >= 3
        elif p.typology == "fan-in":
            assert len(set(dst)) == 1 and len(set(src)) == len(index) >= 3
        elif p.typology == "scatter-gather":
            source, sink = p.accounts[0], p.accounts[-1]
            out, back = index[src == source], index[dst == sink]
            assert len(out) == len(back) == len(index) // 2
            for e in out:  # every intermediary passes on after it received
                forward = back[ledger.src[back] == ledger.dst[e]]
                assert len(forward) == 1 and ledger.time[forward[0]] > ledger.time[e]
                assert ledger.amount[forward[0]] < ledger.amount[e]
        elif p.typology == "gather-scatter":
            hub = p.accounts[int(np.argmax([np.sum(src == a) + np.sum(dst == a) for a in p.accounts]))]
            assert time[dst == hub].max() < time[src == hub].min()
        elif p.typology == "bipartite":
            assert not set(src) & set(dst)
        elif p.typology == "stack":
            middle = set(src) & set(dst)
            assert middle and time[np.isin(dst, list(middle))].max() < time[np.isin(src, list(middle))].min()
        elif p.typology == "random":  # a path through distinct accounts that does not come back
            assert np.all(np.diff(time) > 0) and np.array_equal(dst[:-1], src[1:])
            assert len(set(src) | set(dst)) == len(index) + 1


def test_planted_cycles_are_round_trips(small):
    ledger = small
    cycles = [p for p in ledger.patterns if p.typology == "cycle"]
    shuffled = [p for p in ledger.patterns if p.typology == "cycle-any-order"]
    assert sorted({p.length for p in cycles}) == [2, 3, 4, 5, 6]
    assert sorted({p.length for p in shuffled}) == [3, 4, 5, 6]
    assert any(p.span == WEEK for p in cycles + shuffled), "some span exactly the window"
    for p in cycles + shuffled:
        index = np.array(p.transactions)
        assert p.length == len(index) == len(p.accounts) == len(set(p.accounts))
        assert np.array_equal(ledger.dst[index], np.roll(ledger.src[index], -1)), "follows the money"
        assert tuple(ledger.src[index]) == tuple(np.roll(p.accounts, -list(p.accounts).index(ledger.src[index[0]])))
        assert index[0] == index.min()
        first_payer = list(ledger.src[index]).index(p.accounts[0])
        amounts = np.roll(ledger.amount[index], -first_payer)  # from the first payer: each hop passes on 90-99 %
        assert np.all((amounts[1:] >= 0.9 * amounts[:-1]) & (amounts[1:] <= 0.995 * amounts[:-1]))
        descents = int(np.sum(np.diff(ledger.time[index]) <= 0)) + int(ledger.time[index[-1]] >= ledger.time[index[0]])
        if p.typology == "cycle":
            assert np.all(np.diff(ledger.time[index]) > 0)
        else:  # no rotation of it is in time order
            assert descents >= 2


def test_the_reference_search_finds_every_planted_cycle(small, found):
    time_order = set(found["time"].to_lists())
    any_order = set(found["any"].to_lists())
    for p in small.patterns:
        if p.typology == "cycle":
            assert p.transactions in time_order and p.transactions in any_order
        elif p.typology == "cycle-any-order":
            assert p.transactions in any_order and p.transactions not in time_order
    for order in ("time", "any"):
        spec = ScanSpec(window=WEEK, max_length=6, order=order)
        recovery = planted_cycle_recovery(found[order], small, spec)
        wanted = {"cycle"} if order == "time" else {"cycle", "cycle-any-order"}
        assert recovery.expected == sum(p.typology in wanted for p in small.patterns) > 0
        assert recovery.found == recovery.expected and recovery.recall == 1.0 and recovery.missed == ()
        assert sum(e for _, e, _ in recovery.by_length) == recovery.expected
        assert recovery.to_dict()["recall"] == 1.0


def test_recovery_reports_what_is_missed_and_what_the_question_excludes(small, found):
    spec = ScanSpec(window=WEEK, max_length=6)
    target = next(p for p in small.patterns if p.typology == "cycle" and p.length == 3)
    rest = Cycles.from_lists([c for c in found["time"].to_lists() if c != target.transactions])
    recovery = planted_cycle_recovery(rest, small, spec)
    assert recovery.missed == (target.pattern,) and recovery.found == recovery.expected - 1
    assert planted_cycle_recovery(Cycles.concatenate([]), small, spec).found == 0
    # a shorter question admits only the short, quick ones
    narrow = ScanSpec(window=3 * MICROSECONDS["d"], max_length=3)
    admitted = [p for p in small.patterns if p.typology == "cycle" and p.length <= 3 and p.span <= narrow.window]
    recovery = planted_cycle_recovery(depth_first(small.transactions(), narrow), small, narrow)
    assert recovery.expected == len(admitted) and recovery.recall == 1.0
    assert len(recovery.excluded) == sum(p.typology.startswith("cycle") for p in small.patterns) - len(admitted)
    # with a steep amount ratio no planted cycle (90-99 % per hop) is admitted beyond two hops
    steep = ScanSpec(window=WEEK, max_length=6, amount_ratio=0.995)
    assert planted_cycle_recovery(found["time"], small, steep).expected == 0


def test_round_trip_labels_on_the_small_ledger(small, found):
    features = cycle_features(found["any"], len(small), 6)
    scores = label_scores(features, small.is_laundering, small.typology)
    assert scores.recall_of("cycle") == scores.recall_of("cycle-any-order") == 1.0
    assert scores.tp + scores.fn == scores.laundering == int(small.is_laundering.sum())
    assert scores.tp + scores.fp == scores.flagged == int((features.sum(axis=1) > 0).sum())


# realism


def test_activity_is_heavy_tailed(medium):
    sends = np.sort(np.bincount(medium.src, minlength=medium.accounts))[::-1]
    receipts = np.sort(np.bincount(medium.dst, minlength=medium.accounts))[::-1]
    top = medium.accounts // 100
    assert sends[:top].sum() / len(medium) > 0.10  # uniform activity would give about 0.01-0.02
    assert receipts[:top].sum() / len(medium) > 0.20  # merchants and other hubs
    assert receipts[0] > 50 * np.median(receipts)


def test_people_pay_the_same_accounts_again(medium):
    pairs = medium.src.astype(np.int64) * medium.accounts + medium.dst
    _, counts = np.unique(pairs, return_counts=True)
    assert counts[counts > 1].sum() / len(medium) > 0.4  # a uniform choice of payee would almost never repeat


def test_days_and_nights_weekdays_and_weekends(medium):
    hours = np.bincount((medium.time // MICROSECONDS["h"]) % 24, minlength=24)
    assert hours[0:5].mean() < 0.15 * hours[10:17].mean()
    days = medium.time // MICROSECONDS["d"]
    weekday = (days + 3) % 7  # Monday 0
    per_day = np.bincount(days - days.min())
    weekday_of_day = (np.arange(len(per_day)) + days.min() + 3) % 7
    assert per_day[weekday_of_day == 6].mean() < 0.7 * per_day[weekday_of_day < 4].mean()
    assert set(weekday) == set(range(7))


def test_round_amounts_are_common(medium):
    whole_tens = np.mean(medium.amount % 10 == 0)
    assert 0.05 < whole_tens < 0.5


# files


def test_parquet_and_csv_hold_the_same_values(tmp_path):
    ledger = synthesize(200, 2_500, seed=9, laundering_share=0.03)
    ledger.write(tmp_path / "ledger.parquet")
    ledger.write(tmp_path / "ledger.csv")
    table = pq.read_table(tmp_path / "ledger.parquet")
    assert table.column_names == list(COLUMNS)
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("pattern").type == pa.int32() and table.schema.field("src").type == pa.string()
    names = ledger.account_names()
    expected = {
        "id": list(ledger.ids), "src": list(names[ledger.src]), "dst": list(names[ledger.dst]),
        "amount": ledger.amount.tolist(), "currency": ["USD"] * len(ledger),
        "is_laundering": ledger.is_laundering.tolist(), "typology": list(ledger.typology),
        "pattern": ledger.pattern.tolist(),
    }
    for name, values in expected.items():
        assert table.column(name).to_pylist() == values, name
    assert np.array_equal(table.column("timestamp").cast(pa.int64()).to_numpy(), ledger.time)

    with open(tmp_path / "ledger.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(COLUMNS) and len(rows) == len(ledger) + 1
    columns = dict(zip(rows[0], zip(*rows[1:])))
    assert list(columns["id"]) == expected["id"] and list(columns["src"]) == expected["src"]
    assert list(columns["dst"]) == expected["dst"] and list(columns["currency"]) == expected["currency"]
    assert [float(a) for a in columns["amount"]] == expected["amount"]
    assert [v == "true" for v in columns["is_laundering"]] == expected["is_laundering"]
    assert list(columns["typology"]) == expected["typology"]
    assert [int(v) for v in columns["pattern"]] == expected["pattern"]
    stamps = [int(datetime.fromisoformat(t).timestamp()) * MICROSECONDS["s"]
              for t in columns["timestamp"]]
    assert stamps == ledger.time.tolist() and all(t.endswith("Z") and "T" in t for t in columns["timestamp"])


def test_an_empty_ledger_writes_empty_files(tmp_path):
    ledger = synthesize(10, 0, seed=1)
    ledger.write(tmp_path / "empty.parquet")
    ledger.write(tmp_path / "empty.csv")
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0
    assert (tmp_path / "empty.csv").read_text().splitlines() == [",".join(COLUMNS)]


def test_prepared_folder(tmp_path, small):
    prepared = small.prepare(tmp_path / "prepared")
    tx = prepared.read()
    assert np.array_equal(tx.src, small.src) and np.array_equal(tx.time, small.time)
    assert prepared.meta["currency"] == "USD" and prepared.meta["accounts"] == small.accounts


@pytest.mark.parametrize("kwargs", [
    {"accounts": 1}, {"transactions": -1}, {"days": 0}, {"laundering_share": 0.9}, {"max_cycle_length": 1},
    {"max_cycle_length": 13}, {"currency": "US D"}, {"cycle_window": 2 * MICROSECONDS["s"]}, {"start": "soon"},
    {"accounts": 8, "laundering_share": 0.1},
])
def test_bad_arguments_are_refused(kwargs):
    arguments = {"accounts": 100, "transactions": 1_000, "seed": 1} | kwargs
    with pytest.raises(ValueError):
        synthesize(**arguments)


# label scores by hand


def test_label_scores_by_hand():
    features = np.array([[1, 0], [0, 0], [0, 3], [0, 0], [2, 1], [0, 0]])
    labels = np.array([True, True, False, False, True, True])
    typology = np.array(["cycle", "fan-in", "", "", "stack", "cycle"], dtype=object)
    s = label_scores(features, labels, typology)
    assert (s.transactions, s.flagged, s.laundering, s.tp, s.fp, s.fn) == (6, 3, 4, 2, 1, 2)
    assert s.precision == pytest.approx(2 / 3) and s.recall == pytest.approx(0.5)
    assert s.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert [(t.typology, t.transactions, t.flagged) for t in s.by_typology] == [
        ("cycle", 2, 1), ("fan-in", 1, 0), ("stack", 1, 1)]
    assert s.recall_of("cycle") == 0.5 and s.recall_of("stack") == 1.0
    d = s.to_dict()
    assert d["tp"] == 2 and d["by_typology"][0] == {"typology": "cycle", "transactions": 2, "flagged": 1, "recall": 0.5}


def test_label_scores_edge_cases():
    labels = np.array([False, True, True])
    typology = np.array(["", "cycle", "cycle"])
    nothing = label_scores(np.zeros((3, 5), dtype=int), labels, typology)
    assert (nothing.tp, nothing.fp, nothing.fn, nothing.precision, nothing.recall, nothing.f1) == (0, 0, 2, 0.0, 0.0, 0.0)
    perfect = label_scores(np.array([0, 1, 4]), labels, typology)  # one count per transaction
    assert (perfect.precision, perfect.recall, perfect.f1) == (1.0, 1.0, 1.0)
    everything = label_scores(np.ones((3, 1), dtype=int), labels, typology)
    assert everything.precision == pytest.approx(2 / 3) and everything.recall == 1.0 and everything.f1 == pytest.approx(0.8)
    clean = label_scores(np.ones((2, 1), dtype=int), np.array([False, False]), np.array(["", ""]))
    assert (clean.recall, clean.f1, clean.by_typology) == (0.0, 0.0, ())
    with pytest.raises(ValueError):
        label_scores(np.zeros((2, 1)), labels, typology)
