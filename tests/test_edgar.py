"""SEC EDGAR company facts → ledger figures: the HTTP client (against a real local server serving
recorded SEC responses), the mapping of facts to figures, and writing them into a ledger."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import threading
import time
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from loopscope.interop import edgar
from loopscope.interop.edgar import (
    AccessDenied,
    EdgarClient,
    NetworkError,
    NotCached,
    NotFound,
    RateLimited,
    RateLimiter,
    UnknownParty,
    UnknownTicker,
    UserAgentError,
    extract_figures,
    figures_from_facts,
    update_figures,
)
from loopscope.ledger import Ledger
from loopscope.ledger.editor import LedgerEditor, ReadOnly
from loopscope.ledger.files import bundled_path
from loopscope.ledger.model import Figure

DATA = Path(__file__).parent / "data" / "edgar"
FACTS_PATH = "/api/xbrl/companyfacts/CIK0001318605.json"
TICKERS_PATH = "/files/company_tickers.json"
AGENT = "Jane Doe jane.doe@example.com"
TESLA = 1318605


def _facts() -> dict:
    return json.loads((DATA / "CIK0001318605.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# a real HTTP server on 127.0.0.1 serving the recorded responses
# ---------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        server = self.server
        with server.lock:
            server.log.append((time.monotonic(), self.path, {k.lower(): v for k, v in self.headers.items()}))
            queued = server.script.get(self.path)
            answer = queued.pop(0) if queued else None
        if answer is None:
            body = server.files.get(self.path)
            answer = (200, {"Content-Type": "application/json"}, body) if body is not None else (
                404, {"Content-Type": "application/xml"}, b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code></Error>")
        status, headers, body = answer
        headers = dict(headers)
        if status == 200 and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class SecServer:
    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.log = []
        self.httpd.script = {}
        self.httpd.lock = threading.Lock()
        self.httpd.files = {
            TICKERS_PATH: (DATA / "company_tickers.json").read_bytes(),
            FACTS_PATH: (DATA / "CIK0001318605.json").read_bytes(),
        }
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def log(self) -> list:
        return self.httpd.log

    def queue(self, path: str, status: int, headers: dict | None = None, body: bytes = b"") -> None:
        """Answer the next request for ``path`` so (then the recorded file again)."""
        self.httpd.script.setdefault(path, []).append((status, headers or {}, body))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(edgar.USER_AGENT_ENV, raising=False)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))  # never the real ~/.cache


@pytest.fixture
def server():
    running = SecServer()
    try:
        yield running
    finally:
        running.close()


class FakeTime:
    """A monotonic clock that only moves when slept."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _client(server: SecServer, cache: Path, fake: FakeTime | None = None, **options) -> EdgarClient:
    fake = fake or FakeTime()
    options.setdefault("user_agent", AGENT)
    return EdgarClient(cache_dir=cache, base_data_url=server.url, base_www_url=server.url, clock=fake.clock,
                       sleep=fake.sleep, **options)


# ---------------------------------------------------------------------------------------------
# the client
# ---------------------------------------------------------------------------------------------


def test_fetches_over_http_with_the_user_agent_and_gzip(server, tmp_path):
    client = _client(server, tmp_path / "cache")
    assert client.cik_for("TSLA") == TESLA
    assert client.cik_for("tsla") == TESLA
    assert client.cik_for("ORCL") == 1341439
    facts = client.company_facts(TESLA)
    assert facts == _facts()
    assert [path for _, path, _ in server.log] == [TICKERS_PATH, FACTS_PATH]
    for _, _, headers in server.log:
        assert headers["user-agent"] == AGENT
        assert "gzip" in headers["accept-encoding"]
    assert client.requested == [server.url + TICKERS_PATH, server.url + FACTS_PATH]
    body = tmp_path / "cache" / "companyfacts" / "CIK0001318605.json"
    assert json.loads(body.read_bytes()) == facts  # stored decompressed
    meta = json.loads(body.with_name("CIK0001318605.json.meta.json").read_text())
    assert meta["url"] == server.url + FACTS_PATH
    assert datetime.fromisoformat(meta["fetched"]).tzinfo is not None


def test_requests_are_spaced_at_least_a_tenth_of_a_second(server, tmp_path):
    client = EdgarClient(AGENT, cache_dir=tmp_path / "cache", base_data_url=server.url, base_www_url=server.url)
    client.tickers()
    client.company_facts(TESLA)
    with pytest.raises(NotFound):
        client.company_facts(789019)
    times = [when for when, _, _ in server.log]
    assert len(times) == 3
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(gap >= 0.095 for gap in gaps), gaps  # 0.1 s at the client; a little jitter on the way


def test_the_rate_limiter_keeps_ten_per_second_on_a_fake_clock():
    fake = FakeTime()
    limiter = RateLimiter(10, fake.clock, fake.sleep)
    starts = []
    for _ in range(5):
        limiter.wait()
        starts.append(fake.now)
    assert [round(b - a, 9) for a, b in zip(starts, starts[1:])] == [0.1] * 4
    fake.now += 5  # a pause longer than the interval: no waiting
    before = len(fake.sleeps)
    limiter.wait()
    assert len(fake.sleeps) == before
    with pytest.raises(ValueError):
        EdgarClient(AGENT, rate=20)


def test_a_second_run_is_served_from_the_cache(server, tmp_path):
    first = _client(server, tmp_path / "cache")
    first.company_facts(first.cik_for("TSLA"))
    assert len(server.log) == 2
    second = _client(server, tmp_path / "cache")
    assert second.company_facts(second.cik_for("TSLA")) == _facts()
    assert second.requested == []
    assert len(server.log) == 2


def test_an_old_cache_entry_is_fetched_again(server, tmp_path):
    day = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
    _client(server, tmp_path / "cache", now=lambda: day).company_facts(TESLA)
    later = _client(server, tmp_path / "cache", now=lambda: day + timedelta(hours=25))
    later.company_facts(TESLA)
    assert len(later.requested) == 1
    forever = _client(server, tmp_path / "cache", max_age=None, now=lambda: day + timedelta(days=400))
    forever.company_facts(TESLA)
    assert forever.requested == []
    always = _client(server, tmp_path / "cache", max_age=0)
    always.company_facts(TESLA)
    assert len(always.requested) == 1


def test_offline_with_an_empty_cache_says_what_is_missing(server, tmp_path):
    client = _client(server, tmp_path / "empty", offline=True, user_agent=None)
    with pytest.raises(NotCached) as raised:
        client.cik_for("TSLA")
    assert "company_tickers.json" in str(raised.value) and "offline" in str(raised.value)
    assert str(tmp_path / "empty") in str(raised.value)
    with pytest.raises(NotCached, match="CIK 0001318605"):
        client.company_facts(TESLA)
    assert server.log == [] and client.requested == []


def test_offline_with_a_filled_cache_works_without_network_or_user_agent(server, tmp_path):
    _client(server, tmp_path / "cache").company_facts(TESLA)
    _client(server, tmp_path / "cache").tickers()
    count = len(server.log)
    far = datetime(2099, 1, 1, tzinfo=timezone.utc)  # however old
    offline = EdgarClient(None, cache_dir=tmp_path / "cache", offline=True, base_data_url="http://127.0.0.1:9",
                          base_www_url="http://127.0.0.1:9", now=lambda: far)
    assert offline.cik_for("TSLA") == TESLA
    assert offline.company_facts(TESLA) == _facts()
    assert offline.requested == [] and len(server.log) == count


def test_a_missing_or_nameless_user_agent_is_refused_before_any_request(server, tmp_path, monkeypatch):
    with pytest.raises(UserAgentError, match="LOOPSCOPE_SEC_USER_AGENT") as raised:
        _client(server, tmp_path / "cache", user_agent=None)
    assert "e-mail" in str(raised.value)
    with pytest.raises(UserAgentError, match="no e-mail address"):
        _client(server, tmp_path / "cache", user_agent="loopscope/1.0")
    with pytest.raises(UserAgentError):
        _client(server, tmp_path / "cache", user_agent="   ")
    with pytest.raises(UserAgentError, match="control characters"):
        _client(server, tmp_path / "cache", user_agent="Jane jane@example.com\r\nX-Evil: 1")
    assert server.log == []
    monkeypatch.setenv(edgar.USER_AGENT_ENV, "Research Desk research@example.org")
    client = _client(server, tmp_path / "cache", user_agent=None)
    client.tickers()
    assert server.log[-1][2]["user-agent"] == "Research Desk research@example.org"


def test_a_403_explains_the_user_agent_rule(server, tmp_path):
    server.queue(TICKERS_PATH, 403, {"Content-Type": "text/html"},
                 b"<html><body>Your Request Originates from an Undeclared Automated Tool</body></html>")
    client = _client(server, tmp_path / "cache")
    with pytest.raises(AccessDenied) as raised:
        client.tickers()
    message = str(raised.value)
    assert "HTTP 403" in message and "User-Agent" in message and AGENT in message
    assert raised.value.status == 403
    assert not (tmp_path / "cache" / "company_tickers.json").exists()


def test_a_429_is_retried_after_the_wait_the_server_asks(server, tmp_path):
    server.queue(FACTS_PATH, 429, {"Retry-After": "3"}, b"slow down")
    fake = FakeTime()
    client = _client(server, tmp_path / "cache", fake)
    assert client.company_facts(TESLA) == _facts()
    assert [path for _, path, _ in server.log] == [FACTS_PATH, FACTS_PATH]
    assert 3.0 in fake.sleeps


def test_a_429_that_persists_gives_up(server, tmp_path):
    for _ in range(3):
        server.queue(FACTS_PATH, 429, {"Retry-After": "1"})
    with pytest.raises(RateLimited, match="HTTP 429"):
        _client(server, tmp_path / "cache", retries=2).company_facts(TESLA)
    assert len(server.log) == 3
    server.queue(TICKERS_PATH, 429, {"Retry-After": "3600"})
    with pytest.raises(RateLimited, match="3600"):
        _client(server, tmp_path / "cache").tickers()  # longer than max_retry_wait: no waiting an hour


def test_retry_after_as_a_date():
    now = datetime(2015, 10, 21, 7, 27, 0, tzinfo=timezone.utc)
    assert edgar._retry_delay("Wed, 21 Oct 2015 07:28:00 GMT", 0, now) == 60
    assert edgar._retry_delay(None, 2, now) == 4


def test_unknown_cik_and_unknown_ticker(server, tmp_path):
    client = _client(server, tmp_path / "cache")
    with pytest.raises(NotFound) as raised:
        client.company_facts(999999999)
    assert raised.value.status == 404 and "CIK0999999999" in str(raised.value)
    with pytest.raises(UnknownTicker, match="not in the SEC's list"):
        client.cik_for("9984.T")
    assert client.cik_for("BRK.B") == 1067983  # the SEC writes BRK-B


def test_network_errors_are_clear(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = EdgarClient(AGENT, cache_dir=tmp_path / "cache", base_data_url=f"http://127.0.0.1:{port}",
                         base_www_url=f"http://127.0.0.1:{port}", timeout=5)
    with pytest.raises(NetworkError, match="could not reach the SEC"):
        client.tickers()


def test_the_default_cache_folder():
    assert edgar.default_cache_dir({"XDG_CACHE_HOME": "/var/cache/me"}) == Path("/var/cache/me/loopscope/edgar")
    assert edgar.default_cache_dir({}) == Path.home() / ".cache" / "loopscope" / "edgar"


# ---------------------------------------------------------------------------------------------
# facts → figures
# ---------------------------------------------------------------------------------------------


def test_the_latest_figures_of_the_recorded_facts():
    found = extract_figures("tesla", _facts(), TESLA)
    by_id = {record["id"]: record for record in found.figures}
    assert set(by_id) == {
        "tesla-revenue-2021-12-31-fy-sec", "tesla-revenue-2022-09-30-q-sec", "tesla-cash-2022-09-30-sec",
        "tesla-debt-2022-09-30-sec", "tesla-shares-outstanding-2022-10-18-sec",
    }
    for record in found.figures:
        figure = Figure.model_validate(record)
        assert figure.kind == "exact" and figure.sources[0].publisher == edgar.PUBLISHER
    year = by_id["tesla-revenue-2021-12-31-fy-sec"]
    assert year["value"] == 53823000000 and year["unit"] == "USD"
    assert year["period"] == {"start": date(2021, 1, 1), "end": date(2021, 12, 31)}
    assert year["label"] == "fiscal year ended 2021-12-31"
    assert year["sources"][0] == {
        "url": "https://www.sec.gov/Archives/edgar/data/1318605/000095017022000796/",
        "publisher": "U.S. Securities and Exchange Commission (EDGAR)",
        "title": "Tesla, Inc. 10-K filed 2022-02-07 (XBRL: us-gaap:Revenues)",
        "date": date(2022, 2, 7),
    }
    quarter = by_id["tesla-revenue-2022-09-30-q-sec"]
    assert quarter["value"] == 21454000000
    assert quarter["period"] == {"start": date(2022, 7, 1), "end": date(2022, 9, 30)}
    assert quarter["sources"][0]["url"] == "https://www.sec.gov/Archives/edgar/data/1318605/000095017022019867/"
    cash = by_id["tesla-cash-2022-09-30-sec"]
    assert cash["value"] == 19532000000 and cash["date"] == date(2022, 9, 30) and "period" not in cash
    assert cash["sources"][0]["title"] == \
        "Tesla, Inc. 10-Q filed 2022-10-24 (XBRL: us-gaap:CashAndCashEquivalentsAtCarryingValue)"
    assert by_id["tesla-debt-2022-09-30-sec"]["value"] == 1418000000
    assert "us-gaap:LongTermDebt" in by_id["tesla-debt-2022-09-30-sec"]["sources"][0]["title"]
    shares = by_id["tesla-shares-outstanding-2022-10-18-sec"]
    assert shares["value"] == 3157752449 and shares["unit"] == "shares"
    assert shares["sources"][0]["title"].endswith("(XBRL: dei:EntityCommonStockSharesOutstanding)")
    skipped = {skip.metric: skip.reason for skip in found.skipped}
    assert "RevenueRemainingPerformanceObligation" in skipped["rpo"]
    assert "ConcentrationRiskPercentage1" in skipped["customer_share"]
    assert "dimensions" in skipped["customer_share"]
    assert "UnrecordedUnconditionalPurchaseObligationBalanceSheetAmount" in skipped["commitments"]
    assert figures_from_facts("tesla", _facts(), TESLA) == found.figures


def test_repeats_in_later_filings_keep_the_first_filing_as_source():
    records = {r["id"]: r for r in figures_from_facts("tesla", _facts(), TESLA, since=date(2020, 12, 31))}
    # the 2020 year-end cash balance is repeated by eight filings; the 10-K that first reported it is the source
    cash = records["tesla-cash-2020-12-31-sec"]
    assert cash["value"] == 19384000000
    assert cash["sources"][0]["url"].endswith("/000156459021004599/")
    assert cash["sources"][0]["date"] == date(2021, 2, 8)
    # a 10-K/A repeating the 10-K's cover: the 10-K stays the source
    shares = records["tesla-shares-outstanding-2022-01-31-sec"]
    assert shares["value"] == 1033507611
    assert shares["sources"][0]["title"].startswith("Tesla, Inc. 10-K filed 2022-02-07")
    # the fourth quarter comes from the 10-K, beside the year with the same end date
    assert records["tesla-revenue-2020-12-31-q-sec"]["value"] == 10744000000
    assert records["tesla-revenue-2020-12-31-fy-sec"]["value"] == 31536000000
    # year-to-date sums (6 and 9 months) are not figures
    assert not any(r["metric"] == "revenue" and (r["period"]["end"] - r["period"]["start"]).days > 100
                   and (r["period"]["end"] - r["period"]["start"]).days < 300 for r in records.values())
    assert min(r.get("date") or r["period"]["end"] for r in records.values()) >= date(2020, 12, 31)


def test_the_whole_history_and_since():
    everything = figures_from_facts("tesla", _facts(), TESLA, latest_only=False)
    recent = figures_from_facts("tesla", _facts(), TESLA, since=date(2022, 6, 30))
    assert len(everything) > len(recent) > 5
    assert {r["id"] for r in recent} <= {r["id"] for r in everything}
    nothing = extract_figures("tesla", _facts(), TESLA, since=date(2030, 1, 1))
    assert nothing.figures == []
    assert any("nothing since 2030-01-01" in skip.reason for skip in nothing.skipped)


# Four real facts of Tesla's company facts for 2018 (same source file as CIK0001318605.json, see the README):
# the 10-K filed in 2019 gave full dollars, the next two 10-Ks rounded to millions.
REVISED_2018 = {"cik": 1318605, "entityName": "Tesla, Inc.", "facts": {"us-gaap": {
    "RevenueFromContractWithCustomerExcludingAssessedTax": {"units": {"USD": [
        {"start": "2018-01-01", "end": "2018-12-31", "val": 21461268000, "accn": "0001564590-19-003165", "fy": 2018,
         "fp": "FY", "form": "10-K", "filed": "2019-02-19", "frame": "CY2018"}]}},
    "Revenues": {"units": {"USD": [
        {"start": "2018-01-01", "end": "2018-12-31", "val": 21461268000, "accn": "0001564590-19-003165", "fy": 2018,
         "fp": "FY", "form": "10-K", "filed": "2019-02-19"},
        {"start": "2018-01-01", "end": "2018-12-31", "val": 21461000000, "accn": "0001564590-20-004475", "fy": 2019,
         "fp": "FY", "form": "10-K", "filed": "2020-02-13"},
        {"start": "2018-01-01", "end": "2018-12-31", "val": 21461000000, "accn": "0001564590-21-004599", "fy": 2020,
         "fp": "FY", "form": "10-K", "filed": "2021-02-08", "frame": "CY2018"}]}},
}}}


def test_a_revised_value_wins_with_the_filing_that_first_gave_it():
    [record] = figures_from_facts("tesla", REVISED_2018, TESLA)
    assert record["id"] == "tesla-revenue-2018-12-31-fy-sec"
    assert record["value"] == 21461000000
    assert record["sources"][0]["url"].endswith("/000156459020004475/")
    assert "revised from 21,461,268,000 USD" in record["notes"]
    assert "us-gaap:Revenues" in record["sources"][0]["title"]  # preferred to the ASC 606 concept


def test_revenue_from_contract_is_used_when_revenues_is_missing():
    only = json.loads(json.dumps(REVISED_2018))
    del only["facts"]["us-gaap"]["Revenues"]
    [record] = figures_from_facts("tesla", only, TESLA)
    assert record["value"] == 21461268000
    assert "RevenueFromContractWithCustomerExcludingAssessedTax" in record["sources"][0]["title"]


def test_debt_falls_back_when_long_term_debt_is_not_tagged():
    facts = _facts()
    debt = facts["facts"]["us-gaap"].pop("LongTermDebt")
    assert not [r for r in figures_from_facts("tesla", facts, TESLA) if r["metric"] == "debt"]
    facts["facts"]["us-gaap"]["DebtLongtermAndShorttermCombinedAmount"] = debt  # the same real facts, moved
    [record] = [r for r in figures_from_facts("tesla", facts, TESLA) if r["metric"] == "debt"]
    assert record["value"] == 1418000000
    assert "DebtLongtermAndShorttermCombinedAmount" in record["sources"][0]["title"]


# ---------------------------------------------------------------------------------------------
# writing into a ledger
# ---------------------------------------------------------------------------------------------

HAND_MADE = {
    "id": "tesla-revenue-2021-12-31", "party": "tesla", "metric": "revenue", "value": 53.8e9, "unit": "USD",
    "kind": "estimate", "period": {"start": "2021-01-01", "end": "2021-12-31"}, "label": "FY2021",
    "notes": "A hand-made test figure.", "sources": [{"url": "https://example.com/tesla-2021", "publisher": "Example"}],
}


@pytest.fixture
def ledger(tmp_path) -> Path:
    """The bundled dataset, copied, with a party Tesla (TSLA) and one hand-made Tesla figure."""
    folder = tmp_path / "ledger"
    shutil.copytree(bundled_path(), folder)
    editor = LedgerEditor(folder)
    editor.create("parties", {"id": "tesla", "name": "Tesla", "kind": "company", "ticker": "TSLA", "country": "US"},
                  "test party")
    editor.create("figures", HAND_MADE, "test figure")
    return folder


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _log(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / ".loopscope-changes.jsonl").read_text().splitlines()]


def test_update_writes_the_figures_and_a_second_run_changes_nothing(server, ledger, tmp_path):
    client = _client(server, tmp_path / "cache")
    logged = len(_log(ledger))
    result = update_figures(ledger, client, ["tesla"])
    expected = ["tesla-revenue-2021-12-31-fy-sec", "tesla-revenue-2022-09-30-q-sec", "tesla-cash-2022-09-30-sec",
                "tesla-debt-2022-09-30-sec", "tesla-shares-outstanding-2022-10-18-sec"]
    assert result.created == expected and result.updated == [] and result.unchanged == []
    assert len(result.requests) == 2 and result.changed
    assert ("tesla-revenue-2021-12-31-fy-sec", "tesla-revenue-2021-12-31") in result.overlaps
    assert "rpo" in {skip.metric for skip in result.skipped}

    read = Ledger.read(ledger)  # still valid
    figures = {f.id: f for f in read.figures}
    assert figures["tesla-cash-2022-09-30-sec"].value == 19532000000
    assert figures["tesla-debt-2022-09-30-sec"].value == 1418000000
    assert figures["tesla-shares-outstanding-2022-10-18-sec"].value == 3157752449
    year = figures["tesla-revenue-2021-12-31-fy-sec"]
    assert year.value == 53823000000 and (year.period.start, year.period.end) == (date(2021, 1, 1), date(2021, 12, 31))
    assert year.sources[0].url == "https://www.sec.gov/Archives/edgar/data/1318605/000095017022000796/"
    assert year.sources[0].date == date(2022, 2, 7)
    assert read.origins[("figures", "tesla-cash-2022-09-30-sec")] == "figures.yaml"
    assert "value: 19.532e9" in (ledger / "figures.yaml").read_text()
    assert figures["tesla-revenue-2021-12-31"] == Figure.model_validate(HAND_MADE)  # the hand-made one untouched

    log = _log(ledger)[logged:]
    assert [entry["id"] for entry in log] == expected
    assert all(entry["action"] == "create" and entry["reason"] == edgar.DEFAULT_REASON for entry in log)

    before = _bytes(ledger)
    again = update_figures(ledger, _client(server, tmp_path / "cache"), ["tesla"])
    assert again.created == [] and again.updated == [] and sorted(again.unchanged) == sorted(expected)
    assert again.requests == [] and not again.changed
    assert _bytes(ledger) == before  # not a byte moved, the change log included


def test_a_changed_value_is_updated_and_a_hand_edited_note_is_left_alone(server, ledger, tmp_path):
    update_figures(ledger, _client(server, tmp_path / "cache"), ["tesla"])
    editor = LedgerEditor(ledger)
    record, version, _ = editor.record("figures", "tesla-cash-2022-09-30-sec")
    editor.update("figures", "tesla-cash-2022-09-30-sec", dict(record, value=1.0), version, "typo")
    record, version, _ = editor.record("figures", "tesla-debt-2022-09-30-sec")
    editor.update("figures", "tesla-debt-2022-09-30-sec", dict(record, notes="Checked by hand."), version, "note")
    result = update_figures(ledger, _client(server, tmp_path / "cache"), ["tesla"], reason="refresh")
    assert result.updated == ["tesla-cash-2022-09-30-sec"]
    assert "tesla-debt-2022-09-30-sec" in result.unchanged
    read = Ledger.read(ledger)
    assert {f.id: f for f in read.figures}["tesla-cash-2022-09-30-sec"].value == 19532000000
    assert {f.id: f for f in read.figures}["tesla-debt-2022-09-30-sec"].notes == "Checked by hand."
    assert _log(ledger)[-1]["action"] == "update" and _log(ledger)[-1]["reason"] == "refresh"


def test_every_party_with_a_ticker_is_looked_up_and_the_rest_reported(server, ledger, tmp_path):
    result = update_figures(ledger, _client(server, tmp_path / "cache"))
    assert len(result.created) == 5 and all(ident.startswith("tesla-") for ident in result.created)
    reasons = {skip.party: skip.reason for skip in result.skipped if skip.metric is None}
    assert "not in the SEC's list" in reasons["softbank"]  # 9984.T: files nothing with the SEC
    assert "not in the SEC's list" in reasons["coreweave"]  # not in this (older) ticker list
    assert "HTTP 404" in reasons["oracle"] and "CIK 0001341439" in reasons["oracle"]
    assert "openai" in result.without_ticker
    assert "5 figure(s) created" in result.summary()
    assert json.loads(json.dumps(result.to_dict()))["created"] == result.created


def test_since_writes_the_history(server, ledger, tmp_path):
    result = update_figures(ledger, _client(server, tmp_path / "cache"), ["tesla"], since=date(2022, 1, 1))
    assert "tesla-cash-2022-03-31-sec" in result.created and "tesla-revenue-2022-03-31-q-sec" in result.created
    assert len(result.created) > 5
    Ledger.read(ledger)


def test_a_dry_run_writes_nothing(server, ledger, tmp_path):
    before = _bytes(ledger)
    result = update_figures(ledger, _client(server, tmp_path / "cache"), ["tesla"], dry_run=True)
    assert len(result.created) == 5 and result.dry_run and "would be created" in result.summary()
    assert _bytes(ledger) == before


def test_the_bundled_dataset_is_refused_before_any_request(server, tmp_path):
    client = _client(server, tmp_path / "cache")
    with pytest.raises(ReadOnly, match="bundled dataset is read-only"):
        update_figures(None, client)
    assert server.log == []


def test_unknown_parties_and_parties_without_a_ticker(server, ledger, tmp_path):
    client = _client(server, tmp_path / "cache")
    with pytest.raises(UnknownParty, match="'nobody'"):
        update_figures(ledger, client, ["tesla", "nobody"])
    result = update_figures(ledger, client, ["openai"])
    assert [(s.party, s.reason) for s in result.skipped] == [("openai", "no ticker")]
    assert server.log == []


def test_offline_update_from_the_cache(server, ledger, tmp_path):
    with pytest.raises(NotCached):
        update_figures(ledger, EdgarClient(None, cache_dir=tmp_path / "cache", offline=True), ["tesla"])
    _client(server, tmp_path / "cache").company_facts(TESLA)
    _client(server, tmp_path / "cache").tickers()
    count = len(server.log)
    result = update_figures(ledger, EdgarClient(None, cache_dir=tmp_path / "cache", offline=True), ["tesla"])
    assert len(result.created) == 5 and len(server.log) == count


def test_the_command_line_updates_from_the_cache_and_refuses_the_bundled_dataset(server, ledger, tmp_path):
    from typer.testing import CliRunner

    from loopscope.cli import app

    runner = CliRunner()
    cache = tmp_path / "cache"
    _client(server, cache).company_facts(TESLA)
    _client(server, cache).tickers()
    run = runner.invoke(app, ["figures", "update", str(ledger), "--party", "tesla", "--offline", "--cache", str(cache)])
    assert run.exit_code == 0, run.output
    assert "5 figure(s) created" in run.output
    assert "tesla-cash-2022-09-30-sec" in {f.id for f in Ledger.read(ledger).figures}
    again = runner.invoke(app, ["figures", "update", str(ledger), "-p", "tesla", "--offline", "--cache", str(cache), "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["unchanged"] and not json.loads(again.output)["created"]
    refused = runner.invoke(app, ["figures", "update", "--offline", "--cache", str(cache)])
    assert refused.exit_code == 1 and "read-only" in refused.output
    nameless = runner.invoke(app, ["figures", "update", str(ledger), "-p", "tesla", "--cache", str(tmp_path / "empty")])
    assert nameless.exit_code == 1 and "User-Agent" in nameless.output


def test_a_failure_while_fetching_writes_nothing(server, ledger, tmp_path):
    """Everything is fetched before anything is written: an error on the second company leaves the ledger as it was."""
    editor = LedgerEditor(ledger)
    editor.create("parties", {"id": "tesla-two", "name": "Tesla again", "kind": "company", "ticker": "ORCL"}, "test")
    before = _bytes(ledger)
    server.queue("/api/xbrl/companyfacts/CIK0001341439.json", 403)
    with pytest.raises(edgar.AccessDenied):
        update_figures(ledger, _client(server, tmp_path / "cache", retries=0), ["tesla", "tesla-two"])
    assert _bytes(ledger) == before
