"""The HTML report: self-contained, deterministic, complete, escaped, in English and German."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

import loopscope
from loopscope.analysis import find_cycles, max_circulation
from loopscope.cli import app
from loopscope.display import money
from loopscope.report import render_report


class Page(HTMLParser):
    """Collects what matters: tags with their attributes, script bodies, link targets, text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.text: list[str] = []
        self._script: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "script":
            self._script = attributes
            self.scripts.append((attributes, ""))

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            attributes, body = self.scripts[-1]
            self.scripts[-1] = (attributes, body + data)
        else:
            self.text.append(data)

    def links(self) -> set[str]:
        return {a["href"] for tag, a in self.tags if tag == "a" and "href" in a}

    def data(self) -> dict:
        (body,) = [b for a, b in self.scripts if a.get("id") == "report-data"]
        return json.loads(body)


@pytest.fixture(scope="module")
def ledger():
    return loopscope.load()


@pytest.fixture(scope="module")
def english(ledger):
    return render_report(ledger)


def test_self_contained_no_request_leaves_the_page(english):
    page = Page(english)
    for tag, attributes in page.tags:
        assert "src" not in attributes, (tag, attributes)  # every script inline, no images or frames from outside
        if tag == "link":
            raise AssertionError(f"external resource {attributes}")
    css = english[english.index("<style>"):english.index("</style>")]
    assert "url(" not in css and "@import" not in css
    assert "default-src 'none'" in english and "connect-src 'none'" in english  # the browser enforces it
    scripts = [body for attributes, body in page.scripts if attributes.get("type") != "application/json"]
    assert any("Cytoscape Consortium" in body for body in scripts)  # the library and its licence, inlined
    ours = scripts[-1]
    assert "fetch(" not in ours and "XMLHttpRequest" not in ours and "innerHTML" not in ours


def test_deterministic(ledger, english):
    assert render_report(ledger) == english


def test_headline_network_and_round_trips_come_from_the_analyses(ledger, english):
    page = Page(english)
    text = " ".join(page.text)
    circulation = max_circulation(ledger)
    assert money(circulation.gross) in text and money(circulation.circulated) in text
    assert f"{circulation.circularity * 100:.0f}%" in text
    data = page.data()
    live = {d.id for d in ledger.deals if d.status not in ("superseded", "cancelled")}
    assert {e["id"] for e in data["network"]["edges"]} == live
    assert [n["id"] for n in data["network"]["nodes"]] == sorted(p.id for p in ledger.parties)
    positions = {(n["x"], n["y"]) for n in data["network"]["nodes"]}
    assert len(positions) == len(data["network"]["nodes"])  # a real layout, no two parties on one spot
    cycles = find_cycles(ledger)
    assert data["cycles"][0]["parties"] == list(cycles[0].parties)
    assert cycles[0].narrative["en"] in text
    for cycle in data["cycles"]:
        assert set(cycle["deals"]) <= live


def test_every_source_is_a_link(ledger, english):
    links = Page(english).links()
    cited = {s.url for d in ledger.deals for s in d.sources} | {s.url for f in ledger.figures for s in f.sources}
    assert cited <= links


def test_oracle_backlog_note_with_sources(ledger):
    html = render_report(ledger.as_of("2025-09-30"))
    text = " ".join(Page(html).text)
    assert re.search(r"Oracle: OpenAI's commitments \(\$300bn\) are 66% of the backlog of \$455bn", text)
    assert "as of 2025-09-30" in text


def test_german(ledger):
    html = render_report(ledger, lang="de")
    text = " ".join(Page(html).text)
    assert '<html lang="de">' in html
    assert "Die wichtigsten Zahlen" in text and "Kreisläufe" in text and "Quellen" in text
    assert money(max_circulation(ledger).gross, lang="de") in text and "Bio. $" in text
    assert find_cycles(ledger)[0].narrative["de"] in text
    assert "Headline figures" not in text


def test_everything_from_the_data_is_escaped(ledger):
    from loopscope.ledger import Ledger

    evil = '<script>alert("x")</script><img src=x onerror=alert(1)> "quoted" & \u2028'
    party = ledger.party("nvidia").model_copy(update={"name": evil})
    deals = [d.model_copy(update={"title": evil, "sources": [d.sources[0].model_copy(update={"title": evil,
             "publisher": evil})] + list(d.sources[1:])}) if d.src == "nvidia" else d for d in ledger.deals]
    hostile = Ledger([party if p.id == "nvidia" else p for p in ledger.parties], deals, ledger.figures, ledger.rates)
    html = render_report(hostile)
    page = Page(html)
    assert [a.get("id") or a.get("type") for a, _ in page.scripts].count("report-data") == 1
    assert len(page.scripts) == 4  # the data, the library, the graph, our script: nothing injected
    assert not any(k.startswith("on") for _, attributes in page.tags for k in attributes)
    assert not any(tag == "img" for tag, _ in page.tags)
    assert "</script><img" not in html.split('id="report-data">', 1)[1].split("</script>", 1)[0]
    data = page.data()
    assert any(n["name"] == evil for n in data["network"]["nodes"])  # the text survives, as text
    assert evil in " ".join(page.text)


def test_stress_and_gap_sections_come_from_the_analyses(ledger):
    from loopscope.stress import stress_test
    from loopscope.stress.gap import funding_gap

    html = render_report(ledger, scenario="perfect-storm", samples=200, seed=4)
    text = " ".join(Page(html).text)
    r = stress_test(ledger, "perfect-storm", samples=200, seed=4)
    assert "Stress test: All three at once" in text and "Teufelskreis" in text
    assert r.cascade() == [["anthropic", "openai"]] and "Round 1: Anthropic, OpenAI" in text
    oracle = r.parties.index("oracle")
    assert money(r.central.loss[0, oracle]) in text  # the loss the model computed, as the page shows it
    assert "Over 200 samples" in text and "Eisenberg-Noe clearing" in text
    assert any("funding: every party raises outside" in a for a in r.assumptions) and "funding: every party raises outside" in text
    gap = funding_gap(ledger)
    top = next(p for p in gap.parties if p.revenue_usd > 0)
    assert f"{top.growth_needed * 100:.0f}%" in text and "$2tn of revenue needed by 2030" in text and "$800bn short" in text
    assert "cybernews.com" in html
    german = " ".join(Page(render_report(ledger, lang="de")).text)
    assert "Stresstest: OpenAI kann seine Verpflichtungen nicht bedienen" in german and "Runde 1:" in german
    assert "Finanzierungslücke" in german and "es fehlen 800 Mrd. $" in german and "Nötiges Wachstum p. a." in german


def test_a_scenario_from_a_file_is_escaped_too(ledger, tmp_path):
    from loopscope.stress import Scenario

    evil = '<script>alert("x")</script><img src=x onerror=alert(1)> & "q"'
    scenario = Scenario.model_validate({"name": "evil", "title": evil, "description": evil,
                                        "quote": {"text": evil, "publisher": evil, "url": "https://example.org/?a=<b>"},
                                        "shocks": [{"type": "pays_fraction", "party": "openai", "fraction": 0}]})
    page = Page(render_report(ledger, scenario=scenario))
    assert len(page.scripts) == 4 and not any(tag == "img" for tag, _ in page.tags)
    assert not any(k.startswith("on") for _, attributes in page.tags for k in attributes)
    assert evil in " ".join(page.text)


def test_report_command_writes_the_file(tmp_path):
    runner = CliRunner()
    target = tmp_path / "out" / "report.html"
    result = runner.invoke(app, ["report", "-o", str(target), "--lang", "de"])
    assert result.exit_code == 0, result.output
    assert "Bericht geschrieben" in result.output and str(target.resolve()) in result.output.replace("\n", "")
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert runner.invoke(app, ["report", "-o", str(target), "--lang", "fr"]).exit_code == 2


def test_datasheet_only_from_a_ledger_folder(tmp_path):
    from loopscope.report import bundled_datasheet

    assert "Datasheet" in bundled_datasheet(None)
    ledger = loopscope.load()
    ledger.save(tmp_path / "deals.json")
    (tmp_path / "README.md").write_text("# Something else entirely")
    assert bundled_datasheet(tmp_path / "deals.json") is None
    assert 'id="dataset"' not in render_report(ledger, datasheet=None)


def test_node_size_legend_matches_the_sizes_the_nodes_get(ledger):
    from loopscope.report.content import report_content

    content = report_content(ledger, "ai-2025")
    legend = {z["text"]: z["size"] for z in content["network"]["sizes"]}
    assert list(legend) == ["$10bn", "$100bn", "$1tn"]
    nvidia = next(n for n in content["network"]["nodes"] if n["id"] == "nvidia")
    value = ledger.latest_figure("nvidia", "market_cap").value
    assert legend["$10bn"] < legend["$100bn"] < legend["$1tn"] < nvidia["size"]  # NVIDIA is worth more than $1tn
    import math

    assert nvidia["size"] == round(18 + 8 * math.log10(value / 1e9 + 1), 1)
    assert "node size at normal zoom" in " ".join(Page(render_report(ledger)).text)
