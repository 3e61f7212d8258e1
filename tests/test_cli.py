"""The command line: every command has --help; show renders tables and the documented JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import loopscope
from loopscope.cli import app
from loopscope.ledger.view import ledger_schema, view_schema

runner = CliRunner()
SCHEMAS = Path(loopscope.__file__).parent / "schema"


def _run(*args: str):
    return subprocess.run([sys.executable, "-m", "loopscope", *args], capture_output=True, text=True)


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"loopscope {loopscope.__version__}"


@pytest.mark.parametrize("command", [[], ["show"], ["validate"], ["convert"], ["schema"], ["cycles"], ["exposure"], ["circulation"], ["report"], ["figure"], ["stress"], ["gap"], ["serve"]])
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_show_tables_name_every_deal():
    ledger = loopscope.load()
    result = runner.invoke(app, ["show"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for deal in ledger.deals:
        assert deal.id in result.output
    assert f"{len(ledger.parties)} parties, {len(ledger.deals)} deals" in result.output
    assert "undisclosed" in result.output and "up to" in result.output


def test_show_in_german():
    result = runner.invoke(app, ["show", "--lang", "de"], terminal_width=200)
    assert result.exit_code == 0
    assert "Parteien" in result.output and "Mrd. $" in result.output and "bis zu" in result.output


def test_show_json_is_the_documented_document():
    run = _run("show", "--json")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    jsonschema.validate(document, view_schema())
    assert set(document) == {"version", "as_of", "parties", "deals"}
    ledger = loopscope.load()
    assert [d["id"] for d in document["deals"]] == [d.id for d in ledger.deals]
    for deal in document["deals"]:
        assert {"id", "kind", "from", "to", "status", "announced", "amount", "sources"} <= set(deal)
        assert {"value", "currency", "usd", "kind", "low", "high"} <= set(deal["amount"])
        assert all(source["url"].startswith("http") for source in deal["sources"])
    loi = next(d for d in document["deals"] if d["id"] == "nvidia-openai-loi-2025")
    assert loi["amount"] == {"value": 100e9, "currency": "USD", "kind": "up_to", "low": None, "high": None,
                             "usd": 100e9, "low_usd": 0.0, "high_usd": 100e9}
    assert loi["status"] == "superseded"


def test_show_json_as_of_a_date_shows_the_status_then():
    run = _run("show", "--json", "--as-of", "2025-11-08")
    document = json.loads(run.stdout)
    assert document["as_of"] == "2025-11-08"
    loi = next(d for d in document["deals"] if d["id"] == "nvidia-openai-loi-2025")
    assert loi["status"] != "superseded"
    assert all(d["announced"] <= "2025-11-08" for d in document["deals"])


def test_bad_as_of_date_is_a_usage_error():
    result = runner.invoke(app, ["show", "--as-of", "8.11.2025"])
    assert result.exit_code == 2
    assert "is not a date" in result.output


def test_committed_schemas_are_the_generated_ones():
    assert json.loads((SCHEMAS / "show.schema.json").read_text()) == view_schema()
    assert json.loads((SCHEMAS / "ledger.schema.json").read_text()) == ledger_schema()
    assert json.loads(_run("schema", "ledger").stdout) == ledger_schema()


def test_json_storage_format_matches_its_schema(tmp_path):
    loopscope.load().save(tmp_path / "x.json")
    jsonschema.validate(json.loads((tmp_path / "x.json").read_text()), ledger_schema())


@pytest.mark.parametrize("target,fmt", [("x.json", None), ("x.yaml", None), ("csvdir", "csv"), ("yamldir", "yaml")])
def test_convert_round_trips_the_bundled_dataset(tmp_path, target, fmt):
    out = tmp_path / target
    args = ["convert", str(loopscope.ledger.files.bundled_path()), str(out)] + (["--to", fmt] if fmt else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert loopscope.load(out).sections() == loopscope.load().sections()
    back = tmp_path / "back.yaml"
    assert runner.invoke(app, ["convert", str(out), str(back)]).exit_code == 0
    assert loopscope.load(back).sections() == loopscope.load().sections()


def test_convert_refuses_to_overwrite_without_force(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    result = runner.invoke(app, ["convert", str(loopscope.ledger.files.bundled_path()), str(tmp_path / "x.json")])
    assert result.exit_code == 2
    assert (tmp_path / "x.json").read_text() == "{}"


def test_readme_test_command_is_what_ci_runs():
    root = Path(__file__).resolve().parent.parent
    command = 'sh tools/install-system-deps.sh && python3 -m pip install -e ".[test]" && python3 -m pytest -q'
    assert command in (root / "README.md").read_text()
    assert command in (root / ".ci" / "run").read_text()


def test_the_bundled_dataset_can_be_copied_for_editing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["convert", "ai-2025", "my-deals"])
    assert result.exit_code == 0, result.output
    from loopscope.ledger.files import bundled_path

    copy = loopscope.load(tmp_path / "my-deals")
    bundled = loopscope.load(bundled_path())
    assert [d.model_dump() for d in copy.deals] == [d.model_dump() for d in bundled.deals]
    for name in ("parties.yaml", "deals-openai.yaml", "figures.yaml"):  # the same files, byte for byte
        assert (tmp_path / "my-deals" / name).read_bytes() == (bundled_path() / name).read_bytes()
