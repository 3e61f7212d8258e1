"""The dashboard as a person uses it: `loopscope serve` started for real, Debian's chromium driven by
Playwright. Load it, move the time slider, filter, open a round trip, run a scenario, add a deal with
a source and find it in the graph and in the YAML file, get a conflict from a second tab, switch to
German; hostile text from the data stays text."""

from __future__ import annotations

import re
import shutil
import time
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

import loopscope
from loopscope.display import money
from loopscope.ledger.files import bundled_path
from loopscope.ledger.records import to_record
from loopscope.ledger.vocabulary import CLOSED_STATUSES

from .serving import start_server, stop_server

CHROMIUM = shutil.which("chromium")
EVIL = '<img src=x onerror="window.__xss=1">"quoted" & <script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("dash") / "ledger"
    shutil.copytree(bundled_path(), target)
    parties = target / "parties.yaml"
    parties.write_text(parties.read_text(encoding="utf-8") + (
        "- id: evil-corp\n  name: " + _quoted(EVIL) + "\n  kind: company\n  notes: " + _quoted(EVIL) + "\n"), encoding="utf-8")
    (target / "deals-evil.yaml").write_text(
        "deals:\n- id: evil-deal\n  kind: purchase\n  from: evil-corp\n  to: nvidia\n  title: " + _quoted(EVIL) + "\n"
        "  announced: 2025-03-01\n  amount: {value: 1e9, currency: USD, kind: exact}\n"
        "  history: [{date: 2025-03-01, status: signed}]\n  sources:\n  - url: https://example.com/a\n    publisher: "
        + _quoted(EVIL) + "\n", encoding="utf-8")
    loopscope.load(target)  # still a valid ledger
    return target


def _quoted(text: str) -> str:
    import json

    return json.dumps(text)


@pytest.fixture(scope="module")
def server(folder):
    process, url = start_server(folder)
    yield url
    assert stop_server(process) == 0, "the server did not shut down cleanly on Ctrl-C"


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is missing: run sh tools/install-system-deps.sh (the README's test command does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1500, "height": 950}, locale="en-GB")
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    expected = re.compile(r"Failed to load resource: the server responded with a status of (409|422)")  # refused edits
    tab.on("console", lambda message: problems.append(message.text)
           if message.type == "error" and not expected.search(message.text) else None)
    tab.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    tab.goto(server + "/")
    tab.wait_for_selector("body[data-ready=true]", timeout=30000)
    yield tab
    assert tab.evaluate("window.__xss") is None, "text from the data ran as code"
    assert problems == [], problems
    context.close()


def edges(page) -> int:
    return page.evaluate("loopscopeDashboard.graph.cy.edges().length")


def shown(page) -> int:
    return int(page.get_attribute("#edge-count", "data-count"))


def wait_until(page, expression: str, timeout: float = 15) -> None:
    """Poll ``expression`` until it is true (Playwright's wait_for_function evaluates strings with eval,
    which the dashboard's Content-Security-Policy rightly forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.05)


def wait_count(page, expected: int) -> None:
    wait_until(page, f"document.getElementById('edge-count').getAttribute('data-count') === '{expected}'")


def live(ledger) -> list:
    return [d for d in ledger.deals if d.status not in CLOSED_STATUSES]


def test_the_time_slider_shows_the_network_as_of_a_day(page, folder):
    ledger = loopscope.load(folder)
    assert shown(page) == edges(page) == len(live(ledger))
    first = min(d.announced for d in ledger.deals)
    for day in (date(2024, 1, 1), date(2025, 6, 1), date(2025, 11, 8)):
        page.fill("#time", str((day - first).days))
        page.dispatch_event("#time", "input")
        expected = len(live(ledger.as_of(day)))
        wait_count(page, expected)
        assert edges(page) == expected and page.text_content("#as-of-label") == day.isoformat()
    assert len(live(ledger.as_of(date(2024, 1, 1)))) < len(live(ledger.as_of(date(2025, 6, 1)))) < len(live(ledger))


def test_filters_and_search(page, folder):
    ledger = loopscope.load(folder)
    page.check("#kind-equity")
    expected = [d.id for d in live(ledger) if d.kind == "equity"]
    wait_count(page, len(expected))
    assert sorted(page.evaluate("loopscopeDashboard.graph.cy.edges().map(e => e.id())")) == sorted(expected)
    page.select_option("#party-filter", "oracle")
    wait_count(page, len([d for d in live(ledger) if d.kind == "equity" and "oracle" in (d.src, d.dst)]))
    page.click("#reset")
    wait_count(page, len(live(ledger)))
    page.fill("#min-amount", "100")
    wait_count(page, len([d for d in live(ledger) if (ledger.to_usd(d.amount, d.announced)[0] or 0) >= 100e9]))
    page.click("#reset")
    page.fill("#search", "oracle")
    wait_until(page, "loopscopeDashboard.graph.cy.nodes('.hit').length > 0")
    assert "oracle" in page.evaluate("loopscopeDashboard.graph.cy.nodes('.hit').map(n => n.id())")


def test_a_round_trip_opens_with_its_story(page, folder):
    first = loopscope.find_cycles(loopscope.load(folder), max_length=6)[0]
    page.click("#cycles-table tbody tr >> nth=0")
    assert page.text_content("#cycle-narrative") == first.narrative["en"]
    hit_nodes = page.evaluate("loopscopeDashboard.graph.cy.nodes('.hit').map(n => n.id())")
    hit_edges = page.evaluate("loopscopeDashboard.graph.cy.edges('.hit').map(e => e.id())")
    assert sorted(hit_nodes) == sorted(first.parties)
    assert sorted(hit_edges) == sorted(d for step in first.steps for d in step.deals)


def test_a_scenario_runs_with_progress_and_shows_its_cascade(page, folder):
    from loopscope.stress import stress_test

    result = stress_test(loopscope.load(folder), "openai-cannot-pay")
    page.click("#tab-stress")
    page.select_option("#scenario", "openai-cannot-pay")
    page.fill("#samples", "3000")
    page.click("#stress-run")
    page.wait_for_selector("#cascade", timeout=60000)
    assert "OpenAI" in page.text_content("#cascade li")
    total = page.text_content("#stress-total")
    assert money(float(result.central.loss[0].sum())) in total and "3000" in total.replace(",", "")
    # a custom shock: Oracle's revenue halves, nobody else touched
    page.select_option("#scenario", "")
    page.select_option("#shock-rows .shock-type", "revenue_falls")
    page.select_option("#shock-rows .shock-party", "oracle")
    page.fill("#shock-rows .shock-size", "50")
    page.fill("#samples", "0")
    page.click("#stress-run")
    page.wait_for_selector("#stress-table", timeout=60000)
    assert "Oracle" in page.text_content("#stress-table")


def test_adding_a_deal_validates_beside_the_field_and_lands_in_graph_and_yaml(page, folder):
    page.click("#tab-edit")
    page.click("#new-deal")
    page.fill("#field-id", "nvidia-dashboard-test-2026")
    page.select_option("#field-kind", "equity")
    page.select_option("#field-from", "nvidia")
    page.select_option("#field-to", "anthropic")
    page.fill("#field-title", "NVIDIA invests in Anthropic (dashboard test)")
    page.fill("#field-announced", "2026-01-15")
    page.select_option("#field-amount-kind", "up_to")
    page.fill("#field-amount-value", "5e9")
    page.fill("#reason", "testing the form")
    page.click("#save")  # no source yet: refused, with the message beside the source field
    page.wait_for_selector("#entry-form .field-error")
    error = page.locator('[data-field="sources.0.url"] + .field-error')
    assert error.count() == 1 and error.text_content() == "sources: at least one entry is required"
    assert "nvidia-dashboard-test-2026" not in "".join(p.read_text(encoding="utf-8") for p in folder.glob("*.yaml"))
    page.fill("#field-sources-0-url", "not a url")
    page.fill("#field-sources-0-publisher", "Example")
    page.click("#save")
    wait_until(page, "(document.querySelector('[data-field=\"sources.0.url\"] + .field-error') || {}).textContent"
                     ".indexOf('is not a web address') >= 0")
    page.fill("#field-sources-0-url", "https://example.com/nvidia-anthropic")
    page.click("#save")
    page.wait_for_selector("#saved")
    wait_until(page, "loopscopeDashboard.graph.cy.getElementById('nvidia-dashboard-test-2026').length === 1")
    text = "".join(p.read_text(encoding="utf-8") for p in folder.glob("*.yaml"))
    assert "- id: nvidia-dashboard-test-2026\n" in text and "url: https://example.com/nvidia-anthropic" in text
    deal = loopscope.load(folder).deal("nvidia-dashboard-test-2026")
    assert deal.amount.kind == "up_to" and deal.amount.value == 5e9 and deal.status == "announced"
    page.click("#tab-changes")
    page.wait_for_selector("#changes li strong")
    assert "create deals nvidia-dashboard-test-2026" in page.text_content("#changes li strong")
    assert "testing the form" in page.text_content("#changes li")


def test_two_tabs_editing_the_same_deal_conflict(page, browser, server, folder):
    other = browser.new_context().new_page()
    other.goto(server + "/")
    other.wait_for_selector("body[data-ready=true]", timeout=30000)
    for tab in (page, other):
        tab.click("#tab-edit")
        tab.evaluate("void loopscopeDashboard.graph.cy.getElementById('openai-oracle-compute-2025').emit('tap')")
        tab.click("#edit-selected")
        tab.wait_for_selector("#field-title")
    page.fill("#field-title", "First tab's title")
    page.fill("#reason", "first")
    page.click("#save")
    page.wait_for_selector("#saved")
    other.fill("#field-title", "Second tab's title")
    other.fill("#reason", "second")
    other.click("#save")
    other.wait_for_selector("#conflict")
    assert loopscope.load(folder).deal("openai-oracle-compute-2025").title == "First tab's title"  # not overwritten
    # the form now holds the current version with the second tab's own change on top, the saved value beside it
    assert other.input_value("#field-title") == "Second tab's title" and other.input_value("#reason") == "second"
    assert other.text_content("#field-title + .field-conflict") == "now saved: First tab's title"
    other.click("#save")  # the person has seen the other change and keeps theirs
    other.wait_for_selector("#saved")
    assert loopscope.load(folder).deal("openai-oracle-compute-2025").title == "Second tab's title"
    other.context.close()


def test_saving_one_field_leaves_the_others_exactly_as_they_were(page, folder):
    """A multi-line quote survives an edit of the label (text inputs would drop its line breaks)."""
    before = to_record(loopscope.load(folder).figures_of("coreweave", "revenue")[-1])
    assert "\n" in before["sources"][0]["quote"]
    page.click("#tab-party")
    page.select_option("#party-pick", "coreweave")
    page.click(f'#party-page li:has-text("{before["period"]["end"]}"):has-text("revenue:") >> button')
    page.wait_for_selector("#field-label")
    page.fill("#field-label", "fiscal 2025")
    page.fill("#reason", "clearer label")
    page.click("#save")
    page.wait_for_selector("#saved")
    after = to_record(loopscope.load(folder).figures_of("coreweave", "revenue")[-1])
    assert after == dict(before, label="fiscal 2025")


def test_language_switch_keeps_filters_and_search_only_highlights(page, folder):
    ledger = loopscope.load(folder)
    equity = len([d for d in live(ledger) if d.kind == "equity"])
    page.check("#kind-equity")
    wait_count(page, equity)
    page.click("#lang")
    wait_until(page, "document.documentElement.lang === 'de'")
    wait_until(page, "document.getElementById('edge-count').textContent.indexOf('Deals gezeigt') >= 0")
    assert page.is_checked("#kind-equity") and shown(page) == equity
    page.click("#lang")
    wait_until(page, "document.documentElement.lang === 'en'")
    page.click("#reset")
    wait_count(page, len(live(ledger)))
    page.fill("#search", "oracle")
    page.fill("#time", page.get_attribute("#time", "max"))
    page.dispatch_event("#time", "input")  # a refresh of the network must not turn the search into a filter
    time.sleep(0.5)
    wait_count(page, len(live(ledger)))


def test_text_from_the_data_is_never_markup(page):
    page.evaluate("void loopscopeDashboard.graph.cy.getElementById('evil-deal').emit('tap')")
    assert EVIL in page.text_content("#details")
    page.click("#tab-party")
    page.select_option("#party-pick", "evil-corp")
    page.wait_for_selector("#party-page h3")
    assert page.text_content("#party-page h3") == EVIL
    assert page.locator("#party-page img, #details img, #party-page script").count() == 0
    assert page.evaluate("loopscopeDashboard.graph.cy.getElementById('evil-corp').data('name')") == EVIL
    # a change whose reason is hostile, shown in the change list; the party in the filter lists and the edit form
    status = page.evaluate("""reason => fetch('/api/parties/evil-corp').then(r => r.json()).then(e =>
        fetch('/api/parties/evil-corp', {method: 'PUT', headers: {'content-type': 'application/json'},
              body: JSON.stringify({record: Object.assign({}, e.record, {country: 'US'}), version: e.version, reason: reason})}))
        .then(r => r.status)""", EVIL)
    assert status == 200
    page.click("#tab-changes")
    page.wait_for_selector("#changes li div")
    assert page.text_content("#changes li div") == EVIL
    page.click("#tab-party")
    page.click("#party-page > button")  # edit the party: its name goes into the form as a value
    assert page.input_value("#field-name") == EVIL
    assert page.evaluate("document.querySelectorAll('img, iframe, object').length") == 0


def test_german(page):
    page.click("#lang")
    wait_until(page, "document.documentElement.lang === 'de'")
    assert page.text_content("#tab-cycles") == "Kreisläufe"
    wait_until(page, "document.getElementById('edge-count').textContent.indexOf('Deals gezeigt') >= 0")
    wait_until(page, "document.querySelector('#headline .label') && document.querySelector('#headline .label').textContent.indexOf('Bruttovolumen') >= 0")
    page.click("#lang")
    wait_until(page, "document.documentElement.lang === 'en'")


def test_read_only_hides_editing_and_refuses_writes(browser, tmp_path):
    shutil.copytree(bundled_path(), tmp_path / "l")
    process, url = start_server(tmp_path / "l", "--read-only")
    try:
        tab = browser.new_page()
        tab.goto(url + "/")
        tab.wait_for_selector("body[data-ready=true]", timeout=30000)
        assert tab.is_visible("#read-only") and not tab.is_visible("#tab-edit")
        status = tab.evaluate("""fetch('/api/deals', {method: 'POST', headers: {'content-type': 'application/json'},
                                 body: JSON.stringify({record: {}, reason: 'x'})}).then(r => r.status)""")
        assert status == 403
        tab.close()
    finally:
        assert stop_server(process) == 0
