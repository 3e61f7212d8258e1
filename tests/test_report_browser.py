"""The report in a real browser: Debian's chromium driven by Playwright, offline, from disk."""

from __future__ import annotations

import json
import shutil

import pytest
from playwright.sync_api import sync_playwright

import loopscope
from loopscope.analysis import find_cycles
from loopscope.report import render_report

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is missing: run sh tools/install-system-deps.sh (the README's test command does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(loopscope.load()), encoding="utf-8")
    return path


@pytest.fixture
def page(browser, report_file):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.requests, page.problems = [], []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("console", lambda message: page.problems.append(message.text) if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.goto(report_file.as_uri())
    page.wait_for_function("window.loopscopeGraph !== undefined")
    yield page
    context.close()


def graph(page, expression: str):
    return page.evaluate(f"(() => {{ const cy = window.loopscopeGraph; return {expression}; }})()")


def embedded(page) -> dict:
    return json.loads(page.eval_on_selector("#report-data", "e => e.textContent"))


def test_opens_offline_and_draws_every_party_and_deal(page):
    data = embedded(page)
    assert graph(page, "[cy.nodes().length, cy.edges().length]") == [len(data["network"]["nodes"]), len(data["network"]["edges"])]
    assert {url.split(":", 1)[0] for url in page.requests} == {"file"}  # nothing but the file itself
    assert page.problems == []
    # the layout is the one computed in Python: the same picture every time
    positions = graph(page, "cy.nodes().map(n => [n.id(), n.position('x'), n.position('y')])")
    assert positions == [[n["id"], n["x"], n["y"]] for n in data["network"]["nodes"]]


def test_hovering_a_deal_shows_amount_date_status_and_source(page):
    edges = embedded(page)["network"]["edges"]
    page.locator("#cy").scroll_into_view_if_needed()
    box = page.locator("#cy").bounding_box()
    tip = page.locator("#tip")
    told = []
    for candidate in edges[:40]:
        point = graph(page, f"cy.getElementById({json.dumps(candidate['id'])}).renderedMidpoint()")
        page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
        tip.wait_for(state="visible")
        lines = tip.inner_text().split("\n")
        # parallel deals lie close together (and a party may sit under the pointer): whatever deal
        # the pointer is on, the tip tells that deal completely
        told = [e for e in edges if len(lines) == 4 and e["title"] == lines[0]
                and lines[1] == f"{e['kind_name']} · {e['amount']}" and lines[2] == f"{e['announced']} · {e['status']}"
                and lines[3] == e["source_name"]]
        if told:
            break
    assert told
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    tip.wait_for(state="hidden")


def test_selecting_a_round_trip_highlights_exactly_its_parties_and_deals(page):
    cycle = find_cycles(loopscope.load())[3]
    page.locator("#cycles tbody tr").nth(3).click()
    assert sorted(graph(page, "cy.nodes('.hit').map(n => n.id())")) == sorted(cycle.parties)
    deals = {d for step in cycle.steps for d in step.deals}
    assert set(graph(page, "cy.edges('.hit').map(e => e.id())")) == deals
    assert graph(page, "cy.elements('.faded').length") > 0
    page.locator("#reset").click()
    assert graph(page, "cy.elements('.hit, .faded').length") == 0


def test_search_zoom_and_pan(page):
    page.fill("#search", "oracle")
    assert "oracle" in graph(page, "cy.nodes('.hit').map(n => n.id())")
    page.locator("#cy").scroll_into_view_if_needed()
    page.wait_for_timeout(600)  # cytoscape leaves the wheel to the page while the page scrolls
    box = page.locator("#cy").bounding_box()
    zoom = graph(page, "cy.zoom()")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(200)
    assert graph(page, "cy.zoom()") > zoom
    before = graph(page, "cy.pan()")
    page.mouse.move(box["x"] + 6, box["y"] + 6)  # a corner: background, not a party
    page.mouse.down()
    page.mouse.move(box["x"] + 106, box["y"] + 56, steps=5)
    page.mouse.up()
    after = graph(page, "cy.pan()")
    assert (round(after["x"] - before["x"]), round(after["y"] - before["y"])) == (100, 50)


def test_screenshots_are_not_blank(page, tmp_path):
    from io import BytesIO

    from PIL import Image

    for name, shot in (("page", page.screenshot(full_page=True)), ("graph", page.locator("#cy").screenshot())):
        image = Image.open(BytesIO(shot)).convert("L")
        (tmp_path / f"{name}.png").write_bytes(shot)
        low, high = image.getextrema()
        assert high - low > 100, name  # ink on paper, not one flat colour
        histogram = image.histogram()
        assert sum(histogram[:200]) > 0.002 * image.width * image.height, name  # enough dark pixels to be a drawing


def test_markup_in_the_data_shows_as_text_and_runs_nothing(browser, tmp_path):
    from loopscope.ledger import Ledger

    ledger = loopscope.load()
    evil = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> "quotes" & ampersands'
    party = ledger.party("oracle").model_copy(update={"name": evil})
    deals = [d.model_copy(update={"sources": [d.sources[0].model_copy(update={"title": evil})] + list(d.sources[1:])})
             if d.dst == "oracle" else d for d in ledger.deals]
    hostile = Ledger([party if p.id == "oracle" else p for p in ledger.parties], deals, ledger.figures, ledger.rates)
    path = tmp_path / "hostile.html"
    path.write_text(render_report(hostile), encoding="utf-8")
    page = browser.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_function("window.loopscopeGraph !== undefined")
    assert page.evaluate("window.pwned") is None
    assert evil in page.locator("body").inner_text()
    assert page.evaluate("window.loopscopeGraph.getElementById('oracle').data('name')") == evil
    assert {url.split(":", 1)[0] for url in requests} == {"file"}
    page.close()


def test_stress_and_gap_charts_are_drawn(page):
    assert page.locator("#stress svg rect.bar").count() >= 2  # a bar per party that loses
    assert "Round 1: OpenAI" in page.locator("#stress .cascade").inner_text()
    assert page.locator("#gap svg polyline.chart-line").count() == 2  # revenue over the top party's and the network's bars
    box = page.locator("#gap svg").first.bounding_box()
    assert box["width"] > 300 and box["height"] > 150


def test_german_report_in_the_browser(browser, tmp_path):
    path = tmp_path / "bericht.html"
    path.write_text(render_report(loopscope.load(), lang="de"), encoding="utf-8")
    page = browser.new_page()
    page.goto(path.as_uri())
    assert page.locator("#reset").inner_text() == "Alles zeigen"
    assert "Mrd. $" in page.locator("#headline").inner_text()
    assert page.locator("#stress h2").inner_text().startswith("Stresstest")
    assert page.locator("#gap h2").inner_text() == "Finanzierungslücke"
    page.close()
