"""Importing a flows CSV as a deal ledger: mapping, errors with lines and columns, round trips."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from loopscope.cli import app
from loopscope.interop.flows_import import Defaults, read_flows_ledger, slug
from loopscope.ledger import Ledger, LedgerError
from loopscope.ledger.flows_csv import read_flows_csv
from loopscope.ledger.vocabulary import DEAL_KINDS

from .strategies import days, positive, texts

runner = CliRunner()


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)  # "\r\n" rows: cells with \r or \n are quoted
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path


def problems_of(path: Path, defaults: Defaults | None = None) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(LedgerError) as caught:
        read_flows_ledger(path, defaults or Defaults())
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def test_rows_become_parties_and_deals(tmp_path):
    path = write_csv(tmp_path / "flows.csv",
                     ["src", "dst", "amount", "date", "kind", "source_url", "publisher", "low", "high", "src_name"],
                     [["ACME Corp.", "beta", "100", "2025-01-02", "purchase", "https://example.org/a", "Ex", "", "", ""],
                      ["beta", "gamma", "90.5", "2025-01-05", "equity", "https://example.org/b", "Ex", "80", "95", "Beta Inc"],
                      ["gamma", "ACME Corp.", "80", "2025-02-01", "loan", "https://example.org/c", "Ex", "", "", ""]])
    ledger = read_flows_ledger(path)
    assert [p.id for p in ledger.parties] == ["acme-corp", "beta", "gamma"]
    assert {p.id: p.name for p in ledger.parties} == {"acme-corp": "ACME Corp.", "beta": "Beta Inc", "gamma": "gamma"}
    first, second, third = ledger.deals
    assert (first.id, first.kind, first.src, first.dst) == ("flow-2", "purchase", "acme-corp", "beta")
    assert (first.amount.value, first.amount.kind, first.amount.currency) == (100.0, "exact", "USD")
    assert first.announced == date(2025, 1, 2) and first.status == "completed"
    assert first.sources[0].url == "https://example.org/a" and first.sources[0].publisher == "Ex"
    assert (second.amount.kind, second.amount.low, second.amount.value, second.amount.high) == ("estimate", 80, 90.5, 95)
    assert (third.src, third.dst, third.kind) == ("gamma", "acme-corp", "loan")
    assert "flows.csv line 4" in third.title


def test_imported_ledger_moves_the_same_money_as_the_flows_table(tmp_path):
    """The deal ledger's flows equal what the analyses read straight from the CSV."""
    rows = [[f"a{i % 7}", f"a{(i * 3 + 1) % 7}", str(10 + i), f"2025-0{1 + i % 9}-1{i % 10}", "purchase"]
            for i in range(40) if i % 7 != (i * 3 + 1) % 7]
    path = write_csv(tmp_path / "flows.csv", ["src", "dst", "amount", "date", "kind"], rows)
    ledger = read_flows_ledger(path, Defaults(source_url="https://example.org/export", publisher="Bank"))
    flows = ledger.flows().sort_values(["date", "src", "dst", "amount_usd"]).reset_index(drop=True)
    direct = read_flows_csv(path).sort_values(["date", "src", "dst", "amount"]).reset_index(drop=True)
    assert flows["src"].tolist() == direct["src"].tolist()
    assert flows["dst"].tolist() == direct["dst"].tolist()
    assert flows["amount_usd"].tolist() == direct["amount"].tolist()
    assert flows["date"].tolist() == direct["date"].tolist()


def test_every_problem_is_reported_with_its_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "src,dst,amount,date,kind,source_url,publisher\n"
        "a,b,100,2025-01-02,purchase,https://example.org/a,Ex\n"
        "b,c,90,2025-01-05,purchase,,\n"
        "c,a,80,2025-13-01,equity,https://example.org/b,Ex\n"
        "d,,5,2025-01-01,purchase,https://example.org/b,Ex\n"
        "d,b,-5,2025-01-01,nonsense,https://example.org/b,Ex\n"
        "e,b,lots,2025-01-01,loan,ftp://x,Ex\n"
        "e,b,1\n", encoding="utf-8")
    found = problems_of(path)
    assert (3, "source_url", "required field is missing") in found
    assert (3, "publisher", "required field is missing") in found
    assert [p for p in found if p[0] == 4] == [(4, "date", "'2025-13-01' is not a valid date (month must be in 1..12)")]
    assert (5, "dst", "empty: every flow needs both parties") in found
    assert any(line == 6 and column == "amount" and "positive" in message for line, column, message in found)
    assert any(line == 6 and column == "kind" and "unknown deal kind 'nonsense'" in message for line, column, message in found)
    assert any(line == 7 and column == "amount" for line, column, _ in found)
    assert any(line == 7 and column == "source_url" and "web address" in message for line, column, message in found)
    assert (8, None, "3 cells, the header has 7") in found
    assert not any(line == 2 for line, _, _ in found)


def test_line_numbers_count_line_breaks_inside_quoted_cells(tmp_path):
    path = write_csv(tmp_path / "multi.csv", ["src", "dst", "amount", "date", "kind", "notes"],
                     [["a", "b", "1", "2025-01-01", "purchase", "one\ntwo\nthree"],
                      ["b", "a", "x", "2025-01-02", "purchase", "ok"]])
    found = problems_of(path, Defaults(source_url="https://example.org/", publisher="P"))
    assert [(line, column) for line, column, _ in found] == [(5, "amount")]
    ledger_path = write_csv(tmp_path / "ok.csv", ["src", "dst", "amount", "date", "kind", "notes"],
                            [["a", "b", "1", "2025-01-01", "purchase", "one\ntwo\nthree"]])
    deal, = read_flows_ledger(ledger_path, Defaults(source_url="https://example.org/", publisher="P")).deals
    assert deal.notes == "one\ntwo\nthree"


def test_header_problems(tmp_path):
    path = write_csv(tmp_path / "h.csv", ["src", "dst", "amount", "reference", "amount"], [])
    messages = [message for _, _, message in problems_of(path)]
    assert "missing column(s) date in the header" in messages
    assert any(m.startswith("unknown column(s) reference") for m in messages)
    assert "repeated column(s) amount" in messages
    assert any("no kind column and no default kind" in m for m in messages)
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert problems_of(tmp_path / "empty.csv")[0][0] == 1


def test_a_party_named_twice_differently_is_an_error(tmp_path):
    path = write_csv(tmp_path / "n.csv", ["src", "dst", "amount", "date", "kind", "src_name"],
                     [["a", "b", "1", "2025-01-01", "purchase", "Alpha"], ["a", "b", "2", "2025-01-02", "purchase", "Alfa"]])
    found = problems_of(path, Defaults(source_url="https://example.org/", publisher="P"))
    assert found == [(3, "src_name", "'Alfa', but line 2 names party 'a' 'Alpha'")]


def test_slug_keeps_distinct_texts_distinct(tmp_path):
    assert slug("Bank 7 / Branch 12") == "bank-7-branch-12"
    path = write_csv(tmp_path / "s.csv", ["src", "dst", "amount", "date", "kind"],
                     [["ACME", "acme", "1", "2025-01-01", "purchase"], ["A.C.M.E.", "ACME", "1", "2025-01-01", "purchase"]])
    ledger = read_flows_ledger(path, Defaults(source_url="https://example.org/", publisher="P"))
    names = {p.id: p.name for p in ledger.parties}
    assert names == {"acme-2": "ACME", "acme": "acme", "a-c-m-e": "A.C.M.E."}


row = st.fixed_dictionaries({
    "src": texts, "dst": texts, "amount": positive, "date": days, "kind": st.sampled_from(sorted(DEAL_KINDS)),
    "title": texts, "publisher": texts, "notes": texts,
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, min_size=1, max_size=8))
def test_any_rows_round_trip_exactly(tmp_path, rows):
    """Whatever the text, every value arrives unchanged: names, titles, notes, amounts and dates."""
    rows = [r for r in rows if r["src"] != r["dst"]]
    header = ["src", "dst", "amount", "date", "kind", "title", "publisher", "notes"]
    path = write_csv(tmp_path / "p.csv", header, [[r["src"], r["dst"], repr(r["amount"]), r["date"].isoformat(),
                                                   r["kind"], r["title"], r["publisher"], r["notes"]] for r in rows])
    try:
        ledger = read_flows_ledger(path, Defaults(source_url="https://example.org/x"))
    except LedgerError as exc:  # only the model's own rule may refuse: a deal from a party to itself
        raise AssertionError(str(exc)) from None
    names = {p.id: p.name for p in ledger.parties}
    assert len(ledger.deals) == len(rows)
    for deal, r in zip(ledger.deals, rows):
        assert (names[deal.src], names[deal.dst]) == (r["src"], r["dst"])
        assert deal.amount.value == r["amount"] and deal.announced == r["date"] and deal.kind == r["kind"]
        assert (deal.title, deal.sources[0].publisher, deal.notes) == (r["title"], r["publisher"], r["notes"])


def test_cli_import_writes_a_valid_ledger(tmp_path):
    path = write_csv(tmp_path / "flows.csv", ["src", "dst", "amount", "date"],
                     [["a", "b", "100", "2025-01-02"], ["b", "a", "90", "2025-01-05"]])
    out = tmp_path / "ledger"
    result = runner.invoke(app, ["import", str(path), "--from", "csv-flows", "-o", str(out), "--kind", "purchase",
                                 "--source-url", "https://example.org/export", "--publisher", "Bank"])
    assert result.exit_code == 0, result.output
    ledger = Ledger.read(out)
    assert [(d.src, d.dst, d.amount.value) for d in ledger.deals] == [("a", "b", 100.0), ("b", "a", 90.0)]
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0
    again = runner.invoke(app, ["import", str(path), "--from", "csv-flows", "-o", str(out), "--kind", "purchase",
                                "--source-url", "https://example.org/export", "--publisher", "Bank"])
    assert again.exit_code == 2 and "exists" in again.output
    bad = runner.invoke(app, ["import", str(path), "--from", "csv-flows", "-o", str(tmp_path / "x.yaml")])
    assert bad.exit_code == 1
    assert "no kind column and no default kind" in bad.output
    assert not (tmp_path / "x.yaml").exists()


def test_the_analysis_reader_keeps_line_breaks_in_cells_and_counts_lines_right(tmp_path):
    """read_flows_csv once split the text on line breaks before parsing: a quoted cell lost its
    break and later rows got the wrong line number."""
    path = tmp_path / "q.csv"
    path.write_bytes(b'src,dst,amount,kind\r\na,b,1,"x\r\ny\xe2\x80\xa8z"\r\nb,a,zz,purchase\r\n')
    with pytest.raises(LedgerError) as caught:
        read_flows_csv(path)
    assert [(p.line, p.field) for p in caught.value.problems] == [(4, "amount")]
    path.write_bytes(b'src,dst,amount,kind\r\na,b,1,"x\r\ny\xe2\x80\xa8z"\r\n')
    assert read_flows_csv(path)["kind"].tolist() == ["x\r\ny\u2028z"]


def test_numbers_only_in_plain_notation_and_empty_imports_are_refused(tmp_path):
    path = write_csv(tmp_path / "u.csv", ["src", "dst", "amount", "date", "kind"],
                     [["a", "b", "1_000", "2025-01-01", "purchase"], ["a", "b", "\u0665", "2025-01-01", "purchase"],
                      ["a", "b", "inf", "2025-01-01", "purchase"], ["a", "b", "1.5e9", "2025-01-01", "purchase"]])
    found = problems_of(path, Defaults(source_url="https://example.org/", publisher="P"))
    assert [(line, column) for line, column, _ in found] == [(2, "amount"), (3, "amount"), (4, "amount")]
    empty = write_csv(tmp_path / "e.csv", ["src", "dst", "amount", "date", "kind"], [])
    run = runner.invoke(app, ["import", str(empty), "--from", "csv-flows", "-o", str(tmp_path / "l.yaml")])
    assert run.exit_code == 1 and "nothing written" in run.output and not (tmp_path / "l.yaml").exists()
    odd = runner.invoke(app, ["import", str(path), "--from", "csv-flows", "-o", str(tmp_path / "out.csv")])
    assert odd.exit_code == 2 and not (tmp_path / "out.csv").exists()


def test_a_bad_default_is_reported_once_under_its_flag(tmp_path):
    path = write_csv(tmp_path / "k.csv", ["src", "dst", "amount", "date"],
                     [["a", "b", "1", "2025-01-01"], ["b", "a", "2", "2025-01-02"]])
    found = problems_of(path, Defaults(kind="purchase", source_url="https://example.org/", publisher="P",
                                       source_date="2025-99-01", currency="XYZ"))
    assert [(line, column) for line, column, _ in found] == [(None, "--currency"), (None, "--source-date")]
    assert "unknown currency 'XYZ'" in found[0][2]
