"""``loopscope synth`` and ``loopscope scan`` end to end: the files they write against the reference
searches (``scan.reference``), the planted patterns, the options' meaning (``scan.spec``), the
loader's rules as the command reports them (``scan.load``), and usage errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from loopscope.cli import app
from loopscope.scan.evaluate import planted_cycle_recovery
from loopscope.scan.memory import find_round_trips
from loopscope.scan.reference import brute_force, depth_first
from loopscope.scan.spec import Cycles, ScanSpec, Transactions, cycle_features, parse_duration
from loopscope.scan.synth import TYPOLOGIES, synthesize

runner = CliRunner()

SYNTH = dict(accounts=2_000, transactions=20_000, seed=7, laundering_share=0.02)
"""The synthetic ledger most tests scan (about 70 planted patterns, 29 of them cycles)."""


def cli(*args, code: int = 0):
    """Run ``loopscope`` in this process; check the exit status (no exception but the exit itself)."""
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}\n{result.exception!r}"
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def run(*args, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python -m loopscope`` as a user would, its output piped (no terminal: Rich's default width)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run([sys.executable, "-m", "loopscope", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, stdin=subprocess.DEVNULL, timeout=120)


def rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def trips(path: Path) -> list[tuple[str, ...]]:
    """The round trips of an output file as tuples of transaction ids, in file order."""
    return [tuple(r["transactions"]) for r in rows(path)]


def synth_index(ids) -> tuple[int, ...]:
    """A synthetic ledger's ids ``t0000001 …`` back to row positions (its rows are its time order)."""
    return tuple(int(i[1:]) - 1 for i in ids)


# --------------------------------------------------------------------------------------------------
# synth


@pytest.fixture(scope="module")
def synth_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "ledger.parquet"
    cli("synth", "--accounts", SYNTH["accounts"], "--transactions", SYNTH["transactions"], "--seed", SYNTH["seed"],
        "--laundering-share", SYNTH["laundering_share"], "-o", path)
    return path


@pytest.fixture(scope="module")
def ledger():
    return synthesize(SYNTH["accounts"], SYNTH["transactions"], SYNTH["seed"],
                      laundering_share=SYNTH["laundering_share"])


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_synth_writes_exactly_the_requested_transactions(tmp_path, suffix):
    out = tmp_path / f"ledger{suffix}"
    result = cli("synth", "--accounts", 300, "--transactions", 3_217, "--seed", 4, "-o", out)
    if suffix == ".parquet":
        records = rows(out)
        stamps = [int(r["timestamp"].timestamp() * 1_000_000) for r in records]
    else:
        with out.open(newline="", encoding="utf-8") as handle:
            records = list(csv.DictReader(handle))
        assert len(out.read_text(encoding="utf-8").splitlines()) == 3_218  # the header and one line per row
        stamps = [int(datetime.fromisoformat(r["timestamp"]).timestamp() * 1_000_000) for r in records]
    assert len(records) == 3_217
    expected = synthesize(300, 3_217, 4)
    assert stamps == expected.time.tolist()
    assert [r["src"] for r in records] == expected.account_names()[expected.src].tolist()
    assert [float(r["amount"]) for r in records] == expected.amount.tolist()
    assert [r["id"] for r in records] == expected.ids.tolist()
    # the planted patterns table: every typology with its count
    kinds = Counter(p.typology for p in expected.patterns)
    assert set(kinds) == set(TYPOLOGIES)
    assert "Planted patterns" in result.stdout
    text = " ".join(result.stdout.split())  # Rich may wrap the long line (the path) at the console's width
    assert f"{3_217:,} transactions between 300 accounts over 30 days written to {out};" in text
    assert f"{int(expected.is_laundering.sum()):,} labelled laundering in {len(expected.patterns):,} planted" in text
    table_rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
                  for line in result.stdout.splitlines() if line.count("│") == 3}
    assert table_rows == {name: f"{count:,}" for name, count in kinds.items()}


def test_synth_same_seed_same_bytes(tmp_path):
    for suffix in (".parquet", ".csv"):
        paths = [tmp_path / f"{name}{suffix}" for name in ("a", "b", "c")]
        for path, seed in zip(paths, (9, 9, 10)):
            cli("synth", "--accounts", 500, "--transactions", 4_000, "--seed", seed, "-o", path)
        assert paths[0].read_bytes() == paths[1].read_bytes()
        assert paths[0].read_bytes() != paths[2].read_bytes()
    # and the command writes what the API writes
    synthesize(500, 4_000, 9).write(tmp_path / "api.parquet")
    assert (tmp_path / "api.parquet").read_bytes() == (tmp_path / "a.parquet").read_bytes()


def test_synth_bad_suffix_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short path: a long one is wrapped (see test_long_error_lines_are_not_wrapped)
    result = cli("synth", "--accounts", 100, "--transactions", 100, "-o", "ledger.txt", code=2)
    assert result.stderr == "error: ledger.txt: write .parquet or .csv\n"
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------------
# scan on the synthetic ledger: the files against the references


@pytest.fixture(scope="module")
def time_scan(synth_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("scan-time") / "rt.parquet"
    result = cli("scan", synth_file, "-o", out, "--json")
    return out, json.loads(result.stdout)


@pytest.fixture(scope="module")
def any_scan(synth_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("scan-any") / "rt.parquet"
    result = cli("scan", synth_file, "--order", "any", "-o", out, "--json")
    return out, json.loads(result.stdout)


def check_round_trip_file(path: Path, ledger, expected: Cycles):
    """The round trips file lists exactly ``expected`` in canonical order, every column right."""
    table = rows(path)
    assert [synth_index(r["transactions"]) for r in table] == expected.to_lists()
    names = ledger.account_names()
    for number, (row, cycle) in enumerate(zip(table, expected.to_lists()), start=1):
        index = list(cycle)
        assert row["round_trip"] == number
        assert row["length"] == len(cycle)
        assert row["accounts"] == names[ledger.src[index]].tolist()
        assert row["amounts"] == ledger.amount[index].tolist()
        assert row["circulated_amount"] == ledger.amount[index].min()
        assert row["currency"] == "USD"
        stamp = ledger.time[index]
        assert row["first_time"] == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(stamp[0]))
        assert row["last_time"] == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(stamp.max()))
        # a round trip: the money comes back, through distinct accounts
        assert (ledger.dst[index] == np.roll(ledger.src[index], -1)).all()
        assert len(set(ledger.src[index].tolist())) == len(cycle)


def check_features_file(path: Path, source: Path, expected: Cycles, max_length: int):
    table = pq.read_table(path)
    n = SYNTH["transactions"]
    assert table.num_rows == n
    assert table.column_names == ["id", "source", "row"] + [f"cycles_{k}" for k in range(2, max_length + 1)] \
        + ["cycles_total"]
    assert synth_index(table.column("id").to_pylist()) == tuple(range(n))
    assert table.column("row").to_pylist() == list(range(1, n + 1))
    assert set(table.column("source").to_pylist()) == {str(source)}
    counts = np.column_stack([table.column(f"cycles_{k}").to_numpy() for k in range(2, max_length + 1)])
    np.testing.assert_array_equal(counts, cycle_features(expected, n, max_length))
    np.testing.assert_array_equal(table.column("cycles_total").to_numpy(), counts.sum(axis=1))
    return counts


def test_scan_time_order_equals_the_references(time_scan, synth_file, ledger):
    out, _ = time_scan
    spec = ScanSpec()
    reference = depth_first(ledger.transactions(), spec)
    assert len(reference) > 300 and set(reference.lengths().tolist()) == {2, 3, 4, 5, 6}
    assert find_round_trips(ledger.transactions(), spec).to_lists() == reference.to_lists()
    check_round_trip_file(out, ledger, reference)
    features = out.with_name("rt.features.parquet")  # the default name next to -o
    assert features.exists()
    counts = check_features_file(features, synth_file, reference, spec.max_length)
    assert counts.sum() == int(reference.lengths().sum())


def test_scan_finds_every_planted_time_ordered_cycle(time_scan, ledger):
    out, _ = time_scan
    found = Cycles.from_lists(synth_index(t) for t in trips(out))
    recovery = planted_cycle_recovery(found, ledger, ScanSpec())
    assert recovery.expected >= 15 and recovery.missed == () and recovery.found == recovery.expected
    assert {k for k, _, _ in recovery.by_length} == {2, 3, 4, 5, 6}
    # directly: every planted 'cycle' within the window is a round trip found; no 'cycle-any-order' is
    as_sets = {frozenset(t) for t in found.to_lists()}
    window = ScanSpec().window
    planted = [p for p in ledger.patterns if p.typology == "cycle" and p.span <= window]
    assert planted and all(frozenset(p.transactions) in as_sets for p in planted)
    shuffled = [p for p in ledger.patterns if p.typology == "cycle-any-order"]
    assert shuffled and not any(frozenset(p.transactions) in as_sets for p in shuffled)


def test_scan_any_order_finds_the_shuffled_cycles_too(any_scan, time_scan, synth_file, ledger):
    out, summary = any_scan
    spec = ScanSpec(order="any")
    reference = depth_first(ledger.transactions(), spec)
    assert find_round_trips(ledger.transactions(), spec).to_lists() == reference.to_lists()
    check_round_trip_file(out, ledger, reference)
    check_features_file(out.with_name("rt.features.parquet"), synth_file, reference, spec.max_length)
    found = Cycles.from_lists(synth_index(t) for t in trips(out))
    recovery = planted_cycle_recovery(found, ledger, spec)
    by_typology = {t: (expected, got) for t, expected, got in recovery.by_typology}
    assert by_typology["cycle-any-order"][0] >= 8 and by_typology["cycle-any-order"][0] == by_typology["cycle-any-order"][1]
    assert by_typology["cycle"][0] == by_typology["cycle"][1] > 0
    as_sets = {frozenset(t) for t in found.to_lists()}
    assert all(frozenset(p.transactions) in as_sets for p in ledger.patterns
               if p.typology in ("cycle", "cycle-any-order") and p.span <= spec.window)
    # a time-ordered round trip is an any-order one, listed the same way
    assert set(trips(time_scan[0])) < set(trips(out))
    assert summary["spec"]["order"] == "any"


@pytest.mark.parametrize("which", ["time", "any"])
def test_json_summary_matches_the_files(which, time_scan, any_scan, synth_file):
    out, summary = time_scan if which == "time" else any_scan
    table = rows(out)
    features = pq.read_table(out.with_name("rt.features.parquet"))
    assert summary["round_trips"] == len(table) > 0
    assert summary["by_length"] == {str(k): sum(r["length"] == k for r in table) for k in range(2, 7)}
    assert summary["transactions"] == summary["rows_read"] == SYNTH["transactions"]
    assert summary["rejected"] == 0 and summary["other_currency"] == 0
    assert summary["transactions_on_round_trips"] == int(np.count_nonzero(features.column("cycles_total").to_numpy()))
    assert summary["circulated_total"] == pytest.approx(sum(r["circulated_amount"] for r in table), rel=1e-12)
    assert summary["currency"] == "USD" and summary["engine"] == "memory"
    assert summary["spec"] == {"window": parse_duration("7d"), "max_length": 6, "min_amount": 0.0,
                               "amount_ratio": None, "order": which}
    assert summary["round_trips_path"] == str(out)
    assert summary["features_path"] == str(out.with_name("rt.features.parquet"))
    largest = sorted(table, key=lambda r: -r["circulated_amount"])[:10]
    assert [t["circulated"] for t in summary["largest"]] == [r["circulated_amount"] for r in largest]
    assert summary["largest"][0]["transactions"] == largest[0]["transactions"]


def test_small_chunks_give_the_same_files(time_scan, synth_file, tmp_path):
    out, _ = time_scan
    mine = tmp_path / "chunked.parquet"
    cli("scan", synth_file, "-o", mine, "--chunk-size", 1_234, "--quiet")
    assert pq.read_table(mine).equals(pq.read_table(out))
    assert pq.read_table(tmp_path / "chunked.features.parquet").equals(pq.read_table(out.with_name("rt.features.parquet")))


def test_csv_output_has_json_lists_and_the_parquet_content(time_scan, synth_file, tmp_path):
    out, _ = time_scan
    text = tmp_path / "rt.csv"
    cli("scan", synth_file, "-o", text, "--features", tmp_path / "features.csv", "--quiet")
    assert not (tmp_path / "rt.features.parquet").exists()
    with text.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    expected = rows(out)
    assert len(records) == len(expected) > 0
    for got, want in zip(records, expected):
        assert int(got["round_trip"]) == want["round_trip"] and int(got["length"]) == want["length"]
        for name in ("transactions", "accounts", "amounts"):
            assert got[name].startswith("[") and json.loads(got[name]) == want[name]
        assert float(got["circulated_amount"]) == want["circulated_amount"]
        assert datetime.fromisoformat(got["first_time"]) == want["first_time"]
        assert datetime.fromisoformat(got["last_time"]) == want["last_time"]
        assert got["currency"] == want["currency"]
    with (tmp_path / "features.csv").open(newline="", encoding="utf-8") as handle:
        features = list(csv.DictReader(handle))
    parquet_features = rows(out.with_name("rt.features.parquet"))
    assert len(features) == len(parquet_features) == SYNTH["transactions"]
    assert [{k: str(v) for k, v in r.items()} for r in parquet_features] == features


def test_duckdb_engine_equals_the_memory_engine(tmp_path):
    pytest.importorskip("loopscope.backends.duckdb_engine")
    path = tmp_path / "ledger.parquet"
    synthesize(300, 3_000, 12, laundering_share=0.05).write(path)
    for options in ([], ["--order", "any", "--max-length", "5"], ["--window", "36h", "--min-amount", "50"],
                    ["--amount-ratio", "0.9"]):
        outputs = {}
        for engine in ("memory", "duckdb"):
            outputs[engine] = tmp_path / f"{engine}.parquet"
            result = cli("scan", path, "--engine", engine, "-o", outputs[engine], "--json", *options)
            assert json.loads(result.stdout)["engine"] == engine
        assert len(rows(outputs["memory"])) > 0
        assert pq.read_table(outputs["duckdb"]).equals(pq.read_table(outputs["memory"])), options
        assert pq.read_table(tmp_path / "duckdb.features.parquet").equals(
            pq.read_table(tmp_path / "memory.features.parquet")), options


# --------------------------------------------------------------------------------------------------
# the options on a hand-made ledger: what scan.spec says, against brute force and by hand

START = datetime(2025, 1, 1, tzinfo=UTC)
HAND = [  # id, src, dst, amount, hours after START
    ("x1", "A", "B", 100, 0), ("x2", "B", "A", 95, 2), ("x3", "B", "A", 80, 40),  # X = x1 x2, X' = x1 x3
    ("c1", "C", "D", 100, 1), ("c2", "D", "E", 50, 3), ("c3", "E", "C", 45, 5),  # Y: 3 hops in 4 h
    ("f1", "F", "G", 200, 0), ("f2", "G", "H", 190, 10), ("f3", "H", "I", 185, 20), ("f4", "I", "F", 180, 30),  # Z
    ("j1", "J", "K", 60, 10), ("j2", "K", "L", 60, 9), ("j3", "L", "J", 60, 8),  # J: in any order only
    ("m1", "M", "N", 5, 2), ("m2", "N", "M", 5, 3),  # M: small amounts
    ("p1", "P", "Q", 30, 4), ("p2", "Q", "P", 30, 4),  # P: at the same time
    ("s1", "A", "A", 50, 1),  # a self-transfer is never part of a round trip
]
X, X2, Y, Z, J, M, P = (("x1", "x2"), ("x1", "x3"), ("c1", "c2", "c3"), ("f1", "f2", "f3", "f4"),
                        ("j3", "j1", "j2"), ("m1", "m2"), ("p1", "p2"))


def hand_time(hours: int) -> datetime:
    return START + timedelta(hours=hours)


def write_hand(path: Path, *, header=("id", "src", "dst", "amount", "timestamp"), stamp=None, extra=False,
               ledger=HAND) -> Path:
    stamp = stamp or (lambda h: hand_time(h).strftime("%Y-%m-%dT%H:%M:%SZ"))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(header) + (["note"] if extra else []))
        for ident, src, dst, amount, hours in ledger:
            writer.writerow([ident, src, dst, amount, stamp(hours)] + (["ignored, really"] if extra else []))
    return path


def hand_reference(spec: ScanSpec, ledger=HAND) -> tuple[list[tuple[str, ...]], np.ndarray, list[str]]:
    """Brute force on the hand ledger: round trips as ids, and the features with the ids in time order."""
    names = sorted({r[1] for r in ledger} | {r[2] for r in ledger})
    number = {name: i for i, name in enumerate(names)}
    times = [int((hand_time(r[4]) - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1)) for r in ledger]
    tx = Transactions.from_arrays([number[r[1]] for r in ledger], [number[r[2]] for r in ledger],
                                  [r[3] for r in ledger], times)
    ids = [ledger[i][0] for i in np.argsort(times, kind="stable")]
    found = brute_force(tx, spec)
    return ([tuple(ids[e] for e in c) for c in found.to_lists()], cycle_features(found, len(tx), spec.max_length),
            ids)


def spec_of(options: list[str]) -> ScanSpec:
    values = dict(zip(options[::2], options[1::2]))
    return ScanSpec(window=parse_duration(values.get("--window", "7d")),
                    max_length=int(values.get("--max-length", 6)), min_amount=float(values.get("--min-amount", 0)),
                    amount_ratio=float(values["--amount-ratio"]) if "--amount-ratio" in values else None,
                    order=values.get("--order", "time"))


@pytest.fixture(scope="module")
def hand_file(tmp_path_factory) -> Path:
    return write_hand(tmp_path_factory.mktemp("hand") / "hand.csv")


@pytest.mark.parametrize("options, expected", [
    ([], {X, X2, Y, Z, M}),
    (["--window", "30h"], {X, Y, Z, M}),  # inclusive: Z spans exactly 30 h
    (["--window", "29h"], {X, Y, M}),
    (["--window", "4h"], {X, Y, M}),
    (["--window", "3h"], {X, M}),
    (["--max-length", "3"], {X, X2, Y, M}),
    (["--max-length", "2"], {X, X2, M}),
    (["--min-amount", "10"], {X, X2, Y, Z}),
    (["--min-amount", "46"], {X, X2, Z}),  # c3 carries 45
    (["--amount-ratio", "0.5"], {X, X2, Y, Z, M}),  # c2 is exactly half of c1
    (["--amount-ratio", "0.9"], {X, Z, M}),  # x3 is 0.8 of x1, c2 0.5 of c1
    (["--amount-ratio", "1"], {M}),
    (["--order", "any"], {X, X2, Y, Z, J, M, P}),
    (["--order", "any", "--window", "2h"], {X, J, M, P}),
    (["--order", "any", "--window", "0s"], {P}),
    (["--order", "any", "--max-length", "2", "--min-amount", "10"], {X, X2, P}),
])
def test_options_change_the_round_trips_as_the_spec_says(hand_file, tmp_path, options, expected):
    out = tmp_path / "rt.parquet"
    result = cli("scan", hand_file, "-o", out, "--json", *options)
    found = trips(out)
    assert set(found) == expected
    reference, features, ids = hand_reference(spec_of(options))
    assert found == reference  # the same round trips, listed the same way and in the same order
    table = pq.read_table(tmp_path / "rt.features.parquet")
    assert table.column("id").to_pylist() == ids
    counts = np.column_stack([table.column(name).to_numpy() for name in table.column_names[3:-1]])
    np.testing.assert_array_equal(counts, features)
    summary = json.loads(result.stdout)
    assert summary["round_trips"] == len(expected) and summary["transactions"] == len(HAND)
    assert summary["spec"] == {"window": spec_of(options).window, "max_length": spec_of(options).max_length,
                               "min_amount": spec_of(options).min_amount,
                               "amount_ratio": spec_of(options).amount_ratio, "order": spec_of(options).order}


def test_default_output_is_readable_text(hand_file):
    result = cli("scan", hand_file)
    out = result.stdout
    assert f"{len(HAND)} transactions scanned by the" in out
    assert "5 round trips; 12 transactions lie on at least one" in out
    assert "(currency not given)" in out
    assert "F → G → H → I → F" in out and "f1, f2, f3, f4" in out
    assert "2025-01-01 00:00:00" in out and "2025-01-02 06:00:00" in out  # Z: first and last (UTC)
    assert result.stderr == ""


# --------------------------------------------------------------------------------------------------
# columns and time formats


def same_round_trips(path: Path, tmp_path: Path, *options) -> list[dict]:
    out = tmp_path / "rt.parquet"
    cli("scan", path, "-o", out, "--quiet", *options)
    table = rows(out)
    assert [tuple(r["transactions"]) for r in table] == hand_reference(ScanSpec())[0]
    z = next(r for r in table if r["length"] == 4)
    assert (z["first_time"], z["last_time"]) == (hand_time(0), hand_time(30))
    assert z["accounts"] == ["F", "G", "H", "I"] and z["amounts"] == [200.0, 190.0, 185.0, 180.0]
    return table


def test_custom_column_names(tmp_path):
    path = write_hand(tmp_path / "custom.csv", header=("txid", "payer", "payee", "value", "when"), extra=True)
    same_round_trips(path, tmp_path, "--src-column", "payer", "--dst-column", "payee", "--amount-column", "value",
                     "--time-column", "when", "--id-column", "txid")
    # without the mapping the columns are missing: a problem with the input, named
    result = cli("scan", path, code=1)
    assert "src" in result.stderr and "custom.csv" in result.stderr
    # a named id column must exist
    result = cli("scan", path, "--src-column", "payer", "--dst-column", "payee", "--amount-column", "value",
                 "--time-column", "when", "--id-column", "nope", code=1)
    assert "nope" in result.stderr


def test_time_format(tmp_path):
    path = write_hand(tmp_path / "slashes.csv", stamp=lambda h: hand_time(h).strftime("%Y/%m/%d %H:%M"))
    same_round_trips(path, tmp_path, "--time-format", "%Y/%m/%d %H:%M")
    result = cli("scan", path, code=1)  # not ISO 8601: every row is malformed without the format
    assert "row 1: timestamp:" in result.stderr and "18 rows are malformed" in result.stderr


def test_time_unit_seconds(tmp_path):
    path = write_hand(tmp_path / "epoch.csv", stamp=lambda h: str(int(hand_time(h).timestamp())))
    same_round_trips(path, tmp_path, "--time-unit", "s")
    # the same numbers read as milliseconds: 1000 times closer, so a window of 100 s spans 100,000 s of the above
    cli("scan", path, "--time-unit", "ms", "--window", "100s", "-o", tmp_path / "ms.parquet", "--quiet")
    assert trips(tmp_path / "ms.parquet") == hand_reference(ScanSpec(window=parse_duration("100000s")))[0] == [X, Y, M]


# --------------------------------------------------------------------------------------------------
# malformed rows and currencies

BAD_HEADER = ["id", "src", "dst", "amount", "timestamp"]
BAD_ROWS = [
    ["a1", "A", "B", "10", "2025-01-01T00:00:00Z"],
    ["a2", "B", "A", "9", "2025-01-01T01:00:00Z"],
    ["a3", "A", "", "5", "2025-01-01T02:00:00Z"],  # row 3: dst empty
    ["a4", "C", "A", "1,5", "2025-01-01T03:00:00Z"],  # row 4: amount with a comma
    ["a5", "C", "A", "7", "01/09/2025"],  # row 5: timestamp not ISO
    ["a6", "A", "C", "7", "2025-01-01T04:00:00Z"],
    ["a7", "C", "A", "6", "2025-01-01T05:00:00Z"],
    ["a8", "C", "B", "-2", "2025-01-01T06:00:00Z"],  # row 8: negative amount
]
BAD = {3: "dst", 4: "amount", 5: "timestamp", 8: "amount"}


@pytest.fixture
def bad_file(tmp_path) -> Path:
    path = tmp_path / "bad.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(BAD_HEADER)
        writer.writerows(BAD_ROWS)
    return path


def test_malformed_rows_stop_the_scan_and_are_named(bad_file, tmp_path):
    out = tmp_path / "rt.parquet"
    result = cli("scan", bad_file, "-o", out, code=1)
    assert "4 rows are malformed" in result.stderr
    for row, field in BAD.items():
        assert f"{bad_file} row {row}: {field}:" in result.stderr
    assert "--rejects" in result.stderr and "Traceback" not in result.output
    assert not out.exists() and not (tmp_path / "rt.features.parquet").exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_rejects_file_takes_the_malformed_rows_and_the_rest_is_scanned(bad_file, tmp_path, suffix):
    rejects = tmp_path / f"rejects{suffix}"
    out = tmp_path / "rt.parquet"
    result = cli("scan", bad_file, "--rejects", rejects, "-o", out, "--json")
    assert f"4 malformed rows set aside in {rejects}" in result.stderr
    assert f"{bad_file} row 3: dst" in result.stderr
    if suffix == ".csv":
        with rejects.open(newline="", encoding="utf-8") as handle:
            got = list(csv.DictReader(handle))
    else:
        got = [{k: str(v) for k, v in r.items()} for r in rows(rejects)]
    assert [int(r["row"]) for r in got] == list(BAD)
    assert [r["field"] for r in got] == list(BAD.values())
    assert {r["source"] for r in got} == {str(bad_file)}
    assert [[r[name] for name in BAD_HEADER] for r in got] == [BAD_ROWS[row - 1] for row in BAD]  # original cells
    assert [r["value"] for r in got] == ["", "1,5", "01/09/2025", "-2"]
    summary = json.loads(result.stdout)
    assert (summary["rows_read"], summary["rejected"], summary["transactions"]) == (8, 4, 4)
    # the good rows a1 a2 a6 a7: A→B→A and A→C→A
    assert trips(out) == [("a1", "a2"), ("a6", "a7")]


def test_rejects_file_is_written_empty_for_a_clean_ledger(hand_file, tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = cli("scan", hand_file, "--rejects", rejects, "--quiet")
    assert "malformed" not in result.stderr
    with rejects.open(newline="", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == []


@pytest.fixture
def currencies_file(tmp_path) -> Path:
    path = tmp_path / "currencies.csv"
    path.write_text("id,src,dst,amount,timestamp,currency\n"
                    "e1,A,B,10,2025-01-01T00:00:00Z,EUR\n"
                    "e2,B,A,9,2025-01-01T01:00:00Z,EUR\n"
                    "u1,A,C,5,2025-01-01T02:00:00Z,USD\n"
                    "u2,C,A,5,2025-01-01T03:00:00Z,USD\n"
                    "g1,C,A,5,2025-01-01T03:00:00Z,GBP\n", encoding="utf-8")
    return path


def test_mixed_currencies_stop_the_scan(currencies_file):
    result = cli("scan", currencies_file, code=1)
    assert str(currencies_file) in result.stderr
    assert "EUR (2 rows)" in result.stderr and "USD (2 rows)" in result.stderr and "GBP (1 row)" in result.stderr
    assert "--currency" in result.stderr


def test_one_currency_is_scanned_and_the_others_reported(currencies_file, tmp_path):
    out = tmp_path / "rt.parquet"
    result = cli("scan", currencies_file, "--currency", "EUR", "-o", out, "--json")
    assert "3 rows in currencies other than EUR left out" in result.stderr
    summary = json.loads(result.stdout)
    assert (summary["transactions"], summary["other_currency"], summary["currency"]) == (2, 3, "EUR")
    assert [(r["transactions"], r["currency"]) for r in rows(out)] == [(["e1", "e2"], "EUR")]
    assert pq.read_table(tmp_path / "rt.features.parquet").column("id").to_pylist() == ["e1", "e2"]
    text = cli("scan", currencies_file, "--currency", "USD").stdout
    assert "9.00 USD circulated" not in text and "5.00 USD circulated" in text
    result = cli("scan", currencies_file, "--currency", "JPY", code=1)
    assert "JPY" in result.stderr and "EUR (2 rows)" in result.stderr


# --------------------------------------------------------------------------------------------------
# usage errors: exit 2, one line, no traceback (run as a user runs it)


@pytest.mark.parametrize("options, message", [
    (["--window", "7x"], "error: '7x' is not a duration"),
    (["--max-length", "1"], "error: max_length must be between 2 and 12, not 1"),
    (["--order", "any", "--amount-ratio", "0.9"], "error: amount_ratio needs time order"),
    (["--chunk-size", "0"], "error: --chunk-size must be at least 1, not 0"),
    (["--threads", "0"], "error: --threads must be between 1 and"),
    (["--engine", "nope"], "error: --engine must be one of auto, memory, duckdb, spark, not 'nope'"),
    (["-o", "rt.txt"], "error: rt.txt: write .parquet or .csv"),
])
def test_bad_arguments_exit_2_with_one_line(hand_file, tmp_path, options, message):
    result = run("scan", hand_file, *options, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_bad_argument_messages_are_complete_even_when_wrapped(hand_file, tmp_path):
    result = run("scan", hand_file, "--order", "any", "--amount-ratio", "0.9", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert " ".join(result.stderr.split()) == ("error: amount_ratio needs time order: with order 'any' there is no "
                                               "'previous hop'")


def test_long_error_lines_are_not_wrapped(tmp_path):
    missing = tmp_path / ("a-ledger-with-a-long-name-" * 4 + ".csv")
    result = run("scan", missing, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"error: {missing}: no such file or folder\n"


def test_missing_ledger_exits_2(tmp_path):
    result = run("scan", "no-such-ledger.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "error: no-such-ledger.csv: no such file or folder\n"
    assert result.stdout == ""


def test_an_output_may_not_overwrite_the_ledger(hand_file, tmp_path):
    copy = tmp_path / "copy.csv"
    copy.write_bytes(Path(hand_file).read_bytes())
    before = copy.read_bytes()
    result = run("scan", copy, "-o", copy, cwd=tmp_path)
    assert result.returncode == 2 and "is the ledger itself" in result.stderr
    result = run("scan", copy, "--features", copy, cwd=tmp_path)
    assert result.returncode == 2 and "is the ledger itself" in result.stderr
    assert copy.read_bytes() == before
