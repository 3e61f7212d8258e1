"""Fuzz the dashboard's API from its own OpenAPI schema (schemathesis): whatever a client sends, the
app never answers 5xx, and every answer is one the schema documents (status code, content type, body).

The app runs on a copy of the bundled ledger, writable, so the editing operations are fuzzed too:
most generated edits are refused (a random record rarely is a valid entry of this ledger), and valid
PUTs are aimed at real entries with their current version (see map_case), so that generated text
is also written to the YAML files and read back.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.failures import AcceptedNegativeData

from loopscope.ledger.files import bundled_path
from loopscope.ledger.records import jsonable
from loopscope.web.app import create_app

#: Monte Carlo samples a fuzzed stress test may ask for.  The schema allows up to 20000 (about 2 s each,
#: more with some models); the fuzzer would ask for that often, so bodies of POST /api/stress and
#: POST /api/stress/jobs are capped here to keep the run bounded.  Everything else about them (the
#: scenario, model, seed, language, invalid bodies) is fuzzed as generated; test_web_api.py runs
#: real sample counts (4000 in a job).
MAX_FUZZED_SAMPLES = 50

_ROOT = Path(tempfile.mkdtemp(prefix="loopscope-fuzz-"))
FOLDER = _ROOT / "ledger"
shutil.copytree(bundled_path(), FOLDER)
# schemathesis's ASGI client sends "Host: testserver"; admitting it is what --allow-host does.
APP = create_app(FOLDER, allowed_hosts=["testserver"])
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.hook
def map_body(context, body):
    if context.operation is not None and context.operation.path.startswith("/api/stress") and isinstance(body, dict):
        samples = body.get("samples")
        if isinstance(samples, int) and not isinstance(samples, bool) and samples > MAX_FUZZED_SAMPLES:
            body = dict(body, samples=samples % (MAX_FUZZED_SAMPLES + 1))
    return body


WRITES = {"sent": 0, "accepted": 0}


@schema.hook
def after_call(context, case, response):
    if case.method.upper() in ("POST", "PUT") and not case.operation.path.startswith("/api/stress"):
        WRITES["sent"] += 1
        WRITES["accepted"] += response.status_code in (200, 201)


@schema.hook
def map_case(context, case):
    """Aim some edits at real entries: a generated PUT rarely names an existing entry and never its
    version, so it would only ever test refusals.  A valid PUT gets an entry of the ledger (picked by
    the generated data), its current version and record, and the generated reason as its notes: any
    text, written to the YAML file and read back."""
    meta = case.meta
    if (case.method.upper() != "PUT" or meta is None or not meta.generation.mode.is_positive
            or not isinstance(case.body, dict) or not isinstance(case.body.get("reason"), str)):
        return case
    section = case.operation.path.split("/")[2]
    editor = APP.state.editor
    entries = getattr(editor.ledger(), section)
    ident = entries[len(case.body["reason"]) % len(entries)].id
    record, version, _ = editor.record(section, ident)
    if case.body["reason"].strip():
        record = dict(record, notes=case.body["reason"])
    case.path_parameters = {"ident": ident}
    case.body = dict(case.body, record=jsonable(record), version=version)
    return case


def _types(spec: dict) -> set[str]:
    found = {spec["type"]} if isinstance(spec.get("type"), str) else set(spec.get("type") or ())
    for branch in spec.get("anyOf", ()):
        found |= _types(branch)
    return found


def _read(value: str, spec: dict):
    """A query value as the server reads it: text for a text parameter, else JSON (5, 2.5, true)."""
    if "string" in _types(spec):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _query_as_sent_is_valid(case, response) -> bool:
    """Whether the query string actually sent satisfies the operation's parameters."""
    parameters = [p for p in schema.raw_schema["paths"][case.path][case.method.lower()].get("parameters", [])
                  if p["in"] == "query"]
    sent = parse_qs(urlsplit(response.request.url).query, keep_blank_values=True)
    instance, properties = {}, {}
    for p in parameters:
        spec = p["schema"]
        properties[p["name"]] = spec
        values = sent.get(p["name"])
        if values is None:
            continue
        if "array" in _types(spec):
            items = next((b.get("items", {}) for b in [spec, *spec.get("anyOf", ())] if "items" in b), {})
            instance[p["name"]] = [_read(v, items) for v in values]
        else:
            instance[p["name"]] = _read(values[0], spec) if len(values) == 1 else values
    required = [p["name"] for p in parameters if p.get("required")]
    validator = jsonschema.Draft202012Validator({"type": "object", "properties": properties, "required": required},
                                               format_checker=jsonschema.FormatChecker())
    return validator.is_valid(instance)


@schema.hook
def filter_failure(context, failure, case, response):
    """Drop "schema-violating request accepted" when what was sent was not schema-violating.

    A query string carries only text: a parameter mutated to ``false``, ``null``, 5 or ["x"] often
    serialises to a query string a valid request would send too (q=false is the text "false";
    kind=false is the one kind "false").  Schemathesis spots some such cases itself, not those with
    several mutated parameters.  So the query string as sent is checked against the schema again (each
    value read as the server reads it, formats checked); only if it really violates it does the
    failure stand."""
    if isinstance(failure, AcceptedNegativeData) and case.method.upper() == "GET" and response.request is not None:
        return not _query_as_sent_is_valid(case, response)
    return True


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    APP.state.jobs.shutdown()
    shutil.rmtree(_ROOT, ignore_errors=True)


def test_the_schema_documents_every_operation():
    paths = schema.raw_schema["paths"]
    assert {"/api/meta", "/api/deals", "/api/deals/{ident}", "/api/stress", "/api/stress/jobs", "/api/changes"} <= set(paths)
    assert {"get", "put"} <= set(paths["/api/deals/{ident}"])
    for path, methods in paths.items():
        for method, operation in methods.items():
            if method in ("post", "put"):
                assert {"403", "413", "422"} <= set(operation["responses"]), (method, path)


#: Operations whose bodies follow rules the schema cannot state: a record must be a valid entry of
#: *this* ledger (its parties must exist, its id must be new...), a scenario must be a valid scenario
#: naming known parties.  A schema-valid body is rightly refused there with 422 and the problems, so
#: the check "schema-valid requests are accepted" does not apply to them; every other check does
#: (no 5xx, documented status codes, content types, headers and bodies, schema-violating requests
#: refused).
SEMANTIC_BODIES = {"editing", "stress"}


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_api(case):
    with_body = case.method.upper() in ("POST", "PUT")
    excluded = [positive_data_acceptance] if with_body and SEMANTIC_BODIES & set(case.operation.tags or ()) else []
    case.call_and_validate(excluded_checks=excluded)


def test_the_ledger_survives_the_fuzzing():
    """After test_api (it runs first): whatever was sent, the files on disk are still a valid ledger,
    and the change log holds exactly the changes that were accepted."""
    import loopscope

    ledger = loopscope.load(FOLDER)
    with TestClient(APP, base_url="http://127.0.0.1") as client:
        meta = client.get("/api/meta").json()
        assert meta["problems"] == [] and meta["deals"] == len(ledger.deals) and meta["parties"] == len(ledger.parties)
        log = client.get("/api/changes", params={"limit": 1000}).json()
    assert meta["generation"] == len(log) == WRITES["accepted"]
    if WRITES["sent"]:
        assert WRITES["accepted"] > 0, "no fuzzed edit went through: map_case no longer aims them at real entries"
