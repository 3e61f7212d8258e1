"""Graph exports (GEXF, GraphML, Kumu, Neo4j CSV), read back with networkx and csv and compared with the ledger."""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings

from loopscope.interop import graph_formats as gf
from loopscope.ledger import Ledger
from loopscope.ledger.model import Deal, Party
from loopscope.ledger.records import jsonable, to_record
from loopscope.ledger.vocabulary import CLOSED_STATUSES, DEAL_KINDS

from .strategies import ledgers

GENERATED = settings(max_examples=30, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# what XML 1.0 can hold; anything else the exports replace by U+FFFD in plain text
XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
AWKWARD = "<script>&\"'"


def xml_safe(text: str) -> str:
    return XML_INVALID.sub("\ufffd", text)


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return Ledger.read(None)


@pytest.fixture(scope="module")
def gexf_graph(ledger):
    return read_gexf(gf.to_gexf(ledger, dataset="ai-2025"))


@pytest.fixture(scope="module")
def graphml_graph(ledger):
    return read_graphml(gf.to_graphml(ledger, dataset="ai-2025"))


def read_gexf(text: str) -> nx.Graph:
    return nx.read_gexf(io.BytesIO(text.encode("utf-8")))


def read_graphml(text: str) -> nx.MultiDiGraph:
    # edge ids are deal ids: keep them as text (a deal id such as "123" would otherwise become an int)
    return nx.read_graphml(io.BytesIO(text.encode("utf-8")), force_multigraph=True, edge_key_type=str)


def party(pid: str = "a", **changes) -> Party:
    return Party.model_validate({"id": pid, "name": pid.upper(), "kind": "company", **changes})


def deal(**changes) -> Deal:
    record = {
        "id": "d1", "kind": "purchase", "from": "a", "to": "b", "title": "T", "announced": "2025-01-01",
        "amount": {"value": 1e9, "currency": "USD", "kind": "exact"},
        "history": [{"date": "2025-01-01", "status": "announced"}],
        "sources": [{"url": "https://example.com/x", "publisher": "P"}],
    }
    record.update(changes)
    return Deal.model_validate(record)


# ---------------------------------------------------------------------------------------------
# what a reader should find, derived from the ledger alone
# ---------------------------------------------------------------------------------------------


def expected_node(p: Party) -> dict:
    out = {"label": p.name, "kind": p.kind, "ticker": p.ticker, "country": p.country,
           "aliases": "; ".join(p.aliases) or None, "notes": p.notes}
    return {k: xml_safe(v) for k, v in out.items() if v is not None}


def expected_plain_edge(ledger: Ledger, d: Deal) -> dict:
    """The scalar attributes of a deal's edge (JSON ones are checked apart)."""
    amount, h = d.amount, d.horizon
    usd, low, high = ledger.to_usd(amount, d.announced)
    out = {
        "label": xml_safe(d.title), "kind": d.kind, "title": xml_safe(d.title), "announced": d.announced.isoformat(),
        "status": d.status, "closed": d.status in CLOSED_STATUSES, "from_role": DEAL_KINDS[d.kind].from_role,
        "to_role": DEAL_KINDS[d.kind].to_role, "in_kind": DEAL_KINDS[d.kind].in_kind,
        "amount_value": amount.value, "amount_low": amount.low, "amount_high": amount.high,
        "amount_currency": amount.currency, "amount_kind": amount.kind,
        "amount_usd": usd, "amount_usd_low": low, "amount_usd_high": high, "weight": usd,
        "superseded_by": d.superseded_by, "notes": d.notes and xml_safe(d.notes),
        "source_url_1": d.sources[0].url, "source_publisher_1": xml_safe(d.sources[0].publisher),
    }
    if h is not None:
        out.update({
            "horizon_start": h.start and h.start.isoformat(), "horizon_end": h.end and h.end.isoformat(),
            "horizon_date": h.date and h.date.isoformat(), "horizon_years": h.years,
            "horizon_note": h.note and xml_safe(h.note),
        })
    return {k: v for k, v in out.items() if v is not None}


def expected_json_edge(d: Deal) -> dict:
    """The JSON attributes of a deal's edge, parsed: the ledger's own records (dates as text)."""
    parts = {
        "sources": d.sources, "history": d.history, "units": d.units, "links": d.links,
        "horizon_schedule": (d.horizon.schedule if d.horizon else None) or [],
    }
    return {k: [jsonable(to_record(m)) for m in v] for k, v in parts.items() if v}


def edges_by_id(graph: nx.Graph) -> dict[str, tuple[str, str, dict]]:
    found: dict[str, tuple[str, str, dict]] = {}
    if graph.is_multigraph():
        for u, v, key, data in graph.edges(keys=True, data=True):
            data = dict(data)
            assert data.pop("id", key) == key  # GEXF keeps the id as data too; it must be the key
            found[key] = (u, v, data)
    else:
        for u, v, data in graph.edges(data=True):
            data = dict(data)
            found[data.pop("id")] = (u, v, data)
    assert len(found) == graph.number_of_edges()
    return found


def check_graph(graph: nx.Graph, ledger: Ledger) -> None:
    """The graph holds exactly the ledger: one node per party, one edge per deal, every value."""
    assert graph.is_directed()
    assert set(graph.nodes) == {p.id for p in ledger.parties}
    for p in ledger.parties:
        assert graph.nodes[p.id] == expected_node(p), p.id
    edges = edges_by_id(graph)
    assert set(edges) == {d.id for d in ledger.deals}
    for d in ledger.deals:
        u, v, data = edges[d.id]
        assert (u, v) == (d.src, d.dst), d.id
        json_expected = expected_json_edge(d)
        plain = {k: value for k, value in data.items() if k not in gf_json_fields()}
        assert plain == expected_plain_edge(ledger, d), d.id
        parsed = {k: json.loads(value) for k, value in data.items() if k in gf_json_fields()}
        assert parsed == json_expected, d.id
        assert [s["url"] for s in parsed["sources"]] == [s.url for s in d.sources]


def gf_json_fields() -> set[str]:
    return {"sources", "history", "units", "links", "horizon_schedule"}


# ---------------------------------------------------------------------------------------------
# GEXF and GraphML on the bundled dataset
# ---------------------------------------------------------------------------------------------


def test_gexf_reads_back_as_the_ledger(ledger, gexf_graph):
    check_graph(gexf_graph, ledger)


def test_graphml_reads_back_as_the_ledger(ledger, graphml_graph):
    check_graph(graphml_graph, ledger)


def test_parallel_deals_all_survive(ledger, gexf_graph, graphml_graph):
    pairs = Counter((d.src, d.dst) for d in ledger.deals)
    assert max(pairs.values()) > 1, "the dataset should have parallel deals for this test to mean something"
    for graph in (gexf_graph, graphml_graph):
        assert graph.is_multigraph()
        assert graph.number_of_edges() == len(ledger.deals)
        for (u, v), count in pairs.items():
            assert graph.number_of_edges(u, v) == count, (u, v)


@pytest.mark.parametrize("reader", ["gexf", "graphml"])
def test_uncertain_amounts_stay_marked(ledger, gexf_graph, graphml_graph, reader):
    edges = edges_by_id(gexf_graph if reader == "gexf" else graphml_graph)
    by_kind: dict[str, list[Deal]] = {}
    for d in ledger.deals:
        by_kind.setdefault(d.amount.kind, []).append(d)
    assert {"up_to", "range", "estimate", "undisclosed", "exact"} <= set(by_kind)
    for d in by_kind["up_to"]:
        data = edges[d.id][2]
        assert data["amount_kind"] == "up_to" and data["amount_value"] == d.amount.value
        assert "amount_high" not in data
        assert data.get("amount_low") == d.amount.low
    for d in by_kind["range"]:
        data = edges[d.id][2]
        assert data["amount_kind"] == "range"
        assert (data["amount_low"], data["amount_high"]) == (d.amount.low, d.amount.high)
        assert data["amount_usd"] == ledger.to_usd(d.amount, d.announced)[0]
    for d in by_kind["estimate"]:
        assert edges[d.id][2]["amount_kind"] == "estimate"
    for d in by_kind["undisclosed"]:
        data = edges[d.id][2]
        assert data["amount_kind"] == "undisclosed"
        assert not {"amount_usd", "amount_value", "amount_low", "amount_high", "weight"} & set(data)


def test_edges_run_the_way_value_moves(ledger, gexf_graph):
    edges = edges_by_id(gexf_graph)
    kinds_seen = set()
    for d in ledger.deals:
        u, v, data = edges[d.id]
        assert (u, v) == (d.src, d.dst)
        assert (data["from_role"], data["to_role"]) == (DEAL_KINDS[d.kind].from_role, DEAL_KINDS[d.kind].to_role)
        kinds_seen.add(d.kind)
    assert {"equity", "purchase", "lease"} <= kinds_seen


def test_gexf_document_shape(ledger):
    root = ET.fromstring(gf.to_gexf(ledger, dataset="ai-2025"))
    ns = {"g": "http://gexf.net/1.3"}
    assert root.tag == "{http://gexf.net/1.3}gexf" and root.get("version") == "1.3"
    assert root.find("g:meta/g:creator", ns).text == "loopscope"
    description = root.find("g:meta/g:description", ns).text
    assert "ai-2025" in description and "USD" in description.replace("US dollars", "USD")
    assert "announcement date" in description
    graph = root.find("g:graph", ns)
    assert graph.get("defaultedgetype") == "directed"
    types = {(a.get("class"), b.get("title")): b.get("type")
             for a in graph.findall("g:attributes", ns) for b in a.findall("g:attribute", ns)}
    assert types[("edge", "amount_usd")] == "double" and types[("edge", "closed")] == "boolean"
    assert types[("node", "kind")] == "string"
    edges = graph.findall("g:edges/g:edge", ns)
    assert [e.get("id") for e in edges] == [d.id for d in ledger.deals]
    assert [e.get("kind") for e in edges] == [d.kind for d in ledger.deals]
    for e, d in zip(edges, ledger.deals):  # no empty or zero stand-ins for missing values
        assert all(a.get("value") not in ("", "None", "nan") for a in e.iter("{http://gexf.net/1.3}attvalue")), d.id


def test_graphml_keys_are_typed(ledger):
    root = ET.fromstring(gf.to_graphml(ledger, dataset="ai-2025"))
    ns = "{http://graphml.graphdrawing.org/xmlns}"
    keys = {(k.get("for"), k.get("attr.name")): k.get("attr.type") for k in root.findall(f"{ns}key")}
    assert keys[("edge", "amount_usd")] == "double" and keys[("edge", "weight")] == "double"
    assert keys[("edge", "closed")] == "boolean" and keys[("edge", "in_kind")] == "boolean"
    assert keys[("edge", "announced")] == "string" and keys[("node", "label")] == "string"
    assert set(keys.values()) == {"string", "double", "boolean"}
    ids = [k.get("id") for k in root.findall(f"{ns}key")]
    assert len(ids) == len(set(ids))
    graph = root.find(f"{ns}graph")
    assert graph.get("edgedefault") == "directed"
    graph_data = {d.get("key"): d.text for d in graph.findall(f"{ns}data")}
    assert graph_data["g_creator"] == "loopscope" and "ai-2025" in graph_data["g_description"]


# ---------------------------------------------------------------------------------------------
# escaping
# ---------------------------------------------------------------------------------------------


def awkward_ledger() -> Ledger:
    parties = [
        party("a", name=AWKWARD, notes="line1\r\nline2\rline3\n  indented  ", aliases=["x & y", "<z>"]),
        party("b", name="ctrl\x01char\ufffe", ticker="T&T"),
    ]
    deals = [deal(title=f"{AWKWARD} & <b>bold</b>", notes="tab\there ]]> done",
                  sources=[{"url": "https://example.com/a?b=c&d=e", "publisher": "Tom & Jerry \"quoted\"",
                            "quote": "ctrl\x01\x1f and \ufffe kept in JSON"}])]
    return Ledger(parties, deals)


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_markup_and_control_characters(fmt):
    ledger = awkward_ledger()
    text = gf.to_gexf(ledger) if fmt == "gexf" else gf.to_graphml(ledger)
    assert "<script>" not in text and "<b>" not in text
    graph = read_gexf(text) if fmt == "gexf" else read_graphml(text)
    check_graph(graph, ledger)
    assert graph.nodes["a"]["label"] == AWKWARD
    assert graph.nodes["a"]["notes"] == "line1\r\nline2\rline3\n  indented  "
    assert graph.nodes["b"]["label"] == "ctrl\ufffdchar\ufffd"  # XML 1.0 cannot hold these
    data = edges_by_id(graph)["d1"][2]
    assert data["label"] == data["title"] == f"{AWKWARD} & <b>bold</b>"
    assert json.loads(data["sources"])[0]["quote"] == "ctrl\x01\x1f and \ufffe kept in JSON"


def test_deals_with_unknown_parties_are_refused(tmp_path):
    ledger = Ledger([party("a")], [deal(to="ghost")])
    for export in (gf.to_gexf, gf.to_graphml, gf.to_kumu, lambda led: gf.to_neo4j(led, tmp_path)):
        with pytest.raises(ValueError, match="ghost"):
            export(ledger)


# ---------------------------------------------------------------------------------------------
# Kumu
# ---------------------------------------------------------------------------------------------


def test_kumu_blueprint(ledger):
    blueprint = gf.to_kumu(ledger)
    assert set(blueprint) == {"elements", "connections"}
    elements, connections = blueprint["elements"], blueprint["connections"]
    element_ids = [e["id"] for e in elements]
    assert element_ids == [p.id for p in ledger.parties] and len(set(element_ids)) == len(element_ids)
    assert [c["id"] for c in connections] == [d.id for d in ledger.deals]
    assert all(c["from"] in element_ids and c["to"] in element_ids for c in connections)
    for e, p in zip(elements, ledger.parties):
        assert (e["label"], e["type"]) == (p.name, p.kind)
        assert e.get("Aliases") == (list(p.aliases) or None)
        assert e.get("description") == p.notes and e.get("Country") == p.country
    for c, d in zip(connections, ledger.deals):
        usd, low, high = ledger.to_usd(d.amount, d.announced)
        assert (c["from"], c["to"], c["type"], c["label"]) == (d.src, d.dst, d.kind, d.title)
        assert c["direction"] == "directed"
        assert c["Amount kind"] == d.amount.kind and c["Currency"] == d.amount.currency
        assert c.get("Amount (USD)") == usd and c.get("Amount (USD) low") == low and c.get("Amount (USD) high") == high
        assert c.get("Amount") == d.amount.value and c.get("Amount low") == d.amount.low
        assert (c["Announced"], c["Status"]) == (d.announced.isoformat(), d.status)
        assert c["Sources"] == [s.url for s in d.sources] and c["url"] == d.sources[0].url
        assert c["tags"] == [d.kind, d.status, d.amount.kind]
        assert len(c["History"]) == len(d.history)
        assert None not in c.values()
    undisclosed = [c for c, d in zip(connections, ledger.deals) if not d.amount.disclosed]
    assert undisclosed and all("Amount (USD)" not in c for c in undisclosed)


# ---------------------------------------------------------------------------------------------
# Neo4j
# ---------------------------------------------------------------------------------------------


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_neo4j_csv(ledger, tmp_path):
    folder = tmp_path / "not" / "there"
    written = gf.to_neo4j(ledger, folder)
    assert written == [folder / "parties.csv", folder / "deals.csv"] and all(p.is_file() for p in written)
    header, parties = read_csv(folder / "parties.csv")
    assert ",".join(header) == "partyId:ID(Party),name,kind,ticker,country,aliases:string[],notes,:LABEL"
    header, deals = read_csv(folder / "deals.csv")
    assert ",".join(header).startswith(
        ":START_ID(Party),:END_ID(Party),dealId,kind,title,announced:date,status,amountValue:double,"
        "amountLow:double,amountHigh:double,currency,amountKind,amountUsd:double,sources:string[],")
    assert header[-1] == ":TYPE" and len(set(header)) == len(header)

    assert [row["partyId:ID(Party)"] for row in parties] == [p.id for p in ledger.parties]
    assert not any(";" in a for p in ledger.parties for a in p.aliases)  # so the split below is exact
    for row, p in zip(parties, ledger.parties):
        assert row["name"] == p.name and row["kind"] == p.kind and row["notes"] == (p.notes or "")
        assert row["aliases:string[]"].split(";") == (list(p.aliases) or [""])
        assert row[":LABEL"].split(";") == ["Party", p.kind.capitalize()]

    ids = {p.id for p in ledger.parties}
    assert len(deals) == len(ledger.deals)
    for row, d in zip(deals, ledger.deals):
        assert row[":START_ID(Party)"] in ids and row[":END_ID(Party)"] in ids
        assert (row[":START_ID(Party)"], row[":END_ID(Party)"], row["dealId"]) == (d.src, d.dst, d.id)
        assert row[":TYPE"] == d.kind.upper() and row["title"] == d.title
        assert row["announced:date"] == d.announced.isoformat() and row["status"] == d.status
        assert row["amountKind"] == d.amount.kind and row["currency"] == d.amount.currency
        usd = ledger.to_usd(d.amount, d.announced)[0]
        assert (float(row["amountUsd:double"]) if row["amountUsd:double"] else None) == usd
        assert (float(row["amountValue:double"]) if row["amountValue:double"] else None) == d.amount.value
        assert row["sources:string[]"].split(";") == [s.url for s in d.sources]
        assert json.loads(row["sourcesJson"]) == [jsonable(to_record(s)) for s in d.sources]
        assert row["closed:boolean"] == ("true" if d.status in CLOSED_STATUSES else "false")


def test_neo4j_awkward_values_round_trip(tmp_path):
    notes = 'He said "no", then left,\nfor good\r\nand "came back"; 100%'
    ledger = Ledger(
        [party("a", notes=notes, aliases=["A;B", "plain, with comma"]), party("b")],
        [deal(title='Deal, "quoted"\nsecond line',
              sources=[{"url": "https://example.com/p;q=1", "publisher": "P"},
                       {"url": "https://example.com/r", "publisher": "Q"}])],
    )
    gf.to_neo4j(ledger, tmp_path)
    _, parties = read_csv(tmp_path / "parties.csv")
    _, deals = read_csv(tmp_path / "deals.csv")
    assert parties[0]["notes"] == notes
    assert parties[0]["aliases:string[]"].split(";") == ["A\uff1bB", "plain, with comma"]
    assert deals[0]["title"] == 'Deal, "quoted"\nsecond line'
    assert deals[0]["sources:string[]"].split(";") == ["https://example.com/p%3Bq=1", "https://example.com/r"]
    urls = [s["url"] for s in json.loads(deals[0]["sourcesJson"])]
    assert urls == ["https://example.com/p;q=1", "https://example.com/r"]


def test_neo4j_import_example_matches_the_files(ledger, tmp_path):
    names = [p.name for p in gf.to_neo4j(ledger, tmp_path)]
    example = gf.NEO4J_IMPORT_EXAMPLE
    assert "neo4j-admin database import full" in example
    assert f"--nodes=Party={names[0]}" in example and f"--relationships={names[1]}" in example
    assert f'--array-delimiter="{gf.NEO4J_ARRAY_DELIMITER}"' in example and "--multiline-fields=true" in example
    assert "MATCH p = (a:Party)-[*2..4]->(a)" in example and "r.dealId" in example
    header, _ = read_csv(tmp_path / "deals.csv")
    assert "dealId" in header and "amountUsd:double" in header and "closed:boolean" in header  # used by the query


# ---------------------------------------------------------------------------------------------
# write()
# ---------------------------------------------------------------------------------------------


def test_write_dispatch(ledger, tmp_path):
    with pytest.raises(ValueError, match="gexf, graphml, kumu, neo4j"):
        gf.write(ledger, "dot", tmp_path / "x.dot")
    assert not (tmp_path / "x.dot").exists()
    [gexf] = gf.write(ledger, "gexf", tmp_path / "sub" / "deals.gexf", dataset="ai-2025")
    assert gexf.read_text(encoding="utf-8") == gf.to_gexf(ledger, dataset="ai-2025")
    [graphml] = gf.write(ledger, "graphml", tmp_path / "deals.graphml")
    assert graphml.read_text(encoding="utf-8") == gf.to_graphml(ledger)
    [kumu] = gf.write(ledger, "kumu", tmp_path / "deals.json")
    assert json.loads(kumu.read_text(encoding="utf-8")) == gf.to_kumu(ledger)
    written = gf.write(ledger, "neo4j", tmp_path / "neo4j")
    assert [p.name for p in written] == ["parties.csv", "deals.csv"] and all(p.is_file() for p in written)


# ---------------------------------------------------------------------------------------------
# generated ledgers
# ---------------------------------------------------------------------------------------------


@GENERATED
@given(ledgers())
def test_generated_ledgers_round_trip_through_networkx(ledger):
    check_graph(read_gexf(gf.to_gexf(ledger)), ledger)
    check_graph(read_graphml(gf.to_graphml(ledger)), ledger)


@GENERATED
@given(ledgers())
def test_generated_ledgers_round_trip_through_csv(ledger):
    with tempfile.TemporaryDirectory() as folder:
        gf.to_neo4j(ledger, Path(folder))
        _, parties = read_csv(Path(folder) / "parties.csv")
        _, deals = read_csv(Path(folder) / "deals.csv")
    assert [(r["partyId:ID(Party)"], r["name"], r["notes"]) for r in parties] == [
        (p.id, p.name, p.notes or "") for p in ledger.parties]
    for row, p in zip(parties, ledger.parties):
        assert row["aliases:string[]"].split(";") == ([a.replace(";", "\uff1b") for a in p.aliases] or [""])
    assert [(r[":START_ID(Party)"], r[":END_ID(Party)"], r["dealId"], r["title"]) for r in deals] == [
        (d.src, d.dst, d.id, d.title) for d in ledger.deals]
    for row, d in zip(deals, ledger.deals):
        assert row["sources:string[]"].split(";") == [s.url.replace(";", "%3B") for s in d.sources]
        assert json.loads(row["history"]) == [jsonable(to_record(e)) for e in d.history]
