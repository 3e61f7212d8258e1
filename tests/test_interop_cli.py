"""The export and import commands: every format from the command line, read back with its reference reader."""

from __future__ import annotations

import csv
import json

import networkx as nx
import pytest
from typer.testing import CliRunner

from loopscope.cli import app
from loopscope.ledger import Ledger

runner = CliRunner()


def key(record: dict) -> str:
    """Entities sort by id; rates, which have none, by currency and date."""
    return record.get("id") or f"{record['currency']} {record['date']}"


@pytest.fixture(scope="module")
def bundled() -> Ledger:
    return Ledger.read(None)


@pytest.mark.parametrize("fmt, reader", [("gexf", nx.read_gexf), ("graphml", nx.read_graphml)])
def test_graph_exports_read_back_with_networkx(tmp_path, bundled, fmt, reader):
    out = tmp_path / f"net.{fmt}"
    run = runner.invoke(app, ["export", "--to", fmt, "-o", str(out)])
    assert run.exit_code == 0, run.output
    graph = reader(out)
    assert set(graph.nodes) == {p.id for p in bundled.parties}
    assert graph.number_of_edges() == len(bundled.deals)
    ends = {data.get("id", key): (u, v) for u, v, key, data in graph.edges(keys=True, data=True)}
    assert ends == {d.id: (d.src, d.dst) for d in bundled.deals}


def test_ftm_export_then_import_gives_back_the_ledger(tmp_path, bundled):
    out = tmp_path / "deals.ftm.json"
    assert runner.invoke(app, ["export", "--to", "ftm", "-o", str(out)]).exit_code == 0
    back = tmp_path / "back.yaml"
    run = runner.invoke(app, ["import", str(out), "--from", "ftm", "-o", str(back)])
    assert run.exit_code == 0, run.output
    again = Ledger.read(back)
    for section in ("parties", "deals", "figures", "rates"):
        assert sorted(again.sections()[section], key=key) == sorted(bundled.sections()[section], key=key)


def test_kumu_and_neo4j_exports(tmp_path, bundled):
    kumu = tmp_path / "map.json"
    assert runner.invoke(app, ["export", "--to", "kumu", "-o", str(kumu)]).exit_code == 0
    blueprint = json.loads(kumu.read_text(encoding="utf-8"))
    assert len(blueprint["elements"]) == len(bundled.parties)
    assert len(blueprint["connections"]) == len(bundled.deals)
    folder = tmp_path / "neo4j"
    assert runner.invoke(app, ["export", "--to", "neo4j", "-o", str(folder)]).exit_code == 0
    with (folder / "deals.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == len(bundled.deals) + 1


def test_refusals(tmp_path):
    out = tmp_path / "x.gexf"
    out.write_text("keep me", encoding="utf-8")
    run = runner.invoke(app, ["export", "--to", "gexf", "-o", str(out)])
    assert run.exit_code == 2 and "exists" in run.output and out.read_text(encoding="utf-8") == "keep me"
    assert runner.invoke(app, ["export", "--to", "gexf", "-o", str(out), "--force"]).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("<?xml")
    unknown = runner.invoke(app, ["export", "--to", "pajek"])
    assert unknown.exit_code == 2 and "pajek" in unknown.output
    bad = tmp_path / "bad.ftm.json"
    bad.write_text('{"id": "a", "schema": "Company", "properties": {"name": ["A"]}}\nnot json\n', encoding="utf-8")
    failed = runner.invoke(app, ["import", str(bad), "--from", "ftm", "-o", str(tmp_path / "l.yaml")])
    assert failed.exit_code == 1 and "bad.ftm.json:2" in failed.output and "nothing written" in failed.output
    assert not (tmp_path / "l.yaml").exists()
