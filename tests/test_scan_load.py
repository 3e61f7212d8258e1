"""The ledger loader (``loopscope.scan.load``): CSV, Parquet and folders of parts into a prepared ledger,
every malformed row named by file, row and field, nothing changed or dropped silently."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopscope.scan.load import Columns, LoadError, Rejection, load_ledger
from loopscope.scan.prepared import PreparedLedger

HEADER = ["src", "dst", "amount", "timestamp", "id", "currency"]
ROWS = [  # a small ledger with ties in time, accounts that sort in a non-obvious order, and a note column
    ["b", "a", "10", "2025-09-01 08:00:00", "t1", "EUR"],
    ["a", "c", "12.50", "2025-09-01", "t2", "EUR"],
    ["c", "b", "7", "2025-09-01 08:00:00", "t3", "EUR"],
    ["Z", "é", "1e3", "2025-09-02T00:00:00.25", "t4", "EUR"],
    ["é", "b", ".5", "2025-08-31T23:00:00Z", "t5", "EUR"],
]


def us(*args, tz=UTC) -> int:
    """Microseconds since 1970 UTC of a datetime given as in ``datetime(...)``."""
    return int((datetime(*args, tzinfo=tz) - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


def write_csv(path: Path, header, rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_parquet(path: Path, header, rows, **types) -> Path:
    """Rows of text as a Parquet file; ``types`` converts named columns (a function of the text list)."""
    columns = {name: [row[i] for row in rows] for i, name in enumerate(header)}
    table = pa.table({name: types[name](values) if name in types else pa.array(values, pa.string())
                      for name, values in columns.items()})
    pq.write_table(table, path)
    return path


def naive_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def typed():
    """Parquet types for the ledger's text: float amounts and (naive, UTC) timestamps."""
    return {"amount": lambda v: pa.array([float(x) for x in v]),
            "timestamp": lambda v: pa.array([naive_utc(x) for x in v], pa.timestamp("us"))}


def table(folder) -> list[dict]:
    return pq.read_table(Path(folder) / "transactions.parquet").to_pylist()


def names(folder) -> list[str]:
    return pq.read_table(Path(folder) / "accounts.parquet").column("name").to_pylist()


def load_error(*args, **kwargs) -> LoadError:
    with pytest.raises(LoadError) as info:
        load_ledger(*args, **kwargs)
    return info.value


# --------------------------------------------------------------------------------------------------
# the prepared folder


def test_prepared_folder_is_time_sorted_numbered_and_complete(tmp_path):
    result = load_ledger(write_csv(tmp_path / "l.csv", HEADER, ROWS), tmp_path / "out")
    assert (result.rows_read, result.accepted, result.rejected, result.other_currency) == (5, 5, 0, 0)
    assert result.currency == "EUR" and result.rejections == ()
    assert names(tmp_path / "out") == ["Z", "a", "b", "c", "é"]  # code point order, as Python sorts
    got = table(tmp_path / "out")
    assert [r["idx"] for r in got] == [0, 1, 2, 3, 4]
    # by time; the two rows at 08:00 keep their source order (row 1 before row 3)
    assert [r["id"] for r in got] == ["t5", "t2", "t1", "t3", "t4"]
    assert [r["row"] for r in got] == [5, 2, 1, 3, 4]
    assert got[0] == {"idx": 0, "src": 4, "dst": 2, "amount": 0.5, "ts": us(2025, 8, 31, 23), "id": "t5",
                      "source": str(tmp_path / "l.csv"), "row": 5}
    assert [r["amount"] for r in got] == [0.5, 12.5, 10.0, 7.0, 1000.0]
    assert got[-1]["ts"] == us(2025, 9, 2, 0, 0, 0, 250000)
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert meta == {"transactions": 5, "accounts": 5, "currency": "EUR", "rejected": 0,
                    "source": str(tmp_path / "l.csv")}
    tx = PreparedLedger(tmp_path / "out").read()
    assert tx.src.dtype == np.int32 and tx.time.dtype == np.int64
    assert tx.time.tolist() == sorted(tx.time.tolist())
    # nothing else is left there: the work folder (DuckDB's spill space) is gone
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["accounts.parquet", "meta.json",
                                                                    "transactions.parquet"]


def test_csv_parquet_gzip_and_folder_give_the_same_prepared_ledger(tmp_path):
    csv_path = write_csv(tmp_path / "l.csv", HEADER, ROWS)
    gz_path = tmp_path / "l.csv.gz"
    gz_path.write_bytes(gzip.compress(csv_path.read_bytes()))
    text_parquet = write_parquet(tmp_path / "text.parquet", HEADER, ROWS)
    typed_parquet = write_parquet(tmp_path / "typed.parquet", HEADER, ROWS, **typed())
    parts = tmp_path / "parts"
    (parts / "b").mkdir(parents=True)
    write_parquet(parts / "a.parquet", HEADER, ROWS[:2])
    write_parquet(parts / "b" / "c.parquet", HEADER, ROWS[2:4])  # sorted path order: a, b/c, d
    write_parquet(parts / "d.parquet", HEADER, ROWS[4:])
    (parts / "_temporary").mkdir()
    write_parquet(parts / "_temporary" / "x.parquet", HEADER, ROWS)  # Spark's leftovers are skipped
    outs = {}
    for name, path in [("csv", csv_path), ("gz", gz_path), ("text", text_parquet), ("typed", typed_parquet),
                       ("folder", parts)]:
        load_ledger(path, tmp_path / name)
        outs[name] = [{k: v for k, v in r.items() if k not in ("source", "row")} for r in table(tmp_path / name)]
        assert names(tmp_path / name) == names(tmp_path / "csv")
    for name, rows in outs.items():
        assert rows == outs["csv"], name
    folder = table(tmp_path / "folder")
    assert {(r["id"], r["source"], r["row"]) for r in folder} == {
        ("t1", str(parts / "a.parquet"), 1), ("t2", str(parts / "a.parquet"), 2),
        ("t3", str(parts / "b" / "c.parquet"), 1), ("t4", str(parts / "b" / "c.parquet"), 2),
        ("t5", str(parts / "d.parquet"), 1)}


def test_ties_follow_file_order_then_row_and_ids_without_an_id_column(tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    rows = [["x", "y", "1", "2025-01-01"], ["y", "x", "2", "2025-01-01"]]
    write_parquet(parts / "2.parquet", HEADER[:4], rows)
    write_parquet(parts / "10.parquet", HEADER[:4], rows)  # "10.parquet" sorts before "2.parquet"
    load_ledger(parts, tmp_path / "out")
    assert [r["id"] for r in table(tmp_path / "out")] == ["10.parquet:1", "10.parquet:2", "2.parquet:1", "2.parquet:2"]
    load_ledger(write_csv(tmp_path / "l.csv", HEADER[:4], rows * 2), tmp_path / "out2")
    assert [r["id"] for r in table(tmp_path / "out2")] == ["1", "2", "3", "4"]
    assert json.loads((tmp_path / "out2" / "meta.json").read_text())["currency"] is None


def test_empty_ledger_loads_to_an_empty_prepared_folder(tmp_path):
    result = load_ledger(write_csv(tmp_path / "l.csv", HEADER, []), tmp_path / "out")
    assert (result.rows_read, result.accepted) == (0, 0)
    assert len(PreparedLedger(tmp_path / "out")) == 0 and len(PreparedLedger(tmp_path / "out").read()) == 0
    assert table(tmp_path / "out") == [] and names(tmp_path / "out") == []
    result = load_ledger(write_parquet(tmp_path / "l.parquet", HEADER, []), tmp_path / "out2")
    assert result.accepted == 0 and len(PreparedLedger(tmp_path / "out2").read()) == 0


def test_parquet_integer_accounts_and_ids_become_their_decimal_text(tmp_path):
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"src": pa.array([10, 9, -1], pa.int64()), "dst": pa.array([9, 10, 10], pa.uint32()),
                             "amount": pa.array([1, 2, 3], pa.int32()),
                             "timestamp": pa.array([date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)]),
                             "id": pa.array([7, 8, 9])}), path)
    load_ledger(path, tmp_path / "out")
    assert names(tmp_path / "out") == ["-1", "10", "9"]
    got = table(tmp_path / "out")
    assert [(r["src"], r["dst"], r["amount"], r["id"]) for r in got] == [(1, 2, 1.0, "7"), (2, 1, 2.0, "8"),
                                                                         (0, 1, 3.0, "9")]
    assert got[1]["ts"] == us(2025, 1, 2)
    pq.write_table(pa.table({"src": pa.array([1.5]), "dst": ["a"], "amount": [1.0], "timestamp": ["2025-01-01"]}),
                   tmp_path / "float.parquet")
    error = load_error(tmp_path / "float.parquet", tmp_path / "out2")
    assert "'src' holds DOUBLE values" in str(error) and "text or whole numbers" in str(error)


def test_a_failed_load_leaves_the_previous_prepared_ledger(tmp_path):
    load_ledger(write_csv(tmp_path / "l.csv", HEADER, ROWS), tmp_path / "out")
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    load_error(write_csv(tmp_path / "bad.csv", HEADER, [["a", "b", "x", "2025-01-01", "1", "EUR"]]), tmp_path / "out")
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before


def test_spills_to_disk_under_a_small_memory_limit(tmp_path):
    """300,000 rows with many ties in time under a 40 MB limit (DuckDB spills ~50 MB to the work folder)."""
    n = 300_000
    rng = np.random.default_rng(1)
    src = np.char.add("acct", rng.integers(0, 5000, n).astype(str))
    dst = np.char.add("acct", rng.integers(0, 5000, n).astype(str))
    seconds = rng.integers(0, 1000, n)
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"src": pa.array(src), "dst": pa.array(dst), "amount": rng.random(n) * 100,
                             "timestamp": pa.array(seconds * 10**6, pa.timestamp("us"))}), path)
    result = load_ledger(path, tmp_path / "out", memory_limit="40MB", threads=1)
    assert result.accepted == n
    got = pq.read_table(tmp_path / "out" / "transactions.parquet")
    order = np.lexsort((np.arange(n), seconds))  # by time, ties in row order
    assert np.array_equal(got.column("idx").to_numpy(), np.arange(n))
    assert np.array_equal(got.column("row").to_numpy(), order + 1)
    assert np.array_equal(got.column("ts").to_numpy(), seconds[order] * 10**6)
    accounts = np.array(names(tmp_path / "out"))
    assert np.array_equal(accounts[got.column("src").to_numpy()], src[order])
    assert np.array_equal(accounts[got.column("dst").to_numpy()], dst[order])


# --------------------------------------------------------------------------------------------------
# inputs and columns


def test_column_mapping_for_an_amlworld_style_file(tmp_path):
    header = ["Timestamp", "From Bank", "Account", "To Bank", "Account", "Amount Received", "Receiving Currency",
              "Amount Paid", "Payment Currency", "Payment Format", "Is Laundering"]
    rows = [["2022/09/01 00:20", "10", "8000EBD30", "10", "8000EBD31", "3697.34", "US Dollar", "3697.34",
             "US Dollar", "Reinvestment", "0"],
            ["2022/09/01 00:15", "3208", "8000F4580", "1", "8000EBD30", "0.01", "Euro", "0.01", "US Dollar",
             "Cheque", "0"]]
    columns = Columns(src="Account", dst="Account_1", amount="Amount Paid", timestamp="Timestamp",
                      currency="Payment Currency")
    result = load_ledger(write_csv(tmp_path / "HI-Small_Trans.csv", header, rows), tmp_path / "out", columns=columns,
                         time_format="%Y/%m/%d %H:%M")
    assert result.currency == "US Dollar"
    assert names(tmp_path / "out") == ["8000EBD30", "8000EBD31", "8000F4580"]
    assert [(r["src"], r["dst"], r["amount"], r["ts"], r["id"]) for r in table(tmp_path / "out")] == [
        (2, 0, 0.01, us(2022, 9, 1, 0, 15), "2"), (0, 1, 3697.34, us(2022, 9, 1, 0, 20), "1")]


def test_missing_and_wrongly_mapped_columns_are_named(tmp_path):
    path = write_csv(tmp_path / "l.csv", ["from", "to", "Amount", "timestamp", "memo"], [])
    message = str(load_error(path, tmp_path / "out"))
    assert message.startswith(f"{path} has no columns 'src', 'dst', 'amount'; its columns are 'from', 'to', 'Amount', "
                              f"'timestamp', 'memo'.")
    assert "'Amount' differs from 'amount' only in case" in message
    ok = Columns(src="from", dst="to", amount="Amount")
    assert load_ledger(path, tmp_path / "out", columns=ok).accepted == 0  # default id/currency: absent is fine
    message = str(load_error(path, tmp_path / "out", columns=Columns(src="from", dst="to", amount="Amount",
                                                                       id="txn")))
    assert "has no column 'txn'" in message and "'memo'" in message
    semicolons = tmp_path / "semi.csv"
    semicolons.write_text("src;dst;amount;timestamp\na;b;1;2025-01-01\n", encoding="utf-8")
    assert "separated by something other than commas" in str(load_error(semicolons, tmp_path / "out"))
    parts = tmp_path / "parts"
    parts.mkdir()
    write_parquet(parts / "a.parquet", HEADER, ROWS[:1])
    write_parquet(parts / "b.parquet", HEADER[:4], [r[:4] for r in ROWS[1:2]])
    message = str(load_error(parts, tmp_path / "out"))
    assert f"{parts / 'b.parquet'} has no column 'id' but {parts / 'a.parquet'} has" in message
    write_parquet(parts / "b.parquet", HEADER[1:], [r[1:] for r in ROWS[1:2]])
    assert str(load_error(parts, tmp_path / "out")).startswith(f"{parts / 'b.parquet'} has no column 'src'")


@pytest.mark.parametrize("name, content, expected", [
    ("l.txt", "src,dst\n", "is neither a CSV file"),
    ("nothing.csv", None, "does not exist"),
    ("zero.csv", "", "is empty: a CSV ledger starts with a header row"),
    ("short.csv", "src,dst,amount,timestamp\na,b,1,2025-01-01\nc,d,2\n", "line 3: expected 4 cells (as in the header), found 3"),
    ("quote.csv", 'src,dst,amount,timestamp\na,"b,1,2025-01-01\n', "line 2: value with unterminated quote"),
    ("latin1.csv", b"src,dst,amount,timestamp\na,b\xe9,1,2025-01-01\n", "is not UTF-8"),
    ("broken.parquet", "PAR1 not really", "could not be read as a Parquet file"),
])
def test_unreadable_inputs_are_errors_in_sentences(tmp_path, name, content, expected):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    message = str(load_error(path, tmp_path / "out"))
    assert expected in message and str(path) in message
    assert "Traceback" not in message and "Possible fixes" not in message and message.endswith(".")


def test_an_empty_folder_is_an_error_and_the_output_folder_inside_is_skipped(tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "notes.csv").write_text("src,dst\n")
    assert "without .parquet files" in str(load_error(tmp_path / "parts", tmp_path / "out"))
    write_parquet(tmp_path / "parts" / "a.parquet", HEADER, ROWS)
    load_ledger(tmp_path / "parts", tmp_path / "parts" / "prepared")
    again = load_ledger(tmp_path / "parts", tmp_path / "parts" / "prepared")  # its own output is not an input
    assert again.rows_read == len(ROWS)


# --------------------------------------------------------------------------------------------------
# malformed rows


GOOD = ["a", "b", "1", "2025-01-01", "id1", "EUR"]


@pytest.mark.parametrize("column, value, message", [
    ("src", "", "empty cell"),
    ("src", " \t", "' \\t' is only whitespace"),
    ("dst", "\u3000", "'\u3000' is only whitespace"),
    ("amount", "12,5", "'12,5' is not a number (write plain decimals like 1234.5: no thousands separators"),
    ("amount", "1,000", "'1,000' is not a number"),
    ("amount", "-3", "'-3' is negative: amounts are 0 or more"),
    ("amount", "NaN", "'NaN' is not a finite number"),
    ("amount", "inf", "'inf' is not a finite number"),
    ("amount", "1e999", "'1e999' is too large"),
    ("amount", "١٢", "'١٢' is not a number (write plain decimals like 12.5)"),
    ("amount", " 12", "' 12' is not a number"),
    ("amount", "1_000", "'1_000' is not a number"),
    ("amount", "", "empty cell"),
    ("timestamp", "01/09/2025", "'01/09/2025' is not an ISO 8601 date or time"),
    ("timestamp", "2025-02-30", "'2025-02-30' is not a valid date or time"),
    ("timestamp", "2025-09-01 25:00", "is not an ISO 8601 date or time"),
    ("timestamp", " 2025-09-01", "is not an ISO 8601 date or time"),
    ("timestamp", "infinity", "'infinity' is not an ISO 8601"),
    ("timestamp", "2025-09-01 08:30:00.1234567", "has more than 6 decimals of seconds"),
    ("id", "", "empty cell"),
    ("currency", " ", "' ' is only whitespace"),
])
def test_each_kind_of_malformed_row_is_named_by_source_row_and_field(tmp_path, column, value, message):
    cells = list(GOOD)
    cells[HEADER.index(column)] = value
    rows = [GOOD[:4] + ["id0", "EUR"], ["a\nb", "c", "2", "2025-01-02", "id9", "EUR"], cells]
    path = write_csv(tmp_path / "l.csv", HEADER, rows)
    error = load_error(path, tmp_path / "out")
    assert error.total == 1
    assert error.rejections == (Rejection(str(path), 3, column, value, error.rejections[0].message),)
    assert message in error.rejections[0].message
    assert str(error).startswith(f"{path}: 1 row is malformed")
    assert f"{path} row 3: {column}: {error.rejections[0].message}" in str(error)


def test_only_whitespace_means_what_python_calls_whitespace(tmp_path):
    spaces = [chr(c) for c in range(0x3001) if chr(c).isspace()]
    rows = [[c * 2, "b", "1", "2025-01-01", f"t{i}", "EUR"] for i, c in enumerate(spaces)]
    rows += [["\u200b", "b", "1", "2025-01-01", "zw", "EUR"], [" a ", "b", "1", "2025-01-01", "pad", "EUR"]]
    result = load_ledger(write_csv(tmp_path / "l.csv", HEADER, rows), tmp_path / "out", rejects=tmp_path / "r.csv")
    assert len(spaces) == 29 and (result.rejected, result.accepted) == (29, 2)
    assert names(tmp_path / "out") == [" a ", "b", "\u200b"]  # kept as written, never trimmed


@pytest.mark.parametrize("value", ["12", "12.50", "0", "+1", ".5", "12.", "1e6", "1.5E-3", "007"])
def test_plain_decimal_amounts_are_read_exactly(tmp_path, value):
    path = write_csv(tmp_path / "l.csv", HEADER[:4], [["a", "b", value, "2025-01-01"]])
    load_ledger(path, tmp_path / "out")
    assert table(tmp_path / "out")[0]["amount"] == float(value)


def test_parquet_malformed_values(tmp_path):
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({
        "src": ["a", None, "a", "a", "a", "a"], "dst": ["b", "b", "", "b", "b", "b"],
        "amount": [1.0, 1.0, 1.0, float("nan"), -0.5, float("inf")],
        "timestamp": pa.array([1, 2, 3, 4, 5, None], pa.timestamp("s"))}), path)
    error = load_error(path, tmp_path / "out")
    assert [(r.row, r.field, r.value, r.message) for r in error.rejections] == [
        (2, "src", None, "missing (null)"), (3, "dst", "", "empty cell"), (4, "amount", "nan", "nan is not a number"),
        (5, "amount", "-0.5", "-0.5 is negative: amounts are 0 or more (a payment goes from src to dst)"),
        (6, "amount", "inf", "inf is not a finite number; also timestamp: missing (null)")]


def test_a_row_with_several_faults_is_listed_once_with_all_of_them(tmp_path):
    path = write_csv(tmp_path / "l.csv", HEADER, [["", "b", "x", "later", "1", "EUR"]])
    (rejection,) = load_error(path, tmp_path / "out").rejections
    assert rejection.field == "src"
    assert rejection.message.startswith("empty cell; also amount: 'x' is not a number")
    assert "; also timestamp: 'later' is not an ISO 8601" in rejection.message


def test_quoted_line_breaks_keep_row_numbers(tmp_path):
    rows = []
    for i in range(1, 41):
        src = f"multi\nline\r\n{i}" if i % 3 == 0 else f"a{i}"
        rows.append([src, f"b\n{i % 5}", "x" if i in (17, 38) else str(i), f"2025-01-{1 + i % 28:02d}", f"t{i}", "EUR"])
    path = write_csv(tmp_path / "l.csv", HEADER, rows)
    error = load_error(path, tmp_path / "out")
    assert [(r.row, r.field, r.value) for r in error.rejections] == [(17, "amount", "x"), (38, "amount", "x")]
    load_ledger(path, tmp_path / "out", rejects=tmp_path / "rejects.csv")
    got = {r["id"]: r["row"] for r in table(tmp_path / "out")}
    assert got == {f"t{i}": i for i in range(1, 41) if i not in (17, 38)}


def test_rows_restart_in_each_part_of_a_folder(tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    write_parquet(parts / "p0.parquet", HEADER, [GOOD[:4] + ["a", "EUR"], GOOD[:4] + ["b", "EUR"]])
    write_parquet(parts / "p1.parquet", HEADER, [GOOD[:4] + ["c", "EUR"], ["a", "b", "-1", "2025-01-01", "d", "EUR"]])
    error = load_error(parts, tmp_path / "out")
    assert [(r.source, r.row, r.field) for r in error.rejections] == [(str(parts / "p1.parquet"), 2, "amount")]
    assert f"{parts / 'p1.parquet'} row 2: amount: '-1' is negative" in str(error)


def test_rejects_file_keeps_every_original_cell_and_the_rest_loads(tmp_path):
    header = HEADER + ["note", "row"]  # a ledger column named like a rejects column
    rows = [["a", "b", "1", "2025-01-01", "t1", "EUR", " spaced ", "x"],
            ["a", "b", "1,5", "2025-01-02", "t2", "EUR", 'quote " and, comma', "y"],
            ["a\nb", "c", "2", "2025-01-03", "t3", "EUR", "", "z"],
            ["c", " ", "3", "tomorrow", "t4", "EUR", "line\nbreak", ""],
            ["c", "a", "4", "2025-01-04", "t1", "EUR", "ünï", "w"]]
    path = write_csv(tmp_path / "l.csv", header, rows)
    for suffix in (".csv", ".parquet"):
        rejects = tmp_path / f"rejects{suffix}"
        result = load_ledger(path, tmp_path / "out", rejects=rejects)
        assert (result.rows_read, result.accepted, result.rejected) == (5, 2, 3)
        assert [(r.row, r.field) for r in result.rejections] == [(2, "amount"), (4, "dst"), (5, "id")]
        if suffix == ".csv":
            with rejects.open(newline="", encoding="utf-8") as handle:
                written = list(csv.reader(handle))
        else:
            written = [list(pq.read_table(rejects).schema.names)] + [
                [str(v) if k == "row" else v for k, v in r.items()] for r in pq.read_table(rejects).to_pylist()]
        assert written[0] == ["source", "row", "field", "value", "message"] + HEADER + ["note", "row (ledger)"]
        assert [w[5:] for w in written[1:]] == [rows[1], rows[3], rows[4]]  # byte for byte
        assert [w[:4] for w in written[1:]] == [[str(path), "2", "amount", "1,5"], [str(path), "4", "dst", " "],
                                               [str(path), "5", "id", "t1"]]
        assert written[3][4] == "'t1' repeats the id of row 1"
        assert "; also timestamp: 'tomorrow'" in written[2][4]
        assert [r["id"] for r in table(tmp_path / "out")] == ["t1", "t3"]
        assert json.loads((tmp_path / "out" / "meta.json").read_text())["rejected"] == 3


def test_rejects_file_for_parquet_parts_and_a_clean_ledger(tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    write_parquet(parts / "p0.parquet", HEADER, [GOOD[:4] + ["a", "EUR"]], amount=lambda v: pa.array([1.5]))
    write_parquet(parts / "p1.parquet", HEADER, [GOOD[:4] + ["a", "EUR"]], amount=lambda v: pa.array([-2.0]))
    rejects = tmp_path / "r.csv"
    result = load_ledger(parts, tmp_path / "out", rejects=rejects)
    assert result.accepted == 1 and result.rejected == 1
    with rejects.open(newline="", encoding="utf-8") as handle:
        written = list(csv.reader(handle))
    assert written[1][:4] == [str(parts / "p1.parquet"), "1", "amount", "-2.0"]
    assert "repeats the id of " + str(parts / "p0.parquet") + " row 1" in written[1][4]
    assert written[1][5:] == ["a", "b", "-2.0", "2025-01-01", "a", "EUR"]
    result = load_ledger(write_csv(tmp_path / "l.csv", HEADER, ROWS), tmp_path / "out", rejects=rejects)
    assert result.rejected == 0 and rejects.read_text().splitlines() == [
        "source,row,field,value,message," + ",".join(HEADER)]
    assert "must end in .csv or .parquet" in str(load_error(tmp_path / "l.csv", tmp_path / "o", rejects="r.txt"))
    assert "is the ledger itself" in str(load_error(tmp_path / "l.csv", tmp_path / "o", rejects=tmp_path / "l.csv"))


def test_duplicate_ids_the_later_rows_are_malformed(tmp_path):
    rows = [GOOD[:4] + ["x", "EUR"], GOOD[:4] + ["y", "EUR"], GOOD[:4] + ["x", "EUR"], GOOD[:4] + ["x", "EUR"],
            GOOD[:4] + ["y", "EUR"]]
    error = load_error(write_csv(tmp_path / "l.csv", HEADER, rows), tmp_path / "out")
    assert [(r.row, r.field, r.message) for r in error.rejections] == [
        (3, "id", "'x' repeats the id of row 1"), (4, "id", "'x' repeats the id of row 1"),
        (5, "id", "'y' repeats the id of row 2")]
    assert error.total == 3


def test_many_malformed_rows_list_the_first_and_count_all(tmp_path):
    rows = [["a", "b", "bad", "2025-01-01", f"t{i}", "EUR"] for i in range(120)]
    error = load_error(write_csv(tmp_path / "l.csv", HEADER, rows), tmp_path / "out")
    assert error.total == 120 and len(error.rejections) == 50
    assert [r.row for r in error.rejections] == list(range(1, 51))
    assert "… and 110 more." in str(error) and "--rejects" in str(error)


# --------------------------------------------------------------------------------------------------
# currencies


def test_mixed_currencies_are_refused_with_counts(tmp_path):
    rows = [GOOD[:4] + [f"t{i}", "EUR"] for i in range(12)] + [GOOD[:4] + [f"u{i}", "USD"] for i in range(3)]
    path = write_csv(tmp_path / "l.csv", HEADER, rows)
    assert str(load_error(path, tmp_path / "out")) == (
        f"{path} mixes currencies EUR (12 rows) and USD (3 rows): convert first or choose one with --currency.")
    result = load_ledger(path, tmp_path / "out", currency="USD")
    assert (result.rows_read, result.accepted, result.other_currency, result.currency) == (15, 3, 12, "USD")
    assert json.loads((tmp_path / "out" / "meta.json").read_text())["currency"] == "USD"
    assert {r["id"] for r in table(tmp_path / "out")} == {"u0", "u1", "u2"}
    message = str(load_error(path, tmp_path / "out", currency="usd"))
    assert "has no rows in currency 'usd'; its currencies are EUR (12 rows) and USD (3 rows)" in message
    no_currency = write_csv(tmp_path / "n.csv", HEADER[:4], [GOOD[:4]])
    assert "has no currency column" in str(load_error(no_currency, tmp_path / "out", currency="EUR"))
    # a malformed row of another currency is still malformed
    rows.append(["a", "b", "bad", "2025-01-01", "v", "GBP"])
    error = load_error(write_csv(tmp_path / "m.csv", HEADER, rows), tmp_path / "out", currency="USD")
    assert error.total == 1


# --------------------------------------------------------------------------------------------------
# time


@pytest.mark.parametrize("text, expected", [
    ("2025-09-01", us(2025, 9, 1)),
    ("2025-09-01 08:30", us(2025, 9, 1, 8, 30)),
    ("2025-09-01 08:30:00", us(2025, 9, 1, 8, 30)),
    ("2025-09-01T08:30:00.123456", us(2025, 9, 1, 8, 30, 0, 123456)),
    ("2025-09-01T08:30:00.5Z", us(2025, 9, 1, 8, 30, 0, 500000)),
    ("2025-09-01T08:30:00+02:00", us(2025, 9, 1, 6, 30)),
    ("2025-09-01 01:30:00-0530", us(2025, 9, 1, 7)),
    ("2025-09-01T00:30+01", us(2025, 8, 31, 23, 30)),
    ("1969-12-31T23:59:59.999999", -1),
])
def test_iso_timestamps_and_offsets_are_converted_to_utc(tmp_path, text, expected):
    load_ledger(write_csv(tmp_path / "l.csv", HEADER[:4], [["a", "b", "1", text]]), tmp_path / "out")
    assert table(tmp_path / "out")[0]["ts"] == expected


def test_parquet_time_types(tmp_path):
    moment = datetime(2025, 9, 1, 8, 30, tzinfo=timezone(timedelta(hours=2)))
    cases = [(pa.array([moment], pa.timestamp("us", tz="Europe/Berlin")), us(2025, 9, 1, 6, 30)),
             (pa.array([moment.replace(tzinfo=None)], pa.timestamp("ms")), us(2025, 9, 1, 8, 30)),  # naive = UTC
             (pa.array([moment.replace(tzinfo=None)], pa.timestamp("ns")), us(2025, 9, 1, 8, 30)),
             (pa.array([date(2025, 9, 1)]), us(2025, 9, 1)),
             (pa.array(["2025-09-01T08:30:00+02:00"]), us(2025, 9, 1, 6, 30))]
    for i, (column, expected) in enumerate(cases):
        path = tmp_path / f"{i}.parquet"
        pq.write_table(pa.table({"src": ["a"], "dst": ["b"], "amount": [1.0], "timestamp": column}), path)
        load_ledger(path, tmp_path / "out")
        assert table(tmp_path / "out")[0]["ts"] == expected, column.type
    pq.write_table(pa.table({"src": ["a"], "dst": ["b"], "amount": [1.0],
                             "timestamp": pa.array([1_000_000_000_000_000_001], pa.timestamp("ns"))}), tmp_path / "n.parquet")
    assert "has nanoseconds" in load_error(tmp_path / "n.parquet", tmp_path / "out").rejections[0].message


def test_time_format(tmp_path):
    path = write_csv(tmp_path / "l.csv", HEADER[:4], [["a", "b", "1", "2022/09/01 00:20"], ["a", "b", "1", "01.09.2022"]])
    error = load_error(path, tmp_path / "out", time_format="%Y/%m/%d %H:%M")
    assert [(r.row, r.message) for r in error.rejections] == [
        (2, "'01.09.2022' does not match the time format '%Y/%m/%d %H:%M'")]
    load_ledger(path, tmp_path / "out", time_format="%Y/%m/%d %H:%M", rejects=tmp_path / "r.csv")
    assert table(tmp_path / "out")[0]["ts"] == us(2022, 9, 1, 0, 20)
    zoned = write_csv(tmp_path / "z.csv", HEADER[:4], [["a", "b", "1", "01.09.2022 10:00 +0200"]])
    load_ledger(zoned, tmp_path / "out", time_format="%d.%m.%Y %H:%M %z")
    assert table(tmp_path / "out")[0]["ts"] == us(2022, 9, 1, 8)
    assert "is not a valid strptime format" in str(load_error(path, tmp_path / "out", time_format="%Q"))
    assert "not both" in str(load_error(path, tmp_path / "out", time_format="%Y", time_unit="s"))


def test_time_unit_for_epoch_numbers(tmp_path):
    text = write_csv(tmp_path / "l.csv", HEADER[:4], [["a", "b", "1", "1756715400"], ["a", "b", "1", "1756715400.25"],
                                                     ["a", "b", "1", "1.5e9"]])
    error = load_error(text, tmp_path / "out", time_unit="s")
    assert [(r.row, r.message) for r in error.rejections] == [
        (3, "'1.5e9' is not a number of seconds since 1970-01-01 (whole or with at most 6 decimals, in ASCII digits)")]
    load_ledger(text, tmp_path / "out", time_unit="s", rejects=tmp_path / "r.csv")
    assert [r["ts"] for r in table(tmp_path / "out")] == [us(2025, 9, 1, 8, 30), us(2025, 9, 1, 8, 30, 0, 250000)]
    assert "'1756715400.25' is not a number of microseconds" in load_error(text, tmp_path / "out",
                                                                          time_unit="us").rejections[0].message
    for unit, factor in (("s", 10**6), ("ms", 10**3), ("us", 1)):
        path = tmp_path / f"{unit}.parquet"
        pq.write_table(pa.table({"src": ["a", "a"], "dst": ["b", "b"], "amount": [1.0, 2.0],
                                 "timestamp": pa.array([1756715400, -5], pa.int64())}), path)
        load_ledger(path, tmp_path / "out", time_unit=unit)
        assert [r["ts"] for r in table(tmp_path / "out")] == [-5 * factor, 1756715400 * factor]
    assert "say what they count with a time unit" in str(load_error(tmp_path / "s.parquet", tmp_path / "out"))
    pq.write_table(pa.table({"src": ["a", "a"], "dst": ["b", "b"], "amount": [1.0, 2.0],
                             "timestamp": [1.5, 1e-7]}), tmp_path / "f.parquet")
    error = load_error(tmp_path / "f.parquet", tmp_path / "out", time_unit="s")
    assert [(r.row, r.field) for r in error.rejections] == [(2, "timestamp")]
    assert "is not a whole number of microseconds" in error.rejections[0].message
    pq.write_table(pa.table({"src": ["a"], "dst": ["b"], "amount": [1.0],
                             "timestamp": pa.array([datetime(2025, 1, 1)], pa.timestamp("us"))}), tmp_path / "t.parquet")
    message = str(load_error(tmp_path / "t.parquet", tmp_path / "out", time_unit="s"))
    assert "a time unit applies to numeric timestamps only" in message


# --------------------------------------------------------------------------------------------------
# property: whatever the text, CSV and Parquet load back exactly

names_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                     min_size=1, max_size=12).filter(lambda s: not s.isspace())
awkward = st.sampled_from(["a,b", '"q"', "line\nbreak", "cr\rlf\r\n", " lead", "trail ", "é", "𝔘", "=1+1", "#", "\ufeffbom"])
ledgers = st.lists(st.tuples(
    st.one_of(names_text, awkward), st.one_of(names_text, awkward),
    st.one_of(st.floats(min_value=0, max_value=1e15, allow_nan=False), st.integers(0, 10**12).map(float),
              st.floats(min_value=0, max_value=1e-3, allow_nan=False)),
    st.integers(-2 * 10**15, 4 * 10**15),  # µs: from 1906 to 2096
    st.sampled_from([0, 0, 60, -330, 840, -720]),  # the offset written, in minutes
), min_size=0, max_size=25)


def iso(micros: int, offset: int) -> str:
    zone = timezone(timedelta(minutes=offset))
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    text = moment.astimezone(zone).isoformat()
    return text.replace("+00:00", "Z") if offset == 0 and micros % 2 else text


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(ledger=ledgers)
def test_random_ledgers_load_back_exactly_from_csv_and_parquet(tmp_path, ledger):
    rows = [[s, d, repr(a), iso(t, o), f"id,{i}\n"] for i, (s, d, a, t, o) in enumerate(ledger)]
    header = ["src", "dst", "amount", "timestamp", "id"]
    expected = sorted(((t, i + 1), (f"id,{i}\n", s, d, a, t)) for i, (s, d, a, t, _) in enumerate(ledger))
    csv_path = write_csv(tmp_path / "l.csv", header, rows)
    parquet_path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"src": pa.array([r[0] for r in ledger], pa.string()),
                             "dst": pa.array([r[1] for r in ledger], pa.string()),
                             "amount": pa.array([r[2] for r in ledger], pa.float64()),
                             "timestamp": pa.array([r[3] for r in ledger], pa.timestamp("us", tz="UTC")),
                             "id": pa.array([r[4] for r in rows], pa.string())}), parquet_path)
    for path in (csv_path, parquet_path):
        out = tmp_path / ("out" + path.suffix)
        result = load_ledger(path, out)
        assert result.accepted == len(ledger)
        accounts = names(out)
        assert accounts == sorted({r[0] for r in ledger} | {r[1] for r in ledger})
        got = [((r["ts"], r["row"]), (r["id"], accounts[r["src"]], accounts[r["dst"]], r["amount"], r["ts"]))
               for r in table(out)]
        assert got == expected
        assert [r["idx"] for r in table(out)] == list(range(len(ledger)))
