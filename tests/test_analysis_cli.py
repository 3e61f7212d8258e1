"""The analysis commands: cycles (and the flows CSV they accept), as tables and JSON."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import loopscope
from loopscope.analysis.cycles import find_cycles
from loopscope.cli import app

runner = CliRunner()


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cycles_json_has_the_documented_shape():
    document = _json(["cycles", "--json", "--max-length", "4"])
    expected = find_cycles(loopscope.load(), max_length=4)
    assert len(document["cycles"]) == len(expected) > 0
    for record, cycle in zip(document["cycles"], expected, strict=True):
        assert set(record) >= {"parties", "deals", "amount_usd", "low_usd", "high_usd", "temporal", "narrative"}
        assert record["parties"] == list(cycle.parties)
        assert record["deals"] == cycle.deals
        assert set(record["narrative"]) == {"en", "de"}
    known = [c["amount_usd"] for c in document["cycles"] if c["amount_usd"] is not None]
    assert known == sorted(known, reverse=True)


def test_cycles_table_in_german_and_as_of():
    result = runner.invoke(app, ["cycles", "--lang", "de", "--as-of", "2025-06-30", "-n", "0"])
    assert result.exit_code == 0, result.output
    assert "Kreisläufe" in result.output and "Mrd. $" in result.output
    early = find_cycles(loopscope.load().as_of("2025-06-30"))
    assert f"{len(early)} Kreisläufe" in result.output


def test_temporal_cycles_with_a_window():
    document = _json(["cycles", "--json", "--temporal", "--window", "365d"])
    assert document["search"] == "temporal" and document["window_days"] == 365
    assert document["cycles"] and all(c["temporal"] for c in document["cycles"])
    result = runner.invoke(app, ["cycles", "--temporal", "--window", "a while"])
    assert result.exit_code == 2 and "cannot read 'a while'" in result.output


def test_cycles_of_a_flows_csv(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text("src,dst,amount,date\na,b,100,2025-01-01\nb,c,60,2025-02-01\nc,a,80,2025-03-01\nb,a,10,2024-01-01\n")
    document = _json(["cycles", str(path), "--json"])
    assert [(c["parties"], c["amount_usd"]) for c in document["cycles"]] == [(["a", "b", "c"], 60.0), (["a", "b"], 10.0)]
    temporal = _json(["cycles", str(path), "--json", "--temporal"])
    # b → a (2024) came before a → b (2025): that round trip starts with b
    assert [c["parties"] for c in temporal["cycles"]] == [["a", "b", "c"], ["b", "a"]]
    assert _json(["cycles", str(path), "--json", "--temporal", "--window", "30d"])["cycles"] == []
    early = _json(["cycles", str(path), "--json", "--as-of", "2025-02-15"])
    assert [c["parties"] for c in early["cycles"]] == [["a", "b"]]


@pytest.mark.parametrize(
    "content, message",
    [
        ("src,dst\na,b\n", "flows.csv:1: missing column(s) amount in the header"),
        ("src,dst,amount\na,b,ten\n", "flows.csv:2: row: amount: 'ten' is not a number"),
        ("src,dst,amount\na,b,1\nb,a,-5\n", "flows.csv:3: row: amount: '-5': expected a finite amount of at least 0"),
        ("src,dst,amount,date\na,b,1,2025-13-01\n", "flows.csv:2: row: date: '2025-13-01' is not a date"),
        ("src,dst,amount\na,,1\n", "flows.csv:2: row: dst: empty"),
        ("src,dst,amount\na,b,1,2\n", "flows.csv:2: row: 4 cells, the header has 3"),
        ("src,dst,amount,low\na,b,1,2\n", "flows.csv:2: row: low: low 2 is above the amount 1"),
    ],
)
def test_bad_flows_csv_names_file_line_and_column(tmp_path, content, message):
    path = tmp_path / "flows.csv"
    path.write_text(content)
    result = runner.invoke(app, ["cycles", str(path)])
    assert result.exit_code == 1
    assert message in result.stderr.replace(str(tmp_path) + "/", "")
    assert "Traceback" not in result.output


def test_exposure_command_tells_oracles_two_thirds():
    result = runner.invoke(app, ["exposure", "--as-of", "2025-09-30"])
    assert result.exit_code == 0, result.output
    assert "openai 66%" in result.output and "oracle-rpo-2025-08-31" in result.output
    german = runner.invoke(app, ["exposure", "--as-of", "2025-09-30", "--lang", "de"])
    assert "openai 66 %" in german.output and "Auftragsbestand" in german.output
    document = _json(["exposure", "--json"])
    oracle = next(p for p in document["parties"] if p["party"] == "oracle")
    assert oracle["backlog"]["customer"] == "openai" and oracle["backlog"]["sources"]
    assert document["parties"][0]["inflow_usd"] >= document["parties"][-1]["inflow_usd"]


def test_kind_filter_keeps_only_those_deals():
    document = _json(["cycles", "--json", "--kind", "equity", "--kind", "purchase", "-k", "3"])
    deals = {d.id: d.kind for d in loopscope.load().deals}
    assert document["cycles"]
    assert {deals[d] for c in document["cycles"] for step in c["deals"] for d in step} <= {"equity", "purchase"}
    result = runner.invoke(app, ["exposure", "--kind", "shares"])
    assert result.exit_code == 2 and "unknown deal kind(s) shares" in result.output


def test_circulation_command_gives_the_headline():
    from loopscope.analysis.circulation import max_circulation

    document = _json(["circulation", "--json"])
    expected = max_circulation(loopscope.load())
    headline = document["max_circulation"]
    assert headline["circularity"] == pytest.approx(expected.circularity)
    assert headline["gross"] == pytest.approx(expected.gross)
    assert 0 <= document["reciprocity"] <= headline["circularity"] <= 1
    assert set(document) >= {"hodge", "finn", "undisclosed_deals"}
    result = runner.invoke(app, ["circulation"])
    assert result.exit_code == 0, result.output
    assert "can go round in circles" in result.output and "Finn cycling index" in result.output
    german = runner.invoke(app, ["circulation", "--lang", "de"])
    assert "im Kreis fließen" in german.output and "Bio. $" in german.output


def test_import_stays_light():
    import subprocess
    import sys

    code = "import sys, loopscope.cli; print(any(m in sys.modules for m in ('numba', 'scipy', 'pandas')))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"


def test_flows_csv_with_blank_kind_and_id_cells(tmp_path):
    path = tmp_path / "mix.csv"
    path.write_text("src,dst,amount,id,kind\nx,y,1,d1,purchase\ny,x,2,,\n")
    document = _json(["cycles", str(path), "--json"])
    assert document["cycles"][0]["deals"] == [["d1"], []]
    parties = {p["party"]: p for p in _json(["exposure", str(path), "--json"])["parties"]}
    assert parties["x"]["top_customer"] == "y" and "nan" not in parties["x"]["inflows"]
