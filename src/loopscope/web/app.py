"""The dashboard's server: a JSON API over one ledger, and the static page that uses only that API.

:func:`create_app` builds the FastAPI app; ``loopscope serve`` runs it with uvicorn.  Reads go
through the analyses (results cached per ledger generation); writes go through
:class:`~loopscope.ledger.editor.LedgerEditor` (validated, versioned, atomic, logged).

Safe by default: the CLI binds to 127.0.0.1; the Host header must name an allowed host (against
DNS rebinding); a write whose Origin is another site is refused; there is no CORS; bodies over
``max_body`` bytes get 413; no parameter names a file outside the ledger's folder; the page's
Content-Security-Policy allows only its own scripts, and the page sets every text from the data as
text, never as HTML.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, get_origin
from urllib.parse import urlsplit

from fastapi import Body, Depends, FastAPI, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Match

from ..display import amount as amount_text
from ..ledger.editor import Conflict, EditError, Invalid, LedgerEditor
from ..ledger.records import jsonable
from ..ledger.vocabulary import AMOUNT_KINDS, CLOSED_STATUSES, DEAL_KINDS, METRICS, PARTY_KINDS, STATUSES
from . import schemas as s
from .i18n import labels

DEFAULT_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_BODY = 1_000_000
MAX_CYCLES = 200
STATIC = resources.files(__package__).joinpath("static")
REPORT = resources.files("loopscope.report")

# Lists default to empty, not None: the schema then says "array" (not "array or null"), which a query
# string can express, and a single ?kind=equity is one kind, not a type error.
Kinds = Annotated[list[Literal[tuple(DEAL_KINDS)]], Query(default_factory=list, description="deal kinds (repeat for several)")]
Statuses = Annotated[list[Literal[tuple(STATUSES)]], Query(default_factory=list, description="statuses (repeat for several); default: live deals only")]
Parties = Annotated[list[str], Query(default_factory=list, description="deals of these parties, either side")]
MinAmount = Annotated[float | None, Query(ge=0, le=1e16, description="at least this many US dollars (undisclosed amounts drop out)")]
Search = Annotated[str | None, Query(max_length=200)]
AsOf = Annotated[s.Day | None, Query(description="the ledger as it stood at the end of this day")]

MaxLength = Annotated[int, Query(ge=2, le=8)]

#: style-src admits, besides our stylesheet, only the one rule cytoscape.js injects (by its hash:
#: ".__________cytoscape_container { position: relative; }").
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'sha256-pgvDUBa4IjFA2yuSJ2cqcyxmNYJMborsd0ORcRv9vw8='; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class _Guard:
    """ASGI middleware: body size limit (413), same-site writes (403) and security headers."""

    def __init__(self, app, hosts: set[str], max_body: int):
        self.app = app
        self.hosts = hosts
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _send_json(send, 413, {"detail": f"request body over {self.max_body} bytes"})
            return
        origin = headers.get("origin")
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and origin is not None:
            # same origin: scheme http, and host *and port* as the Host header names them (another
            # local app on another port is another site)
            parts = urlsplit(origin) if origin != "null" else None
            same = (parts is not None and parts.scheme == "http" and parts.netloc.lower() == headers.get("host", "").lower()
                    and (parts.hostname in self.hosts or f"[{parts.hostname}]" in self.hosts))
            if not same:
                await _send_json(send, 403, {"detail": "cross-site request refused"})
                return
        seen = 0
        too_big = False

        async def limited_receive():
            nonlocal seen, too_big
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    too_big = True
                    raise _TooBig(self.max_body)
            return message

        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                         (b"x-frame-options", b"DENY"), (b"cross-origin-resource-policy", b"same-origin")]
                if scope["path"] == "/" or scope["path"].endswith(".html"):
                    extra.append((b"content-security-policy", CSP.encode()))
                message = dict(message, headers=list(message.get("headers", [])) + extra)
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _TooBig:
            if not started:
                await _send_json(send, 413, {"detail": f"request body over {self.max_body} bytes"})


class _TooBig(HTTPException):
    """Raised from ``receive`` when a body without a (truthful) Content-Length grows over the limit.

    An HTTPException, because FastAPI turns any other error while reading the body into a 400
    ("There was an error parsing the body") but passes HTTPExceptions on: this way the client gets 413."""

    def __init__(self, limit: int):
        super().__init__(413, f"request body over {limit} bytes")


async def _send_json(send, status: int, body: dict) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"x-content-type-options", b"nosniff")]})
    await send({"type": "http.response.body", "body": data})


def _num(x: Any) -> float | None:
    return None if x is None or not isinstance(x, (int, float)) or not math.isfinite(x) else float(x)


def _problem(p) -> dict:
    return p.to_dict()


def _one_value_each(request: Request) -> None:
    """A parameter that takes one value given several times (?as_of=2025-01-01&as_of=2026-01-01) is
    refused, not read as its last value: the schema says it is one value."""
    route = request.scope.get("route")
    problems = [{"type": "value_error", "loc": ("query", field.alias), "msg": "given more than once (give it once)"}
                for field in getattr(getattr(route, "dependant", None), "query_params", ())
                if get_origin(field.field_info.annotation) is not list and len(request.query_params.getlist(field.alias)) > 1]
    if problems:
        raise RequestValidationError(problems)


class Jobs:
    """Stress tests run in the background, one at a time, reporting progress."""

    def __init__(self, keep: int = 50, queue: int = 8):
        self._pool: ThreadPoolExecutor | None = None  # made on demand: the app may be started again after a shutdown
        self._jobs: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()
        self.keep, self.queue = keep, queue

    def submit(self, total: int, work: Callable[[Callable[[int, int], None]], dict]) -> dict:
        with self._lock:
            pending = sum(1 for j in self._jobs.values() if j["state"] in ("queued", "running"))
            if pending >= self.queue:
                return {}
            job = {"id": uuid.uuid4().hex, "state": "queued", "done": 0, "total": total, "result": None, "error": None}
            self._jobs[job["id"]] = job
            while len(self._jobs) > self.keep:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest]["state"] in ("queued", "running"):
                    break
                self._jobs.popitem(last=False)

        def progress(done: int, total: int) -> None:
            job["done"], job["total"] = done, total

        def run() -> None:
            job["state"] = "running"
            try:
                job["result"] = work(progress)
                job["done"] = job["total"]
                job["state"] = "done"
            except _Failure as exc:
                job["error"], job["state"] = exc.body, "failed"
            except Exception as exc:  # reported to the client, never lost silently
                job["error"], job["state"] = {"detail": f"{type(exc).__name__}: {exc}"}, "failed"

        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loopscope-stress")
            self._pool.submit(run)
        return job

    def get(self, ident: str) -> dict | None:
        return self._jobs.get(ident)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            for job in self._jobs.values():  # their futures are cancelled below: they would wait for ever
                if job["state"] == "queued":
                    job["error"], job["state"] = {"detail": "the server stopped before this stress test started"}, "failed"
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


class _Failure(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(body.get("detail"))
        self.status, self.body = status, body


def create_app(path: Path | str | None = None, read_only: bool = False, allowed_hosts: list[str] | tuple[str, ...] = (),
               max_body: int = MAX_BODY, editor: LedgerEditor | None = None) -> FastAPI:
    """The dashboard app for the ledger at ``path`` (None: the bundled dataset, read-only).

    ``allowed_hosts``: host names the Host header may carry besides 127.0.0.1, localhost and ::1."""
    from .. import __version__

    editor = editor or LedgerEditor(path, read_only=read_only)
    hosts = set(DEFAULT_HOSTS) | set(allowed_hosts)
    jobs = Jobs()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        jobs.shutdown()

    # every 422 is ErrorOut (see _invalid_request), not FastAPI's default HTTPValidationError
    app = FastAPI(title="loopscope dashboard API", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  responses={422: {"model": s.ErrorOut, "description": "Invalid request: every problem"}},
                  dependencies=[Depends(_one_value_each)],
                  description="Read and keep up to date a sourced deal ledger: parties, deals, round trips, "
                              "circularity, exposure, funding gap and stress tests.")
    app.state.editor = editor
    app.state.jobs = jobs
    cache: OrderedDict[tuple, Any] = OrderedDict()
    cache_lock = threading.Lock()

    def cached(key: tuple, compute: Callable[[], Any]) -> Any:
        ledger, generation = editor.snapshot()
        full = (generation,) + key
        with cache_lock:
            if full in cache:
                cache.move_to_end(full)
                return cache[full]
        value = compute(ledger)
        with cache_lock:
            cache[full] = value
            while len(cache) > 256:
                cache.popitem(last=False)
        return value

    def view(as_of: date | None):
        def cut(ledger):
            return ledger.as_of(as_of) if as_of is not None else ledger
        return cut

    # ---------------------------------------------------------------- errors
    def error(status: int, detail: str, **extra) -> JSONResponse:
        return JSONResponse(s.ErrorOut(detail=detail, **extra).model_dump(mode="json"), status_code=status)

    @app.exception_handler(EditError)
    async def _edit_error(request: Request, exc: EditError):
        extra: dict[str, Any] = {}
        if isinstance(exc, Invalid):
            extra["problems"] = [_problem(p) for p in exc.problems]
        if isinstance(exc, Conflict):
            extra["current"], extra["version"] = jsonable(exc.current), exc.version
        return error(exc.status, exc.message, **extra)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException):
        if exc.status_code == 405:  # Allow: every method of the path, not only those of the first route that has it
            methods = {m for r in app.router.routes if isinstance(r, APIRoute) and r.matches(request.scope)[0] != Match.NONE
                       for m in r.methods or ()}
            exc.headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() != "allow"} | {"Allow": ", ".join(sorted(methods))}
        return await http_exception_handler(request, exc)

    @app.exception_handler(_Failure)
    async def _failure(request: Request, exc: _Failure):
        return JSONResponse(exc.body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError):
        problems = [{"file": "(request)", "line": None, "entity": None, "id": None,
                     "field": ".".join(str(x) for x in e["loc"] if x != "body") or None, "message": e["msg"]}
                    for e in exc.errors()]
        return error(422, "invalid request", problems=problems)

    responses = {k: {"model": s.ErrorOut} for k in (400, 403, 404, 409, 413, 422)}

    # ---------------------------------------------------------------- pages
    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return Response(STATIC.joinpath("index.html").read_bytes(), media_type="text/html; charset=utf-8")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    static_files = {
        "dashboard.js": (STATIC, "text/javascript"), "dashboard.css": (STATIC, "text/css"),
        "graph.js": (REPORT, "text/javascript"), "cytoscape.min.js": (REPORT.joinpath("vendor"), "text/javascript"),
    }

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in static_files:  # a fixed list: no path from the request reaches the file system
            return error(404, "not found")
        folder, media = static_files[name]
        return Response(folder.joinpath(name).read_bytes(), media_type=f"{media}; charset=utf-8",
                        headers={"cache-control": "no-cache"})

    # ---------------------------------------------------------------- reading
    @app.get("/api/meta", response_model=s.Meta, tags=["ledger"])
    def meta() -> dict:
        """The ledger: its name, whether it can be edited, its date range and vocabulary."""
        ledger = editor.ledger()
        dates = [d.announced for d in ledger.deals]
        return {
            "name": editor.display, "read_only": editor.read_only, "read_only_reason": editor.read_only_reason,
            "generation": editor.generation, "first_date": min(dates, default=None), "last_date": max(dates, default=None),
            "parties": len(ledger.parties), "deals": len(ledger.deals), "figures": len(ledger.figures),
            "deal_kinds": list(DEAL_KINDS), "statuses": list(STATUSES), "metrics": list(METRICS),
            "party_kinds": list(PARTY_KINDS), "amount_kinds": list(AMOUNT_KINDS),
            "files": editor.files() if not editor.read_only else [],
            "problems": [_problem(p) for p in editor.problems],
        }

    @app.get("/api/labels", response_model=dict[str, str], tags=["ledger"])
    def get_labels(lang: s.Lang = "en") -> dict:
        """Every label of the dashboard in English or German."""
        return labels(lang)

    def deal_out(ledger, deal, lang: str) -> dict:
        value, low, high = ledger.to_usd(deal.amount, deal.announced)
        from ..report.i18n import KIND_NAMES

        return {
            "id": deal.id, "kind": deal.kind, "kind_name": KIND_NAMES[deal.kind][lang], "src": deal.src, "dst": deal.dst,
            "src_name": ledger.party(deal.src).name, "dst_name": ledger.party(deal.dst).name, "title": deal.title,
            "announced": deal.announced, "status": deal.status, "amount": amount_text(deal.amount, lang),
            "amount_kind": deal.amount.kind, "amount_usd": _num(value), "low_usd": _num(low), "high_usd": _num(high),
            "sources": len(deal.sources), "file": editor._file_of(ledger, "deals", deal.id),
        }

    def select(ledger, kind: list[str] | None, status: list[str] | None, party: list[str] | None,
               min_amount: float | None, q: str | None, live: bool):
        text = (q or "").strip().lower()
        out = []
        for deal in ledger.deals:
            if kind and deal.kind not in kind:
                continue
            if status and deal.status not in status:
                continue
            if live and not status and deal.status in CLOSED_STATUSES:
                continue
            if party and deal.src not in party and deal.dst not in party:
                continue
            if min_amount is not None and min_amount > 0:
                value = ledger.to_usd(deal.amount, deal.announced)[0]
                if value is None or value < min_amount:
                    continue
            if text and not any(text in x.lower() for x in (deal.id, deal.title, ledger.party(deal.src).name,
                                                              ledger.party(deal.dst).name, deal.src, deal.dst)):
                continue
            out.append(deal)
        return out

    @app.get("/api/parties", response_model=list[s.PartyOut], tags=["ledger"])
    def parties(as_of: AsOf = None) -> list[dict]:
        """Every party with its number of deals and disclosed money in and out (US dollars)."""
        def compute(ledger):
            ledger = view(as_of)(ledger)
            out = []
            for p in ledger.parties:
                inflow = outflow = 0.0
                count = 0
                for d in ledger.deals:
                    if p.id in (d.src, d.dst):
                        count += 1
                        if d.status in CLOSED_STATUSES:
                            continue
                        value = ledger.to_usd(d.amount, d.announced)[0] or 0.0
                        inflow += value if d.dst == p.id else 0.0
                        outflow += value if d.src == p.id else 0.0
                out.append({"id": p.id, "name": p.name, "kind": p.kind, "ticker": p.ticker, "country": p.country,
                            "deals": count, "inflow_usd": inflow, "outflow_usd": outflow})
            return out
        return cached(("parties", as_of), compute)

    @app.get("/api/deals", response_model=list[s.DealOut], tags=["ledger"])
    def deals(kind: Kinds, status: Statuses, party: Parties, min_amount: MinAmount = None,
              q: Search = None, as_of: AsOf = None, lang: s.Lang = "en") -> list[dict]:
        """Deals, filtered; without a status filter only live deals (not cancelled or superseded)."""
        def compute(ledger):
            ledger = view(as_of)(ledger)
            return [deal_out(ledger, d, lang) for d in select(ledger, kind, status, party, min_amount, q, live=True)]
        return cached(("deals", tuple(kind or ()), tuple(status or ()), tuple(party or ()), min_amount, q, as_of, lang), compute)

    def entry(section: str, ident: str) -> dict:
        record, version, file = editor.record(section, ident)
        return {"section": section, "id": ident, "record": jsonable(record), "version": version, "file": file}

    # The routes of each section are made by a function taking the section: a default argument
    # (``section: str = section``) would become a query parameter anyone could set (?section=...).
    def entry_getter(section: str) -> Callable:
        def get_entry(ident: str, response: Response) -> dict:
            found = entry(section, ident)
            response.headers["etag"] = f'"{found["version"]}"'
            return found
        return get_entry

    for section in ("parties", "deals", "figures"):
        app.add_api_route(f"/api/{section}/{{ident}}", entry_getter(section), methods=["GET"], response_model=s.Entry,
                          responses=responses, tags=["ledger"], name=f"get_{section}",
                          summary=f"One of the {section} as stored, with its version (also the ETag)")

    @app.get("/api/figures", response_model=list[s.Entry], tags=["ledger"])
    def figures(party: Parties, metric: Annotated[str | None, Query(max_length=50)] = None) -> list[dict]:
        """Reported figures (revenue, backlog, market value...), each with its version."""
        ledger = editor.ledger()
        return [entry("figures", f.id) for f in ledger.figures
                if (not party or f.party in party) and (metric is None or f.metric == metric)]

    @app.get("/api/network", response_model=s.Network, tags=["analyses"])
    def network(kind: Kinds, status: Statuses, party: Parties, min_amount: MinAmount = None,
                q: Search = None, as_of: AsOf = None, lang: s.Lang = "en") -> dict:
        """The network picture's nodes and edges (the report's), as of a day and filtered; nodes keep
        their places across days."""
        from ..report.content import network_layout, network_view

        def compute(ledger):
            positions = cached(("layout",), lambda full: network_layout(full))
            cut = view(as_of)(ledger)
            chosen = select(cut, kind, status, party, min_amount, q, live=True)
            out = network_view(cut, lang, deals=chosen, positions=positions, all_parties=False)
            return dict(out, as_of=as_of)
        return cached(("network", tuple(kind or ()), tuple(status or ()), tuple(party or ()), min_amount, q, as_of, lang),
                      compute)

    def cycle_list(as_of, max_length, lang, temporal=False, window=None):
        from ..analysis import find_cycles
        from ..report.content import cycle_view

        def compute(ledger):
            cut = view(as_of)(ledger)
            found = find_cycles(cut, max_length=max_length, temporal=temporal, window=window) if temporal else \
                find_cycles(cut, max_length=max_length)
            rows = cycle_view(cut, found[:MAX_CYCLES], lang)
            for row, cycle in zip(rows, found):
                row["amount_usd"] = _num(cycle.amount_usd)
            return {"total": len(found), "max_length": max_length, "cycles": rows}
        return cached(("cycles", as_of, max_length, lang, temporal, window), compute)

    @app.get("/api/cycles", response_model=s.Cycles, tags=["analyses"])
    def cycles(max_length: MaxLength = 6, as_of: AsOf = None, temporal: bool = False,
               window_days: Annotated[int, Query(ge=1, le=36500)] = 365, lang: s.Lang = "en") -> dict:
        """Round trips, largest first (at most 200 listed), each with its narrative; ``temporal``: only
        money that comes back after it went out, within ``window_days``."""
        return cycle_list(as_of, max_length, lang, temporal, f"{window_days}d" if temporal else None)

    @app.get("/api/circulation", response_model=s.Circulation, tags=["analyses"])
    def circulation(as_of: AsOf = None, lang: s.Lang = "en") -> dict:
        """How much of the gross volume can go in circles (maximum circulation, with the amounts' range),
        one-way money, new money from net payers, and Hodge's loop ratio."""
        from ..analysis import hodge_decomposition, max_circulation
        from ..display import money
        from ..report.content import _share
        from ..report.i18n import label

        def compute(ledger):
            cut = view(as_of)(ledger)
            c = max_circulation(cut)
            try:
                loop = _num(hodge_decomposition(cut).loop_ratio)
            except ValueError:
                loop = None
            m = lambda v: money(v, lang=lang)  # noqa: E731
            cards = [
                {"label": label("gross", lang), "value": m(c.gross), "note": label("range", lang, low=m(c.gross_low), high=m(c.gross_high))},
                {"label": label("circulated", lang), "value": m(c.circulated),
                 "note": label("range", lang, low=m(c.circulated_low), high=m(c.circulated_high))},
                {"label": label("circularity", lang), "value": _share(c.circularity, lang),
                 "note": label("at_low_high", lang, low=_share(c.circularity_low, lang), high=_share(c.circularity_high, lang))},
                {"label": label("outside", lang), "value": m(c.outside_money), "note": ""},
            ]
            return {"gross_usd": c.gross, "gross_low_usd": c.gross_low, "gross_high_usd": c.gross_high,
                    "circulated_usd": c.circulated, "circulated_low_usd": c.circulated_low,
                    "circulated_high_usd": c.circulated_high, "circularity": _num(c.circularity),
                    "one_way_usd": c.one_way, "outside_money_usd": c.outside_money, "hodge_loop_ratio": loop, "cards": cards}
        return cached(("circulation", as_of, lang), compute)

    def exposure_rows(as_of, lang):
        from ..analysis import exposure as exposure_of
        from ..report.content import exposure_view

        def compute(ledger):
            cut = view(as_of)(ledger)
            rows, notes = exposure_view(cut, exposure_of(cut), lang)
            return {"rows": rows, "notes": notes}
        return cached(("exposure", as_of, lang), compute)

    @app.get("/api/exposure", response_model=s.Exposure, tags=["analyses"])
    def exposure(as_of: AsOf = None, lang: s.Lang = "en") -> dict:
        """Per company: round-tripped inflow, customer concentration, backlog share, commitments."""
        return exposure_rows(as_of, lang)

    @app.get("/api/gap", response_model=dict[str, Any], tags=["analyses"])
    def gap(lang: s.Lang = "en") -> dict:
        """Commitments per year against revenue, per party and for the network; Bain's gap rebuilt."""
        from ..report.content import _gap

        return cached(("gap", lang), lambda ledger: _gap(ledger, lang))

    @app.get("/api/parties/{ident}/page", response_model=s.PartyPage, responses=responses, tags=["ledger"])
    def party_page(ident: str, lang: s.Lang = "en") -> dict:
        """One party: its entry, deals, figures, exposure, the round trips through it and its changes."""
        ledger = editor.ledger()
        found = entry("parties", ident)
        rows = exposure_rows(None, lang)["rows"]
        through = [c for c in cycle_list(None, 6, lang)["cycles"] if ident in c["parties"]]
        return {
            "party": found,
            "deals": [deal_out(ledger, d, lang) for d in ledger.deals if ident in (d.src, d.dst)],
            "figures": [entry("figures", f.id) for f in ledger.figures if ident in (f.party, f.counterparty)],
            "exposure": next((r for r in rows if r["id"] == ident), None),
            "cycles": through[:50],
            "changes": [jsonable(c) for c in editor.changes(limit=10**9) if c.get("id") == ident or
                        any(ident in (r.get("from"), r.get("to"), r.get("party"), r.get("counterparty"))
                            for r in (c.get("before") or {}, c.get("after") or {}))][:50],
        }

    # ---------------------------------------------------------------- stress tests
    @app.get("/api/scenarios", response_model=list[s.ScenarioInfo], tags=["stress"])
    def scenarios(lang: s.Lang = "en") -> list[dict]:
        """The built-in scenarios, each with the sentence it models."""
        from ..stress.scenario import BUILTIN, builtin

        out = []
        for name in BUILTIN:
            sc = builtin(name)
            out.append({"name": name, "title": (sc.title_de if lang == "de" else sc.title) or name,
                        "description": sc.description or "", "quote": sc.quote.model_dump(mode="json") if sc.quote else None,
                        "scenario": sc.model_dump(mode="json")})
        return out

    def stress_work(body: s.StressRequest) -> Callable:
        from pydantic import ValidationError

        from ..report.content import stress_view
        from ..stress import stress_test
        from ..stress.scenario import BUILTIN, Scenario, builtin

        if isinstance(body.scenario, str):
            if body.scenario not in BUILTIN:
                raise _Failure(422, {"detail": f"unknown scenario {body.scenario!r} (built in: {', '.join(BUILTIN)})"})
            scenario = builtin(body.scenario)
        else:
            try:
                scenario = Scenario.model_validate(body.scenario)
            except ValidationError as exc:
                raise _Failure(422, s.ErrorOut(detail="invalid scenario", problems=[
                    {"file": "(scenario)", "line": None, "entity": "scenario", "id": None,
                     "field": ".".join(str(x) for x in e["loc"]) or None, "message": e["msg"]} for e in exc.errors()
                ]).model_dump(mode="json")) from None
        ledger = editor.ledger()
        unknown = sorted(scenario.parties() - {p.id for p in ledger.parties})
        if unknown:
            raise _Failure(422, {"detail": f"unknown part{'ies' if len(unknown) > 1 else 'y'} in the scenario: {', '.join(unknown)}"})

        def work(progress: Callable[[int, int], None] | None = None) -> dict:
            try:
                r = stress_test(ledger, scenario, model=body.model, samples=body.samples, seed=body.seed, progress=progress)
            except ValueError as exc:
                raise _Failure(422, {"detail": str(exc)}) from None
            return {"view": json.loads(json.dumps(stress_view(ledger, r, body.lang), default=str)),
                    "result": json.loads(json.dumps(r.to_dict(), default=str))}
        return work

    running = threading.BoundedSemaphore(2)  # stress tests run at once in requests (the jobs have their own queue)

    @app.post("/api/stress", response_model=s.StressOut, responses={**responses, 429: {"model": s.ErrorOut}},
              tags=["stress"])
    def stress(body: Annotated[s.StressRequest, Body()]) -> Any:
        """Run a stress test and wait for the result (for many samples, use /api/stress/jobs); 429 while
        two others are running."""
        work = stress_work(body)
        if not running.acquire(blocking=False):
            return error(429, "two stress tests are running; try again when one has finished, or use /api/stress/jobs")
        try:
            return work()
        finally:
            running.release()

    @app.post("/api/stress/jobs", response_model=s.Job, status_code=202, responses={**responses, 429: {"model": s.ErrorOut}},
              tags=["stress"])
    def stress_job(body: Annotated[s.StressRequest, Body()]) -> Any:
        """Start a stress test in the background; poll /api/stress/jobs/{id} for progress and result."""
        work = stress_work(body)
        job = jobs.submit(max(body.samples, 1), work)
        if not job:
            return error(429, "too many stress tests waiting; try again when one has finished")
        return job

    @app.get("/api/stress/jobs/{ident}", response_model=s.Job, responses=responses, tags=["stress"])
    def stress_job_state(ident: str) -> Any:
        """A background stress test: queued, running (samples done of total), done (with the result) or failed."""
        job = jobs.get(ident)
        if job is None:
            return error(404, f"no stress test {ident!r}")
        return job

    # ---------------------------------------------------------------- writing
    def saved(change) -> dict:
        section, ident = change.section, change.id
        current = entry(section, ident) if change.after is not None else None
        return {"change": jsonable(change.to_dict()), "entry": current}

    def writers(section: str) -> tuple[Callable, Callable, Callable]:
        def create(body: Annotated[s.EditIn, Body()]) -> dict:
            return saved(editor.create(section, body.record, body.reason, file=body.file))

        def update(ident: str, body: Annotated[s.EditIn, Body()]) -> dict:
            return saved(editor.update(section, ident, body.record, body.version, body.reason))

        def retire(ident: str, body: Annotated[s.RetireIn, Body()]) -> dict:
            return saved(editor.retire(section, ident, body.version, body.reason, day=body.date))
        return create, update, retire

    for section in ("parties", "deals", "figures"):
        create, update, retire = writers(section)
        app.add_api_route(f"/api/{section}", create, methods=["POST"], response_model=s.Saved, status_code=201,
                          responses=responses, tags=["editing"], name=f"create_{section}",
                          summary=f"Add one of the {section} (validated like loopscope validate; 422 lists the problems)")
        app.add_api_route(f"/api/{section}/{{ident}}", update, methods=["PUT"], response_model=s.Saved,
                          responses=responses, tags=["editing"], name=f"update_{section}",
                          summary=f"Change one of the {section}, starting from its version (409 if it changed since)")
        if section != "parties":
            app.add_api_route(f"/api/{section}/{{ident}}/retire", retire, methods=["POST"], response_model=s.Saved,
                              responses=responses, tags=["editing"], name=f"retire_{section}",
                              summary="Retire: a deal gets a 'cancelled' history entry, a figure is removed "
                                      "(the change log keeps it)")

    @app.get("/api/changes", response_model=list[s.ChangeOut], tags=["editing"])
    def changes(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict]:
        """The change log, newest first: time, action, entry, file, reason, before and after."""
        return [jsonable(c) for c in editor.changes(limit=limit)]

    app.add_middleware(_Guard, hosts=hosts, max_body=max_body)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=sorted(hosts))
    return app

