"""Reported figures from SEC EDGAR's XBRL company facts, written into a YAML ledger with the filing as source.

API used
--------
* ``https://www.sec.gov/files/company_tickers.json``: every ticker the SEC knows, with its CIK
  (Central Index Key) and company name; :meth:`EdgarClient.cik_for` looks tickers up in it.
* ``https://data.sec.gov/api/xbrl/companyfacts/CIK##########.json``: every XBRL fact a company has
  filed, per taxonomy (``us-gaap``, ``dei``) and concept, per unit, each with ``val``, ``end``
  (and ``start`` for durations), ``accn`` (accession number of the filing), ``form`` and ``filed``.
  :meth:`EdgarClient.company_facts` fetches it; :func:`extract_figures` turns it into figure records.

The SEC's fair-access rules (https://www.sec.gov/os/accessing-edgar-data)
-------------------------------------------------------------------------
* Every request must carry a User-Agent that names who makes it, like ``Jane Doe jane@example.com``.
  There is no default here: the client takes it from its ``user_agent`` argument (the CLI's
  ``--user-agent``) or the environment variable ``LOOPSCOPE_SEC_USER_AGENT`` and refuses one without
  an e-mail address before any request.  The SEC answers requests without a proper one with HTTP 403.
* At most 10 requests per second: :class:`RateLimiter` spaces requests at least 0.1 s apart (its
  clock and sleep can be injected for tests).  HTTP 429 ("too many requests") and 5xx answers are
  retried a few times, after the ``Retry-After`` the SEC gives (else 1, 2, 4 s).
* Responses are cached on disk (``$XDG_CACHE_HOME/loopscope/edgar``, else ``~/.cache/loopscope/edgar``):
  the body as received (decompressed) plus a ``.meta.json`` with the URL and the time it was fetched;
  an entry younger than ``max_age`` is used without asking the SEC again.  ``offline=True`` never
  touches the network: it uses the cache, however old, and says what is missing otherwise.

Only the standard library talks HTTP (:mod:`urllib.request`, with a timeout and gzip support).

Mapping (concept → ledger metric)
---------------------------------
=====================  ========================================================================
metric                 concepts, in order of preference
=====================  ========================================================================
``revenue`` (flow)     ``us-gaap:Revenues``, else ``us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax``
                       for the same period (``Revenues`` is the total; the ASC 606 concept can
                       leave out revenue outside ASC 606, e.g. leases).  Only fiscal years
                       (350-380 days, ids ``...-fy-sec``) and quarters (80-100 days, ``...-q-sec``)
                       are taken; the six- and nine-month year-to-date sums of 10-Qs are not.
``rpo``                ``us-gaap:RevenueRemainingPerformanceObligation`` (at ``end``)
``cash``               ``us-gaap:CashAndCashEquivalentsAtCarryingValue``
``debt``               1. ``us-gaap:LongTermDebt`` (long-term debt including its current maturities);
                       2. ``us-gaap:LongTermDebtNoncurrent`` + ``us-gaap:LongTermDebtCurrent``, when
                       both are reported for the date; 3. ``us-gaap:DebtLongtermAndShorttermCombinedAmount``.
                       The first source that has a value for a date is used.  None of them includes
                       finance (capital) leases; 1 and 2 leave out short-term borrowings.
``shares_outstanding`` ``dei:EntityCommonStockSharesOutstanding`` (unit ``shares``, dated at the cover
                       date, not the balance-sheet date).  Several values in one filing for one date
                       are the share classes (company facts drops the class) and are summed.
``commitments``        ``us-gaap:UnrecordedUnconditionalPurchaseObligationBalanceSheetAmount``
                       (purchase obligations not on the balance sheet: what the company committed to buy)
``customer_share``     ``us-gaap:ConcentrationRiskPercentage1`` is looked at but never written:
                       company facts carries no XBRL dimensions, so neither the customer nor the
                       benchmark (revenue, receivables) of a percentage can be identified.  The
                       result says so; such shares are added by hand from the filing.
=====================  ========================================================================

Money is taken in any ISO currency the facts use (USD preferred), as full units (``19532000000``,
written ``19.532e9`` like the rest of the ledger).  Only periodic reports (10-K, 10-Q, 20-F, 40-F,
their transition forms and amendments) and registration statements (S-1, F-1) count.

Which facts (caveats)
---------------------
* The same value is repeated by later filings (a 10-Q repeats the last balance sheet, a 10-K/A the
  10-K).  For each concept and period the figure takes the value of the latest filing (a restatement
  or revision wins) and, as its source, the *earliest* filing that reported that value, so repeats
  in later filings change nothing.  Amendments (10-K/A) count as filings like any other.
* A filing that reports two different values for one period of a non-share concept is ambiguous
  (company facts has dropped what told them apart); that period is skipped and reported.
* ``latest_only`` (the default) writes only the latest date per metric (for revenue the latest fiscal
  year and the latest quarter); ``since`` writes every period ending on or after a date.

Figures get deterministic ids, ``<party>-<metric>-<end>-sec`` (revenue: ``<party>-revenue-<end>-fy-sec``
/ ``-q-sec``), kind ``exact``, and one source: the filing index
``https://www.sec.gov/Archives/edgar/data/<cik>/<accession without dashes>/``, publisher
"U.S. Securities and Exchange Commission (EDGAR)", title like "Tesla, Inc. 10-Q filed 2022-10-24
(XBRL: us-gaap:CashAndCashEquivalentsAtCarryingValue)" and the filing date.

:func:`update_figures` writes them through :class:`~loopscope.ledger.editor.LedgerEditor` (validated,
spliced into the YAML in place, logged): new ids are created (in the file the editor picks: beside
the party's other figures, else the file with most figures), existing ``-sec`` figures are updated
only when the value, unit, date/period or source changed, and figures with other ids (hand-made)
are never touched.  Running it twice on the same data changes nothing.
"""

from __future__ import annotations

import gzip
import http.client
import json
import math
import os
import re
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from ..ledger.model import Figure, Party
from ..ledger.vocabulary import CURRENCIES

DEFAULT_DATA_URL = "https://data.sec.gov"
DEFAULT_WWW_URL = "https://www.sec.gov"
#: The filing index a figure cites (always the real SEC address, whatever server was asked).
ARCHIVES_URL = "https://www.sec.gov/Archives/edgar/data"
PUBLISHER = "U.S. Securities and Exchange Commission (EDGAR)"
USER_AGENT_ENV = "LOOPSCOPE_SEC_USER_AGENT"
FAIR_ACCESS_URL = "https://www.sec.gov/os/accessing-edgar-data"
#: The SEC's limit: at most this many requests per second.
MAX_REQUESTS_PER_SECOND = 10.0
DEFAULT_MAX_AGE = timedelta(hours=24)
DEFAULT_REASON = "SEC EDGAR XBRL company facts (loopscope figures update)"

ANNUAL_FORMS = frozenset({"10-K", "10-K/A", "10-KT", "10-KT/A", "20-F", "20-F/A", "40-F", "40-F/A"})
QUARTERLY_FORMS = frozenset({"10-Q", "10-Q/A", "10-QT", "10-QT/A"})
REGISTRATION_FORMS = frozenset({"S-1", "S-1/A", "F-1", "F-1/A"})
FORMS = ANNUAL_FORMS | QUARTERLY_FORMS | REGISTRATION_FORMS

#: Days (end - start + 1) of a fiscal year (52/53 weeks or a calendar year) and of a quarter (13/14 weeks).
YEAR_DAYS = (350, 380)
QUARTER_DAYS = (80, 100)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------


class EdgarError(Exception):
    """Something the SEC, the network or the cache did not give; the message says what to do."""


class UserAgentError(EdgarError):
    """No User-Agent, or one without an e-mail address."""


class NotCached(EdgarError):
    """Offline, and the cache does not hold what is needed."""


class NetworkError(EdgarError):
    """The SEC could not be reached (DNS, connection, timeout)."""


class EdgarHTTPError(EdgarError):
    """The SEC answered with an HTTP error."""

    def __init__(self, message: str, status: int, url: str):
        super().__init__(message)
        self.status = status
        self.url = url


class AccessDenied(EdgarHTTPError):
    """HTTP 403: the SEC refuses requests without a proper User-Agent (or from clients that exceeded the limit)."""


class NotFound(EdgarHTTPError):
    """HTTP 404: e.g. a CIK with no XBRL company facts."""


class RateLimited(EdgarHTTPError):
    """HTTP 429 (or 5xx) that persisted through the retries."""


class UnknownTicker(EdgarError):
    """A ticker that is not in the SEC's list."""


class UnknownParty(EdgarError):
    """A party id that is not in the ledger."""


# ---------------------------------------------------------------------------------------------
# user agent, rate limit, cache folder
# ---------------------------------------------------------------------------------------------


def resolve_user_agent(value: str | None = None, environ: dict[str, str] | None = None) -> str:
    """The User-Agent to send: ``value``, else ``$LOOPSCOPE_SEC_USER_AGENT``; it must contain an e-mail address."""
    environ = os.environ if environ is None else environ
    text = (value if value is not None else environ.get(USER_AGENT_ENV, "")).strip()
    if not text:
        raise UserAgentError(
            "the SEC requires every automated request to say who makes it: give a User-Agent with your name "
            f"and e-mail address, e.g. --user-agent \"Jane Doe jane.doe@example.com\" or {USER_AGENT_ENV}="
            f"\"Jane Doe jane.doe@example.com\" (see {FAIR_ACCESS_URL})")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise UserAgentError(f"the User-Agent {text!r} contains control characters (line breaks, tabs)")
    if not _EMAIL.search(text):
        raise UserAgentError(
            f"the User-Agent {text!r} contains no e-mail address; the SEC wants \"Name email@domain\", "
            f"e.g. \"Jane Doe jane.doe@example.com\", and refuses requests without one (see {FAIR_ACCESS_URL})")
    return text


def default_cache_dir(environ: dict[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/loopscope/edgar``, else ``~/.cache/loopscope/edgar``."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "loopscope" / "edgar"


class RateLimiter:
    """Spaces calls to :meth:`wait` at least ``1 / rate`` seconds apart (thread-safe).

    ``clock`` is a monotonic clock in seconds and ``sleep`` sleeps; both can be fakes in tests.
    """

    def __init__(self, rate: float = MAX_REQUESTS_PER_SECOND, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if rate <= 0:
            raise ValueError("the rate must be positive")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            if self._next is not None and now < self._next:
                self._sleep(self._next - now)
                now = max(self._clock(), self._next)
            self._next = now + self.interval


def _seconds(value: timedelta | float | int | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


# ---------------------------------------------------------------------------------------------
# the client
# ---------------------------------------------------------------------------------------------


class EdgarClient:
    """Fetches the SEC's ticker list and company facts, politely, through a disk cache.

    ``user_agent``: "Name email@domain" (None: ``$LOOPSCOPE_SEC_USER_AGENT``); required unless
    ``offline``.  ``cache_dir``: None for :func:`default_cache_dir`.  ``max_age``: how old a cached
    response may be before it is fetched again (a timedelta or seconds; None: never; 0: always).
    ``base_data_url`` / ``base_www_url``: where ``data.sec.gov`` and ``www.sec.gov`` are (tests point
    them at a local server).  ``clock``/``sleep`` drive the rate limiter and the retry waits,
    ``now`` the cache's fetch times.  ``requested`` lists every URL asked over the network.
    """

    def __init__(self, user_agent: str | None = None, cache_dir: Path | str | None = None, offline: bool = False,
                 max_age: timedelta | float | None = DEFAULT_MAX_AGE, base_data_url: str = DEFAULT_DATA_URL,
                 base_www_url: str = DEFAULT_WWW_URL, timeout: float = 30.0, retries: int = 3,
                 max_retry_wait: float = 60.0, rate: float = MAX_REQUESTS_PER_SECOND,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 environ: dict[str, str] | None = None):
        self.offline = offline
        if offline and user_agent is None and not (environ if environ is not None else os.environ).get(USER_AGENT_ENV):
            self.user_agent: str | None = None  # never sent: offline asks nobody
        else:
            self.user_agent = resolve_user_agent(user_agent, environ)
        if rate > MAX_REQUESTS_PER_SECOND:
            raise ValueError(f"the SEC allows at most {MAX_REQUESTS_PER_SECOND:g} requests per second")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir(environ)
        self.max_age = _seconds(max_age)
        self.base_data_url = base_data_url.rstrip("/")
        self.base_www_url = base_www_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._now = now
        self.limiter = RateLimiter(rate, clock, sleep)
        self.requested: list[str] = []
        self._tickers: dict[str, tuple[int, str]] | None = None
        self._opener = urllib.request.build_opener()

    # ------------------------------------------------------------------ public
    def tickers(self) -> dict[str, tuple[int, str]]:
        """Ticker (upper case) → (CIK, company name), from the SEC's ``company_tickers.json``."""
        if self._tickers is None:
            data = self._get_json(f"{self.base_www_url}/files/company_tickers.json", "company_tickers.json",
                                  "the SEC's list of tickers (company_tickers.json)")
            rows = data.values() if isinstance(data, dict) else data
            tickers: dict[str, tuple[int, str]] = {}
            for row in rows:
                try:
                    tickers.setdefault(str(row["ticker"]).upper(), (int(row["cik_str"]), str(row.get("title", ""))))
                except (KeyError, TypeError, ValueError):
                    continue
            if not tickers:
                raise EdgarError("the SEC's list of tickers (company_tickers.json) holds no tickers")
            self._tickers = tickers
        return self._tickers

    def cik_for(self, ticker: str) -> int:
        """The CIK of a ticker (``BRK.B`` is also tried as ``BRK-B``, the SEC's spelling)."""
        key = ticker.strip().upper()
        tickers = self.tickers()
        for candidate in (key, key.replace(".", "-"), key.replace("-", ".")):
            if candidate in tickers:
                return tickers[candidate][0]
        raise UnknownTicker(
            f"ticker {ticker!r} is not in the SEC's list of tickers (company_tickers.json): the company probably does "
            "not file reports with the SEC (companies listed only outside the US, such as a Tokyo listing like "
            "'9984.T', file no 10-K or 10-Q and have no XBRL company facts), or the SEC spells the ticker otherwise")

    def company_facts(self, cik: int | str) -> dict:
        """The XBRL company facts of a CIK (as the SEC sends them)."""
        number = int(cik)
        name = f"CIK{number:010d}.json"
        return self._get_json(f"{self.base_data_url}/api/xbrl/companyfacts/{name}", f"companyfacts/{name}",
                              f"the company facts of CIK {number:010d}")

    # ------------------------------------------------------------------ cache
    def _cache_paths(self, key: str) -> tuple[Path, Path]:
        body = self.cache_dir / key
        return body, body.with_name(body.name + ".meta.json")

    def _read_cache(self, key: str) -> tuple[bytes, datetime | None] | None:
        body_path, meta_path = self._cache_paths(key)
        try:
            body = body_path.read_bytes()
        except OSError:
            return None
        fetched = None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            fetched = datetime.fromisoformat(meta["fetched"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return body, fetched

    def _write_cache(self, key: str, url: str, body: bytes) -> None:
        body_path, meta_path = self._cache_paths(key)
        body_path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"url": url, "fetched": self._now().astimezone(timezone.utc).isoformat(timespec="seconds")}
        for path, data in ((body_path, body), (meta_path, (json.dumps(meta) + "\n").encode("utf-8"))):
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            temporary.write_bytes(data)
            os.replace(temporary, path)

    def _fresh(self, fetched: datetime | None) -> bool:
        if self.max_age is None:
            return True
        if fetched is None:
            return False
        if fetched.tzinfo is None:
            fetched = fetched.replace(tzinfo=timezone.utc)
        return (self._now() - fetched).total_seconds() < self.max_age

    def _get_json(self, url: str, key: str, what: str) -> Any:
        cached = self._read_cache(key)
        if self.offline:
            if cached is None:
                raise NotCached(f"offline: {what} is not in the cache ({self._cache_paths(key)[0]}); "
                                "run once without offline mode (--offline) to fetch it")
            body = cached[0]
        elif cached is not None and self._fresh(cached[1]):
            body = cached[0]
        else:
            body = self._fetch(url)
            _parse_json(body, url)  # never cache something that is not JSON
            self._write_cache(key, url, body)
        return _parse_json(body, url)

    # ------------------------------------------------------------------ HTTP
    def _fetch(self, url: str) -> bytes:
        assert self.user_agent is not None  # offline clients never get here
        attempt = 0
        while True:
            self.limiter.wait()
            request = urllib.request.Request(url, headers={
                "User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate", "Accept": "application/json"})
            self.requested.append(url)
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    raw = response.read()
                    encoding = response.headers.get("Content-Encoding", "")
                return _decode(raw, encoding, url)
            except urllib.error.HTTPError as exc:
                status, retry_after = exc.code, exc.headers.get("Retry-After") if exc.headers else None
                exc.close()
                if status == 429 or status in (500, 502, 503, 504):
                    delay = _retry_delay(retry_after, attempt, self._now())
                    if attempt < self.retries and delay <= self.max_retry_wait:
                        self._sleep(delay)
                        attempt += 1
                        continue
                    what = "too many requests (HTTP 429)" if status == 429 else f"a server error (HTTP {status})"
                    raise RateLimited(f"the SEC answered {url} with {what} {attempt + 1} time(s)"
                                      f"{f'; it asks to wait {delay:g} s' if retry_after else ''}; try again later",
                                      status, url) from None
                if status == 403:
                    raise AccessDenied(
                        f"the SEC refused {url} (HTTP 403). It refuses requests whose User-Agent does not name a person "
                        "or organisation with an e-mail address (\"Name email@domain\"), and blocks clients that made "
                        f"more than {MAX_REQUESTS_PER_SECOND:g} requests per second for about ten minutes. The User-Agent "
                        f"sent was {self.user_agent!r}; see {FAIR_ACCESS_URL}", status, url) from None
                if status == 404:
                    raise NotFound(f"the SEC has nothing at {url} (HTTP 404)", status, url) from None
                raise EdgarHTTPError(f"the SEC answered {url} with HTTP {status}", status, url) from None
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                reason = getattr(exc, "reason", None) or exc
                raise NetworkError(f"could not reach the SEC at {url}: {reason} (check the connection, or use the "
                                   "cache with --offline)") from None


def _decode(raw: bytes, encoding: str, url: str) -> bytes:
    encoding = encoding.strip().lower()
    try:
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(raw)
        if encoding == "deflate":
            try:
                return zlib.decompress(raw)
            except zlib.error:
                return zlib.decompress(raw, -zlib.MAX_WBITS)
    except (OSError, EOFError, zlib.error) as exc:
        raise NetworkError(f"the answer from {url} is not valid {encoding} ({exc})") from None
    return raw


def _parse_json(body: bytes, url: str) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        start = body[:80].decode("utf-8", "replace").strip()
        raise EdgarError(f"the answer from {url} is not JSON (it begins {start!r})") from None


def _retry_delay(retry_after: str | None, attempt: int, now: datetime) -> float:
    """Seconds to wait before a retry: the server's ``Retry-After`` (seconds or a date), else 1, 2, 4..."""
    if retry_after:
        text = retry_after.strip()
        if text.isdigit():
            return float(text)
        try:
            when = parsedate_to_datetime(text)
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            return max(0.0, (when - now).total_seconds())
        except (TypeError, ValueError, IndexError):
            pass
    return float(2 ** attempt)


# ---------------------------------------------------------------------------------------------
# facts → figures
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One value of one concept as one filing reports it."""

    taxonomy: str
    concept: str
    unit: str
    start: date | None
    end: date
    value: float
    accn: str
    form: str
    filed: date


@dataclass(frozen=True)
class Reported:
    """The value of a concept for one period, after the repeats in later filings are folded away.

    ``source`` is the earliest filing that reported the final value; ``earlier`` the different value
    an earlier filing gave (a revision), if any; ``parts`` how many values the source filing summed
    (share classes)."""

    taxonomy: str
    concept: str
    unit: str
    start: date | None
    end: date
    value: float
    source: Fact
    filings: int
    earlier: float | None = None
    parts: int = 1
    last: tuple[date, str] | None = None  # (filed, accession) of the latest filing that reported it


@dataclass(frozen=True)
class Skip:
    """Something not written, and why (``metric`` None: the whole party)."""

    party: str
    metric: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.party}{f' {self.metric}' if self.metric else ''}: {self.reason}"


@dataclass
class Extraction:
    """Figure records from one company's facts, and what could not be taken."""

    figures: list[dict] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _facts(company: dict, taxonomy: str, concept: str, units: Callable[[str], bool]) -> list[Fact]:
    """The usable facts of a concept: known form, parseable dates, a number, a unit ``units`` accepts."""
    node = ((company.get("facts") or {}).get(taxonomy) or {}).get(concept) or {}
    out = []
    for unit, rows in (node.get("units") or {}).items():
        if not units(unit) or not isinstance(rows, list):
            continue
        for row in rows:
            if not isinstance(row, dict) or not isinstance(row.get("form"), str) or row["form"] not in FORMS:
                continue
            end, filed, value = _day(row.get("end")), _day(row.get("filed")), row.get("val")
            start = _day(row.get("start")) if row.get("start") is not None else None
            if end is None or filed is None or isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                continue
            if row.get("start") is not None and start is None:
                continue
            accn = row.get("accn")
            if not isinstance(accn, str) or not re.fullmatch(r"\d{10}-\d{2}-\d{6}", accn):
                continue
            out.append(Fact(taxonomy, concept, unit, start, end, float(value), accn, row["form"], filed))
    return out


def _money(unit: str) -> bool:
    return unit in CURRENCIES


def _shares(unit: str) -> bool:
    return unit == "shares"


def _fold(facts: list[Fact], sum_parts: bool) -> tuple[list[Reported], list[str]]:
    """One :class:`Reported` per (unit, start, end); problems as text.

    Per filing: one value, or (``sum_parts``) the sum of its values, or else an ambiguity.  Across
    filings (by filing date): the latest filing's value; as source the earliest filing of the last run
    of filings that agree on it."""
    groups: dict[tuple, dict[str, list[Fact]]] = {}
    for fact in facts:
        groups.setdefault((fact.unit, fact.start, fact.end), {}).setdefault(fact.accn, []).append(fact)
    out: list[Reported] = []
    problems: list[str] = []
    for (unit, start, end), filings in groups.items():
        per_filing: list[tuple[Fact, float, int]] = []
        ambiguous = None
        for accn, found in filings.items():
            values = [f.value for f in found]
            if len(set(values)) > 1 and not sum_parts:
                ambiguous = f"{found[0].form} {accn} reports {len(set(values))} different values for " \
                            f"{_span(start, end)}; company facts does not say which is which"
                break
            total = sum(values) if sum_parts else values[0]
            per_filing.append((found[0], total, len(values) if sum_parts else 1))
        if ambiguous:
            problems.append(ambiguous)
            continue
        per_filing.sort(key=lambda item: (item[0].filed, item[0].accn))
        final = per_filing[-1][1]
        first = len(per_filing) - 1
        while first > 0 and per_filing[first - 1][1] == final:
            first -= 1
        earlier = per_filing[first - 1][1] if first > 0 else None
        fact, value, parts = per_filing[first]
        latest = per_filing[-1][0]
        out.append(Reported(fact.taxonomy, fact.concept, unit, start, end, value, fact, len(per_filing), earlier, parts,
                            (latest.filed, latest.accn)))
    return out, problems


def _span(start: date | None, end: date) -> str:
    return f"{start}..{end}" if start else str(end)


def _prefer_unit(items: list[Reported]) -> list[Reported]:
    """Per period, USD if reported in several currencies."""
    best: dict[tuple, Reported] = {}
    for item in items:
        key = (item.start, item.end)
        if key not in best or (item.unit == "USD" and best[key].unit != "USD"):
            best[key] = item
    return list(best.values())


@dataclass(frozen=True)
class _Candidate:
    """A figure to be: the reported value(s) behind it and its period."""

    metric: str
    start: date | None
    end: date
    value: float
    unit: str
    parts: tuple[Reported, ...]
    variant: str | None = None  # revenue: "fy" or "q"


def _stock(company: dict, metric: str, taxonomy: str, concept: str, problems: list[str],
           units: Callable[[str], bool] = _money) -> list[_Candidate]:
    found, trouble = _fold([f for f in _facts(company, taxonomy, concept, units) if f.start is None],
                           sum_parts=units is _shares)
    problems.extend(trouble)
    return [_Candidate(metric, None, r.end, r.value, r.unit, (r,)) for r in _prefer_unit(found)]


def _revenue(company: dict, problems: list[str]) -> list[_Candidate]:
    by_period: dict[tuple[date, date], Reported] = {}
    for concept in ("RevenueFromContractWithCustomerExcludingAssessedTax", "Revenues"):  # later wins
        facts = [f for f in _facts(company, "us-gaap", concept, _money) if f.start is not None]
        found, trouble = _fold(facts, sum_parts=False)
        problems.extend(trouble)
        for item in _prefer_unit(found):
            by_period[(item.start, item.end)] = item  # type: ignore[index]
    out = []
    for (start, end), item in by_period.items():
        days = (end - start).days + 1
        variant = "fy" if YEAR_DAYS[0] <= days <= YEAR_DAYS[1] else "q" if QUARTER_DAYS[0] <= days <= QUARTER_DAYS[1] else None
        if variant:
            out.append(_Candidate("revenue", start, end, item.value, item.unit, (item,), variant))
    return out


def _debt(company: dict, problems: list[str]) -> list[_Candidate]:
    def reported(concept: str) -> dict[date, Reported]:
        found, trouble = _fold([f for f in _facts(company, "us-gaap", concept, _money) if f.start is None], False)
        problems.extend(trouble)
        return {r.end: r for r in _prefer_unit(found)}

    total = reported("LongTermDebt")
    noncurrent, current = reported("LongTermDebtNoncurrent"), reported("LongTermDebtCurrent")
    combined = reported("DebtLongtermAndShorttermCombinedAmount")
    out = []
    for end in sorted(set(total) | (set(noncurrent) & set(current)) | set(combined)):
        if end in total:
            item = total[end]
            out.append(_Candidate("debt", None, end, item.value, item.unit, (item,)))
        elif end in noncurrent and end in current and noncurrent[end].unit == current[end].unit:
            a, b = noncurrent[end], current[end]
            out.append(_Candidate("debt", None, end, a.value + b.value, a.unit, (a, b)))
        elif end in combined:
            item = combined[end]
            out.append(_Candidate("debt", None, end, item.value, item.unit, (item,)))
    return out


#: The concepts looked at, per metric (for messages; see the module docstring for the rules).
CONCEPTS: dict[str, tuple[str, ...]] = {
    "revenue": ("us-gaap:Revenues", "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax"),
    "rpo": ("us-gaap:RevenueRemainingPerformanceObligation",),
    "cash": ("us-gaap:CashAndCashEquivalentsAtCarryingValue",),
    "debt": ("us-gaap:LongTermDebt", "us-gaap:LongTermDebtNoncurrent + us-gaap:LongTermDebtCurrent",
             "us-gaap:DebtLongtermAndShorttermCombinedAmount"),
    "shares_outstanding": ("dei:EntityCommonStockSharesOutstanding",),
    "commitments": ("us-gaap:UnrecordedUnconditionalPurchaseObligationBalanceSheetAmount",),
    "customer_share": ("us-gaap:ConcentrationRiskPercentage1",),
}

_NOTES = {
    "revenue": "total revenue",
    "rpo": "remaining performance obligations",
    "cash": "cash and cash equivalents (without short-term investments or restricted cash)",
    "debt": "long-term debt including current maturities, after discounts and issuance costs; without finance "
            "leases and short-term borrowings",
    "shares_outstanding": "common shares outstanding as stated on the cover of the filing, at the cover date",
    "commitments": "unrecorded unconditional purchase obligations (commitments to buy that are not on the balance sheet)",
}


def _reported_last(candidate: _Candidate) -> tuple:
    return max(p.last or (p.source.filed, p.source.accn) for p in candidate.parts)


def _party_id(party: str | Party) -> str:
    return party.id if isinstance(party, Party) else party


def _money_text(value: float, unit: str) -> str:
    number = f"{int(value):,}" if float(value).is_integer() else f"{value:,}"
    return f"{number} {unit}"


def figure_id(party: str, metric: str, end: date, variant: str | None = None) -> str:
    """The deterministic id of an EDGAR figure (``-sec`` marks ids this module owns)."""
    return f"{party}-{metric.replace('_', '-')}-{end.isoformat()}{f'-{variant}' if variant else ''}-sec"


def filing_url(cik: int | str, accn: str) -> str:
    """The index page of a filing: ``https://www.sec.gov/Archives/edgar/data/<cik>/<accession without dashes>/``."""
    return f"{ARCHIVES_URL}/{int(cik)}/{accn.replace('-', '')}/"


def _record(party: str, cik: int, company_name: str, candidate: _Candidate) -> dict:
    parts = candidate.parts
    source = max((p.source for p in parts), key=lambda f: (f.filed, f.accn))
    concepts = " + ".join(f"{p.taxonomy}:{p.concept}" for p in parts)
    if candidate.metric == "revenue":
        label = f"{'fiscal year' if candidate.variant == 'fy' else 'quarter'} ended {candidate.end.isoformat()}"
    else:
        label = f"as of {candidate.end.isoformat()}"
    notes = [f"Reported in SEC filings (XBRL company facts, {concepts}): {_NOTES[candidate.metric]}."]
    for part in parts:
        detail = f"{part.concept}: {_money_text(part.value, part.unit)} first reported in {part.source.form} " \
                 f"{part.source.accn} filed {part.source.filed.isoformat()}"
        if part.parts > 1:
            detail += f"; the sum of {part.parts} values the filing reports for the date (one per share class)"
        if part.earlier is not None:
            detail += f"; revised from {_money_text(part.earlier, part.unit)} in an earlier filing"
        notes.append(detail + ".")
    notes.append("Written by loopscope figures update; the id ending in -sec marks it as fetched, so a later run "
                 "replaces it when the filings change.")
    record: dict[str, Any] = {
        "id": figure_id(party, candidate.metric, candidate.end, candidate.variant),
        "party": party,
        "metric": candidate.metric,
        "value": candidate.value,
        "unit": candidate.unit,
        "kind": "exact",
    }
    if candidate.start is not None:
        record["period"] = {"start": candidate.start, "end": candidate.end}
    else:
        record["date"] = candidate.end
    record["label"] = label
    record["notes"] = " ".join(notes)
    record["sources"] = [{
        "url": filing_url(cik, source.accn),
        "publisher": PUBLISHER,
        "title": f"{company_name} {source.form} filed {source.filed.isoformat()} (XBRL: {concepts})",
        "date": source.filed,
    }]
    return record


def extract_figures(party: str | Party, facts: dict, cik: int | str | None = None, *, latest_only: bool = True,
                    since: date | None = None) -> Extraction:
    """Figure records (plain dicts, valid :class:`~loopscope.ledger.model.Figure` input) from one company's facts.

    ``latest_only``: the latest date per metric (revenue: the latest fiscal year and the latest
    quarter).  ``since``: instead, every period ending on or after that date (``latest_only`` is then
    ignored); ``latest_only=False`` without ``since``: the whole history.  ``cik`` defaults to the
    facts' own.  Metrics without facts, and what could not be used, are in ``skipped``."""
    party_id = _party_id(party)
    if not isinstance(facts, dict) or not isinstance(facts.get("facts"), dict):
        return Extraction([], [Skip(party_id, None, "the company facts hold no facts")])
    try:
        number = int(cik if cik is not None else facts.get("cik"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise EdgarError(f"no CIK for {party_id}'s company facts") from None
    name = str(facts.get("entityName") or f"CIK {number:010d}")
    result = Extraction()
    problems: dict[str, list[str]] = {}

    def collect(metric: str, candidates: list[_Candidate]) -> None:
        # one figure per id: two periods of one kind ending on the same day (a 52/53-week year restated
        # with another start) → the one reported last
        best: dict[tuple, _Candidate] = {}
        for candidate in candidates:
            key = (candidate.end, candidate.variant)
            if key not in best or _reported_last(candidate) > _reported_last(best[key]):
                best[key] = candidate
        candidates = list(best.values())
        for problem in problems.get(metric, []):
            result.skipped.append(Skip(party_id, metric, problem))
        if not candidates:
            if not problems.get(metric):
                result.skipped.append(Skip(party_id, metric, f"no facts for {' / '.join(CONCEPTS[metric])} "
                                                             "in a 10-K, 10-Q or similar report"))
            return
        if since is not None:
            chosen = [c for c in candidates if c.end >= since]
            if not chosen:
                latest = max(c.end for c in candidates)
                result.skipped.append(Skip(party_id, metric, f"nothing since {since} (the latest is {latest})"))
        elif latest_only:
            chosen = []
            for variant in sorted({c.variant or "" for c in candidates}):
                same = [c for c in candidates if (c.variant or "") == variant]
                chosen.append(max(same, key=lambda c: c.end))
        else:
            chosen = list(candidates)
        for candidate in sorted(chosen, key=lambda c: (c.end, c.variant or "")):
            result.figures.append(_record(party_id, number, name, candidate))

    for metric, build in (
        ("revenue", lambda p: _revenue(facts, p)),
        ("rpo", lambda p: _stock(facts, "rpo", "us-gaap", "RevenueRemainingPerformanceObligation", p)),
        ("cash", lambda p: _stock(facts, "cash", "us-gaap", "CashAndCashEquivalentsAtCarryingValue", p)),
        ("debt", lambda p: _debt(facts, p)),
        ("shares_outstanding", lambda p: _stock(facts, "shares_outstanding", "dei", "EntityCommonStockSharesOutstanding",
                                                p, _shares)),
        ("commitments", lambda p: _stock(facts, "commitments", "us-gaap",
                                         "UnrecordedUnconditionalPurchaseObligationBalanceSheetAmount", p)),
    ):
        found: list[str] = []
        candidates = build(found)
        problems[metric] = found
        collect(metric, candidates)

    shares = _facts(facts, "us-gaap", "ConcentrationRiskPercentage1", lambda unit: True)
    if shares:
        latest = max(f.end for f in shares)
        reason = (f"us-gaap:ConcentrationRiskPercentage1 has {len(shares)} fact(s) (latest {latest}), but company facts "
                  "carries no XBRL dimensions: neither the customer nor the benchmark (revenue, receivables) can be "
                  "identified; add the share by hand from the filing")
    else:
        reason = "no facts for us-gaap:ConcentrationRiskPercentage1 (customers are usually named only in dimensions, " \
                 "which company facts does not carry)"
    result.skipped.append(Skip(party_id, "customer_share", reason))
    return result


def figures_from_facts(party: str | Party, facts: dict, cik: int | str | None = None, *, latest_only: bool = True,
                       since: date | None = None) -> list[dict]:
    """The figure records of :func:`extract_figures` alone."""
    return extract_figures(party, facts, cik, latest_only=latest_only, since=since).figures


# ---------------------------------------------------------------------------------------------
# writing into a ledger
# ---------------------------------------------------------------------------------------------

#: The fields whose change makes an update (a hand edit of only the label or notes is left alone).
COMPARED = ("party", "metric", "value", "unit", "kind", "low", "high", "date", "period", "counterparty", "of", "sources")


@dataclass
class UpdateResult:
    """What :func:`update_figures` did (or, with ``dry_run``, would do)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    #: (EDGAR figure id, hand-made figure id) of the same party, metric and date
    overlaps: list[tuple[str, str]] = field(default_factory=list)
    #: parties not looked up because they have no ticker (only when no parties were named)
    without_ticker: list[str] = field(default_factory=list)
    #: the editor's change records (empty for a dry run)
    changes: list = field(default_factory=list)
    #: the URLs fetched over the network
    requests: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        """A few lines for people."""
        would = "would be " if self.dry_run else ""
        lines = [f"{len(self.created)} figure(s) {would}created, {len(self.updated)} {would}updated, "
                 f"{len(self.unchanged)} unchanged; {len(self.requests)} request(s) to the SEC"]
        for label, ids in (("created", self.created), ("updated", self.updated)):
            lines.extend(f"  {would}{label}: {ident}" for ident in ids)
        lines.extend(f"  skipped {skip}" for skip in self.skipped)
        lines.extend(f"  note: {sec} covers the same date as the hand-made {hand}" for sec, hand in self.overlaps)
        if self.without_ticker:
            lines.append(f"  {len(self.without_ticker)} parties without a ticker were not looked up")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "skipped": [{"party": s.party, "metric": s.metric, "reason": s.reason} for s in self.skipped],
            "overlaps": [list(pair) for pair in self.overlaps], "without_ticker": self.without_ticker,
            "requests": len(self.requests), "dry_run": self.dry_run,
        }


def _comparable(record: dict) -> dict:
    from ..ledger.records import jsonable, to_record

    canonical = to_record(Figure.model_validate(record))
    return jsonable({key: canonical.get(key) for key in COMPARED})


def update_figures(ledger_path: Path | str | None, client: EdgarClient, parties: Iterable[str] | None = None, *,
                   latest_only: bool = True, since: date | None = None, reason: str = DEFAULT_REASON,
                   file: str | None = None, dry_run: bool = False, editor=None) -> UpdateResult:
    """Fetch the reported figures of the ledger's parties with a ticker and write them into the ledger.

    ``ledger_path``: a YAML ledger file or folder (None, the bundled dataset, is refused: read-only).
    ``parties``: party ids (None: every party with a ticker).  ``latest_only``/``since``: as in
    :func:`extract_figures`.  ``reason``: for the change log.  ``file``: an existing YAML file of the
    folder for new figures (default: the editor's choice).  ``dry_run``: report, write nothing.
    ``editor``: an existing :class:`~loopscope.ledger.editor.LedgerEditor` of the ledger (e.g. the
    dashboard's).  Parties without a ticker, with a ticker the SEC does not know, or without company
    facts (HTTP 404) are skipped with the reason; other errors (403, network, offline and not cached)
    stop the run with an :class:`EdgarError`.  Write refusals are the editor's
    (:class:`~loopscope.ledger.editor.ReadOnly`, ``Invalid``...)."""
    from ..ledger.editor import LedgerEditor, ReadOnly

    editor = editor if editor is not None else LedgerEditor(ledger_path)
    if editor.read_only_reason and not dry_run:
        raise ReadOnly(f"read-only: {editor.read_only_reason}")
    ledger = editor.ledger()
    result = UpdateResult(dry_run=dry_run)
    known = {p.id: p for p in ledger.parties}
    if parties is None:
        chosen = [p for p in ledger.parties if p.ticker]
        result.without_ticker = [p.id for p in ledger.parties if not p.ticker]
    else:
        names = list(dict.fromkeys(parties))
        missing = [name for name in names if name not in known]
        if missing:
            raise UnknownParty(f"no party {', '.join(repr(m) for m in missing)} in the ledger")
        chosen = [known[name] for name in names]
    start = len(client.requested)
    records: list[dict] = []
    for party in chosen:
        if not party.ticker:
            result.skipped.append(Skip(party.id, None, "no ticker"))
            continue
        try:
            cik = client.cik_for(party.ticker)
        except UnknownTicker as exc:
            result.skipped.append(Skip(party.id, None, str(exc)))
            continue
        try:
            facts = client.company_facts(cik)
        except NotFound:
            result.skipped.append(Skip(party.id, None, f"the SEC has no XBRL company facts for {party.ticker} "
                                                      f"(CIK {cik:010d}, HTTP 404)"))
            continue
        extraction = extract_figures(party, facts, cik, latest_only=latest_only, since=since)
        result.skipped.extend(extraction.skipped)
        records.extend(extraction.figures)
    # everything is fetched before anything is written: a network error leaves the ledger as it was
    for record in records:
        _write(editor, record, reason, file, dry_run, result)
    result.requests = client.requested[start:]
    return result


def _write(editor, record: dict, reason: str, file: str | None, dry_run: bool, result: UpdateResult) -> None:
    from ..ledger.editor import NotFound as Missing

    ledger = editor.ledger()
    ident = record["id"]
    new = _comparable(record)
    as_of = new.get("date") or (new.get("period") or {}).get("end")
    for figure in ledger.figures_of(record["party"], record["metric"]):
        if figure.id != ident and not figure.id.endswith("-sec") and figure.as_of.isoformat() == as_of:
            pair = (ident, figure.id)
            if pair not in result.overlaps:
                result.overlaps.append(pair)
    try:
        current, version, _ = editor.record("figures", ident)
    except Missing:
        if not dry_run:
            result.changes.append(editor.create("figures", record, reason, file=file))
        result.created.append(ident)
        return
    if _comparable(current) == new:
        result.unchanged.append(ident)
        return
    if not dry_run:
        result.changes.append(editor.update("figures", ident, record, version, reason))
    result.updated.append(ident)


__all__ = [
    "ARCHIVES_URL", "AccessDenied", "CONCEPTS", "DEFAULT_MAX_AGE", "EdgarClient", "EdgarError", "EdgarHTTPError",
    "Extraction", "Fact", "MAX_REQUESTS_PER_SECOND", "NetworkError", "NotCached", "NotFound", "PUBLISHER",
    "RateLimited", "RateLimiter", "Reported", "Skip", "USER_AGENT_ENV", "UnknownParty", "UnknownTicker",
    "UpdateResult", "UserAgentError", "default_cache_dir", "extract_figures", "figure_id", "figures_from_facts",
    "filing_url", "resolve_user_agent", "update_figures",
]
