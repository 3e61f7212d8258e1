"""The dashboard's JSON API: its answers checked against the analyses run directly, editing through it
(versions, conflicts, validation, the change log), and its defences (read-only, Host allow-list,
same-site writes, no CORS, body limit, escaping, paths)."""

from __future__ import annotations

import json
import shutil
import time
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import loopscope
from loopscope.ledger.files import bundled_path
from loopscope.ledger.vocabulary import CLOSED_STATUSES
from loopscope.web.app import create_app

BASE = "http://127.0.0.1"
DAY = date(2025, 6, 1)
NASTY = '<script>alert(1)</script><img src=x onerror=alert(2)> "q" \'s'

NEW_DEAL = {
    "id": "nvidia-example-2026", "kind": "equity", "from": "nvidia", "to": "openai",
    "title": "An example investment", "announced": "2026-01-02",
    "amount": {"value": 2e9, "currency": "USD", "kind": "up_to"},
    "history": [{"date": "2026-01-02", "status": "announced"}],
    "sources": [{"url": "https://example.com/deal", "publisher": "Example News"}],
}


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def ledger():
    return loopscope.load()


@pytest.fixture(scope="module")
def bundled():
    """The app on the bundled dataset (read-only), shared by the read tests."""
    with TestClient(create_app(), base_url=BASE) as client:
        yield client


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "ledger"
    shutil.copytree(bundled_path(), target)
    return target


@pytest.fixture
def client(folder):
    with TestClient(create_app(folder), base_url=BASE) as client:
        yield client


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (the ledger folder's parent: catches files written beside it too)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def expected_deals(ledger, kind=None, status=None, party=None, min_amount=None, q=None, as_of=None) -> list[str]:
    """The deal filter of the API, written out independently."""
    cut = ledger.as_of(as_of) if as_of else ledger
    out = []
    for d in cut.deals:
        if kind and d.kind not in kind:
            continue
        if status:
            if d.status not in status:
                continue
        elif d.status in ("cancelled", "superseded"):
            continue
        if party and d.src not in party and d.dst not in party:
            continue
        if min_amount:
            value = cut.to_usd(d.amount, d.announced)[0]
            if value is None or value < min_amount:
                continue
        if q:
            hay = " | ".join([d.id, d.title, cut.party(d.src).name, cut.party(d.dst).name, d.src, d.dst]).lower()
            if q.lower() not in hay:
                continue
        out.append(d.id)
    return out


# ---------------------------------------------------------------------------------------------- reading
def test_meta_describes_the_bundled_ledger(bundled, ledger):
    r = bundled.get("/api/meta")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    meta = r.json()
    assert (meta["parties"], meta["deals"], meta["figures"]) == (len(ledger.parties), len(ledger.deals), len(ledger.figures))
    assert meta["first_date"] == min(d.announced for d in ledger.deals).isoformat()
    assert meta["last_date"] == max(d.announced for d in ledger.deals).isoformat()
    assert meta["read_only"] is True and "bundled" in meta["read_only_reason"] and meta["files"] == []
    assert meta["problems"] == [] and "cancelled" in meta["statuses"] and "equity" in meta["deal_kinds"]


def test_parties_count_deals_and_money_in_and_out(bundled, ledger):
    rows = {p["id"]: p for p in bundled.get("/api/parties").json()}
    assert set(rows) == {p.id for p in ledger.parties}
    for pid in ("nvidia", "oracle", "openai"):
        mine = [d for d in ledger.deals if pid in (d.src, d.dst)]
        live = [d for d in mine if d.status not in CLOSED_STATUSES]
        inflow = sum(ledger.to_usd(d.amount, d.announced)[0] or 0 for d in live if d.dst == pid)
        outflow = sum(ledger.to_usd(d.amount, d.announced)[0] or 0 for d in live if d.src == pid)
        assert rows[pid]["deals"] == len(mine) > 0
        assert rows[pid]["inflow_usd"] == pytest.approx(inflow) and rows[pid]["outflow_usd"] == pytest.approx(outflow)
        assert rows[pid]["name"] == ledger.party(pid).name
    assert rows["openai"]["inflow_usd"] > 0 and rows["openai"]["outflow_usd"] > 0
    early = {p["id"]: p for p in bundled.get("/api/parties", params={"as_of": "2024-01-01"}).json()}
    assert early["openai"]["deals"] == sum(1 for d in ledger.as_of("2024-01-01").deals if "openai" in (d.src, d.dst))
    assert early["openai"]["deals"] < rows["openai"]["deals"]


@pytest.mark.parametrize("params", [
    {},
    {"kind": ["equity"]},
    {"kind": ["purchase", "lease"]},
    {"status": ["cancelled"]},
    {"status": ["cancelled", "superseded", "signed"]},
    {"party": ["oracle"]},
    {"party": ["oracle", "amd"]},
    {"min_amount": 1e11},
    {"q": "STARGATE"},
    {"q": "Oracle"},
    {"as_of": "2025-06-01"},
    {"as_of": "2025-06-01", "status": ["announced"]},
    {"kind": ["purchase"], "party": ["openai"], "min_amount": 1e10, "as_of": "2025-12-31"},
])
def test_deal_filters_match_the_ledger_filtered_by_hand(bundled, ledger, params):
    r = bundled.get("/api/deals", params=params)
    assert r.status_code == 200, r.text
    got = [d["id"] for d in r.json()]
    want = expected_deals(ledger, params.get("kind"), params.get("status"), params.get("party"), params.get("min_amount"),
                          params.get("q"), params.get("as_of"))
    assert got == want
    assert got, "every filter above selects some deals"
    if params:
        assert len(got) < len(ledger.deals)


def test_deal_rows_carry_amounts_names_and_files(bundled, ledger):
    rows = {d["id"]: d for d in bundled.get("/api/deals").json()}
    deal = ledger.deal("openai-oracle-compute-2025")
    row = rows[deal.id]
    value, low, high = ledger.to_usd(deal.amount, deal.announced)
    assert (row["src"], row["dst"], row["src_name"], row["dst_name"]) == \
        (deal.src, deal.dst, ledger.party(deal.src).name, ledger.party(deal.dst).name)
    assert row["amount_usd"] == value and row["low_usd"] == low and row["high_usd"] == high
    assert row["announced"] == deal.announced.isoformat() and row["status"] == deal.status
    assert row["file"] == ledger.origins[("deals", deal.id)] and row["sources"] == len(deal.sources)
    undisclosed = [d for d in ledger.deals if not d.amount.disclosed and d.status not in CLOSED_STATUSES]
    assert undisclosed and all(rows[d.id]["amount_usd"] is None for d in undisclosed)


def test_network_edges_follow_the_day(bundled, ledger):
    today = bundled.get("/api/network").json()
    then = bundled.get("/api/network", params={"as_of": DAY.isoformat()}).json()
    live_today = {d.id for d in ledger.deals if d.status not in CLOSED_STATUSES}
    live_then = {d.id for d in ledger.as_of(DAY).deals if d.status not in CLOSED_STATUSES}
    assert {e["id"] for e in today["edges"]} == live_today
    assert {e["id"] for e in then["edges"]} == live_then
    assert 0 < len(then["edges"]) < len(today["edges"])
    assert then["as_of"] == DAY.isoformat() and today["as_of"] is None
    # nodes keep their places across days
    places = {n["id"]: (n["x"], n["y"]) for n in today["nodes"]}
    assert all(places[n["id"]] == (n["x"], n["y"]) for n in then["nodes"])
    filtered = bundled.get("/api/network", params={"kind": "equity"}).json()
    assert {e["kind"] for e in filtered["edges"]} == {"equity"}


def test_cycles_are_find_cycles(bundled, ledger):
    found = loopscope.find_cycles(ledger, max_length=6)
    body = bundled.get("/api/cycles").json()
    assert body["total"] == len(found) > 0 and body["max_length"] == 6
    first = body["cycles"][0]
    assert first["parties"] == list(found[0].parties) and first["rank"] == 1
    assert first["amount_usd"] == pytest.approx(found[0].amount_usd)
    assert set(first["deals"]) == {x for step in found[0].steps for x in step.deals}
    assert len(body["cycles"]) == min(len(found), 200)
    short = bundled.get("/api/cycles", params={"max_length": 2}).json()
    assert short["total"] == len(loopscope.find_cycles(ledger, max_length=2)) < body["total"]
    then = bundled.get("/api/cycles", params={"as_of": DAY.isoformat()}).json()
    assert then["total"] == len(loopscope.find_cycles(ledger.as_of(DAY), max_length=6))
    assert bundled.get("/api/cycles", params={"max_length": 9}).status_code == 422


def test_circulation_is_max_circulation(bundled, ledger):
    c = loopscope.max_circulation(ledger)
    body = bundled.get("/api/circulation").json()
    for key in ("gross", "gross_low", "gross_high", "circulated", "circulated_low", "circulated_high", "one_way",
                "outside_money"):
        assert body[f"{key}_usd"] == pytest.approx(getattr(c, key)), key
    assert body["circularity"] == pytest.approx(c.circularity) and 0 < body["circularity"] < 1
    assert len(body["cards"]) == 4
    then = bundled.get("/api/circulation", params={"as_of": DAY.isoformat()}).json()
    assert then["gross_usd"] == pytest.approx(loopscope.max_circulation(ledger.as_of(DAY)).gross)
    assert then["gross_usd"] < body["gross_usd"]


def test_exposure_rows_are_the_exposure_analysis(bundled, ledger):
    found = loopscope.exposure(ledger)
    rows = bundled.get("/api/exposure").json()["rows"]
    assert rows
    for row in rows:
        e = found[row["id"]]
        assert row["inflow_usd"] == pytest.approx(e.inflow_usd)
        assert row["round_tripped_usd"] == pytest.approx(e.round_tripped_usd)
        assert row["party"] == ledger.party(row["id"]).name
    assert any(r["round_tripped_usd"] > 0 for r in rows)


def test_gap_is_the_funding_gap(bundled, ledger):
    from loopscope.stress.gap import funding_gap

    g = funding_gap(ledger)
    body = bundled.get("/api/gap").json()
    years = body["years"]
    assert years and years[0]["year"] == g.years[0]
    for row in years:
        k = list(g.years).index(row["year"])
        assert row["commitments_usd"] == pytest.approx(float(g.commitments_usd[k]))
    assert body["parties"] and body["bain"]


def test_party_page_of_oracle(bundled, ledger):
    r = bundled.get("/api/parties/oracle/page")
    assert r.status_code == 200
    page = r.json()
    assert page["party"]["record"]["name"] == "Oracle" and page["party"]["id"] == "oracle"
    assert {d["id"] for d in page["deals"]} == {d.id for d in ledger.deals if "oracle" in (d.src, d.dst)}
    assert {f["id"] for f in page["figures"]} == {f.id for f in ledger.figures if "oracle" in (f.party, f.counterparty)}
    assert page["exposure"]["id"] == "oracle"
    assert page["cycles"] and all("oracle" in c["parties"] for c in page["cycles"])
    missing = bundled.get("/api/parties/no-such-party/page")
    assert missing.status_code == 404 and "no-such-party" in missing.json()["detail"]


def test_scenarios_are_the_built_in_ones(bundled):
    from loopscope.stress.scenario import BUILTIN, builtin

    en = bundled.get("/api/scenarios").json()
    de = bundled.get("/api/scenarios", params={"lang": "de"}).json()
    assert [s["name"] for s in en] == list(BUILTIN)
    for s_en, s_de in zip(en, de):
        sc = builtin(s_en["name"])
        assert s_en["title"] == (sc.title or sc.name) and s_de["title"] == (sc.title_de or sc.title or sc.name)
        assert s_en["scenario"]["shocks"]
    assert any(a["title"] != b["title"] for a, b in zip(en, de))


def test_labels_in_german(bundled):
    from loopscope.web.i18n import labels

    de = bundled.get("/api/labels", params={"lang": "de"}).json()
    en = bundled.get("/api/labels").json()
    assert de == labels("de") and en == labels("en")
    assert set(de) == set(en)
    assert sum(de[k] != en[k] for k in en) > len(en) / 2
    assert bundled.get("/api/labels", params={"lang": "fr"}).status_code == 422


def test_one_deal_with_its_version_and_etag(bundled, ledger):
    from loopscope.ledger.editor import version_of
    from loopscope.ledger.records import jsonable, to_record

    r = bundled.get("/api/deals/openai-oracle-compute-2025")
    assert r.status_code == 200
    body = r.json()
    record = to_record(ledger.deal("openai-oracle-compute-2025"))
    assert body["record"] == json.loads(json.dumps(jsonable(record)))
    assert body["version"] == version_of(record) and r.headers["etag"] == f'"{body["version"]}"'
    assert body["file"] == ledger.origins[("deals", "openai-oracle-compute-2025")]
    missing = bundled.get("/api/deals/no-such-deal")
    assert missing.status_code == 404 and "no-such-deal" in missing.json()["detail"] and "etag" not in missing.headers
    assert bundled.get("/api/figures/openai-revenue-2025-06-30").json()["record"]["party"] == "openai"
    assert bundled.get("/api/parties/nvidia").json()["record"]["name"] == ledger.party("nvidia").name


# ---------------------------------------------------------------------------------------------- editing
def test_create_update_and_two_tabs(client, folder):
    r = client.post("/api/deals", json={"record": NEW_DEAL, "reason": "new investment"})
    assert r.status_code == 201, r.text
    saved = r.json()
    file = saved["entry"]["file"]
    assert saved["change"]["action"] == "create" and saved["entry"]["record"]["title"] == "An example investment"
    assert "nvidia-example-2026" in (folder / file).read_text(encoding="utf-8")
    assert loopscope.load(folder).deal("nvidia-example-2026").amount.kind == "up_to"
    version = saved["entry"]["version"]
    assert client.get("/api/deals/nvidia-example-2026").headers["etag"] == f'"{version}"'

    # two browser tabs start from the same version; the second one's edit is a conflict
    first = client.put("/api/deals/nvidia-example-2026",
                       json={"record": dict(NEW_DEAL, title="first tab"), "version": version, "reason": "tab one"})
    assert first.status_code == 200, first.text
    assert first.json()["entry"]["version"] != version
    second = client.put("/api/deals/nvidia-example-2026",
                        json={"record": dict(NEW_DEAL, title="second tab"), "version": version, "reason": "tab two"})
    assert second.status_code == 409
    body = second.json()
    assert body["current"]["title"] == "first tab" and body["version"] == first.json()["entry"]["version"]
    assert loopscope.load(folder).deal("nvidia-example-2026").title == "first tab"
    # creating it again is a conflict too
    assert client.post("/api/deals", json={"record": NEW_DEAL, "reason": "again"}).status_code == 409


def test_invalid_records_list_the_editors_problems(client, folder):
    from loopscope.ledger.editor import Invalid, LedgerEditor

    before = snapshot(folder.parent)
    current = client.get("/api/deals/openai-oracle-compute-2025").json()
    bad = dict(current["record"], amount={"value": -3, "currency": "USD", "kind": "exact"}, to="nobody")
    r = client.put("/api/deals/openai-oracle-compute-2025", json={"record": bad, "version": current["version"], "reason": "x"})
    assert r.status_code == 422
    problems = {p["field"]: p["message"] for p in r.json()["problems"]}
    assert problems["amount.value"] == "must be positive, got -3" and problems["to"] == "unknown party 'nobody'"
    with pytest.raises(Invalid) as direct:
        LedgerEditor(folder).update("deals", "openai-oracle-compute-2025", bad, current["version"], "x")
    assert [(p["field"], p["message"], p["line"]) for p in r.json()["problems"]] == \
        [(p.field, p.message, p.line) for p in direct.value.problems]
    # no reason, an empty reason
    missing = client.post("/api/deals", json={"record": NEW_DEAL})
    assert missing.status_code == 422 and any(p["field"] == "reason" for p in missing.json()["problems"])
    blank = client.post("/api/deals", json={"record": NEW_DEAL, "reason": "   "})
    assert blank.status_code == 422 and [p["field"] for p in blank.json()["problems"]] == ["reason"]
    # an unknown party in a new deal; no sources
    r = client.post("/api/deals", json={"record": dict(NEW_DEAL, to="nobody"), "reason": "x"})
    assert r.status_code == 422 and {"to": "unknown party 'nobody'"}.items() <= \
        {p["field"]: p["message"] for p in r.json()["problems"]}.items()
    r = client.post("/api/deals", json={"record": dict(NEW_DEAL, sources=[]), "reason": "x"})
    assert r.status_code == 422 and any(p["field"] == "sources" for p in r.json()["problems"])
    r = client.post("/api/deals", json={"record": "not a mapping", "reason": "x"})
    assert r.status_code == 422
    assert snapshot(folder.parent) == before and client.get("/api/changes").json() == []


def test_lone_surrogates_are_refused_with_a_clear_message(client, folder):
    before = snapshot(folder.parent)
    raw = '{"record": {"id": "broken", "name": "a\\ud800b", "kind": "company"}, "reason": "x"}'
    r = client.post("/api/parties", content=raw.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert len(problems) == 1 and problems[0]["field"] == "record"
    assert "name: not valid Unicode text" in problems[0]["message"] and "surrogate" in problems[0]["message"]
    assert snapshot(folder.parent) == before


def test_retire_and_the_change_log(client, folder):
    version = client.get("/api/deals/openai-oracle-compute-2025").json()["version"]
    r = client.post("/api/deals/openai-oracle-compute-2025/retire", json={"version": version, "reason": "contract lapsed",
                                                                      "date": "2026-02-01"})
    assert r.status_code == 200, r.text
    assert r.json()["entry"]["record"]["history"][-1] == {"date": "2026-02-01", "status": "cancelled", "note": "contract lapsed"}
    assert loopscope.load(folder).deal("openai-oracle-compute-2025").status == "cancelled"
    assert "openai-oracle-compute-2025" not in {d["id"] for d in client.get("/api/deals").json()}
    again = client.post("/api/deals/openai-oracle-compute-2025/retire",
                        json={"version": r.json()["entry"]["version"], "reason": "again"})
    assert again.status_code == 409

    figure = client.get("/api/figures/openai-revenue-2025-06-30").json()
    r = client.post("/api/figures/openai-revenue-2025-06-30/retire", json={"version": figure["version"], "reason": "superseded"})
    assert r.status_code == 200 and r.json()["entry"] is None
    assert "openai-revenue-2025-06-30" not in {f.id for f in loopscope.load(folder).figures}
    assert client.get("/api/figures/openai-revenue-2025-06-30").status_code == 404
    stale = client.post("/api/figures/openai-revenue-2025-06-30/retire", json={"version": figure["version"], "reason": "x"})
    assert stale.status_code == 404

    party = client.get("/api/parties/nvidia").json()
    r = client.put("/api/parties/nvidia", json={"record": dict(party["record"], ticker="NVDX"), "version": party["version"],
                                                "reason": "ticker"})
    assert r.status_code == 200 and loopscope.load(folder).party("nvidia").ticker == "NVDX"

    log = client.get("/api/changes").json()
    assert [(c["action"], c["section"], c["id"], c["reason"]) for c in log] == [
        ("update", "parties", "nvidia", "ticker"),
        ("retire", "figures", "openai-revenue-2025-06-30", "superseded"),
        ("retire", "deals", "openai-oracle-compute-2025", "contract lapsed"),
    ]
    assert log[1]["before"]["id"] == "openai-revenue-2025-06-30" and log[1]["after"] is None
    assert [c["id"] for c in client.get("/api/changes", params={"limit": 1}).json()] == ["nvidia"]
    assert [c["id"] for c in client.get("/api/parties/nvidia/page").json()["changes"]] == ["nvidia"]
    # the page of a party lists the changes of its entry, deals and figures, removed ones too
    assert [c["id"] for c in client.get("/api/parties/openai/page").json()["changes"]] == \
        ["openai-revenue-2025-06-30", "openai-oracle-compute-2025"]
    assert [c["id"] for c in client.get("/api/parties/oracle/page").json()["changes"]] == ["openai-oracle-compute-2025"]
    assert client.get("/api/meta").json()["generation"] == 3


def test_a_hand_edit_is_picked_up(client, folder):
    generation = client.get("/api/meta").json()["generation"]
    party = client.get("/api/parties/nvidia").json()
    path = folder / party["file"]
    text = path.read_text(encoding="utf-8")
    assert "name: NVIDIA\n" in text
    path.write_text(text.replace("name: NVIDIA\n", "name: NVIDIA Corporation\n", 1), encoding="utf-8")
    assert client.get("/api/meta").json()["generation"] > generation
    assert client.get("/api/parties/nvidia").json()["record"]["name"] == "NVIDIA Corporation"
    assert {p["id"]: p["name"] for p in client.get("/api/parties").json()}["nvidia"] == "NVIDIA Corporation"
    r = client.put("/api/parties/nvidia", json={"record": dict(party["record"], notes="stale edit"), "version": party["version"],
                                                "reason": "stale"})
    assert r.status_code == 409 and r.json()["current"]["name"] == "NVIDIA Corporation"
    assert "stale edit" not in path.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------- read-only
def _writes(client) -> list:
    deal = client.get("/api/deals/openai-oracle-compute-2025").json()
    party = client.get("/api/parties/nvidia").json()
    figure = client.get("/api/figures/openai-revenue-2025-06-30").json()
    return [
        ("POST", "/api/parties", {"record": {"id": "newco", "name": "NewCo", "kind": "company"}, "reason": "x"}),
        ("POST", "/api/deals", {"record": NEW_DEAL, "reason": "x"}),
        ("POST", "/api/figures", {"record": dict(figure["record"], id="openai-revenue-copy"), "reason": "x"}),
        ("PUT", "/api/parties/nvidia", {"record": dict(party["record"], ticker="X"), "version": party["version"], "reason": "x"}),
        ("PUT", "/api/deals/openai-oracle-compute-2025",
         {"record": dict(deal["record"], title="x"), "version": deal["version"], "reason": "x"}),
        ("PUT", "/api/figures/openai-revenue-2025-06-30",
         {"record": dict(figure["record"], label="x"), "version": figure["version"], "reason": "x"}),
        ("POST", "/api/deals/openai-oracle-compute-2025/retire", {"version": deal["version"], "reason": "x"}),
        ("POST", "/api/figures/openai-revenue-2025-06-30/retire", {"version": figure["version"], "reason": "x"}),
    ]


def test_read_only_refuses_every_write(folder):
    before = snapshot(folder.parent)
    with TestClient(create_app(folder, read_only=True), base_url=BASE) as client:
        assert client.get("/api/meta").json()["read_only"] is True
        for method, url, body in _writes(client):
            r = client.request(method, url, json=body)
            assert r.status_code == 403, (method, url, r.text)
            assert "read-only" in r.json()["detail"]
        # parties are never retired: there is no such route
        assert client.post("/api/parties/nvidia/retire", json={"version": "x", "reason": "x"}).status_code in (404, 405)
        assert client.get("/api/changes").json() == []
    assert snapshot(folder.parent) == before


def test_the_bundled_dataset_is_read_only(bundled):
    r = bundled.post("/api/deals", json={"record": NEW_DEAL, "reason": "x"})
    assert r.status_code == 403


# ---------------------------------------------------------------------------------------------- hosts, origins, CORS
@pytest.mark.parametrize("host, status", [
    ("evil.example", 400), ("evil.example:8765", 400), ("127.0.0.1.evil.example", 400), ("dash.internal", 400),
    ("localhost:8765", 200), ("localhost", 200), ("127.0.0.1", 200), ("127.0.0.1:8765", 200), ("[::1]:8765", 200),
])
def test_host_allow_list(bundled, host, status):
    r = bundled.get("/api/meta", headers={"host": host})
    assert r.status_code == status
    if status == 400:
        assert "read_only" not in r.text


def test_allowed_hosts_admit_more_names():
    with TestClient(create_app(allowed_hosts=["dash.internal"]), base_url=BASE) as client:
        assert client.get("/api/meta", headers={"host": "dash.internal:8765"}).status_code == 200
        assert client.get("/api/meta", headers={"host": "127.0.0.1"}).status_code == 200
        assert client.get("/api/meta", headers={"host": "evil.example"}).status_code == 400


@pytest.mark.parametrize("origin", ["http://evil.example", "https://evil.example:8765", "null", "http://127.0.0.1.evil.example",
                                    "http://127.0.0.1@evil.example"])
def test_cross_site_writes_are_refused(client, folder, origin):
    before = snapshot(folder.parent)
    for method, url, body in _writes(client):
        r = client.request(method, url, json=body, headers={"origin": origin})
        assert r.status_code == 403, (method, url, r.text)
        assert r.json()["detail"] == "cross-site request refused"
    assert snapshot(folder.parent) == before
    # reading from anywhere is harmless (no CORS: the browser will not hand the answer over)
    assert client.get("/api/meta", headers={"origin": origin}).status_code == 200


def test_same_site_writes_are_allowed(client, folder):
    r = client.post("/api/deals", json={"record": NEW_DEAL, "reason": "x"},
                    headers={"origin": "http://127.0.0.1:8765", "host": "127.0.0.1:8765"})
    assert r.status_code == 201
    assert "nvidia-example-2026" in {d.id for d in loopscope.load(folder).deals}
    version = r.json()["entry"]["version"]
    r = client.put("/api/deals/nvidia-example-2026", json={"record": NEW_DEAL | {"title": "y"}, "version": version, "reason": "y"},
                   headers={"origin": "http://localhost:8765", "host": "localhost:8765"})
    assert r.status_code == 200


@pytest.mark.parametrize("origin", ["http://127.0.0.1:9999", "https://127.0.0.1:8765", "http://localhost:8765"])
def test_another_local_app_is_another_site(client, folder, origin):
    """Same host, other port or scheme (or the other name of the same address): not this page."""
    before = snapshot(folder.parent)
    r = client.post("/api/deals", json={"record": NEW_DEAL, "reason": "x"}, headers={"origin": origin, "host": "127.0.0.1:8765"})
    assert r.status_code == 403 and snapshot(folder.parent) == before


def test_unknown_filter_values_are_an_error_not_an_empty_list(client):
    r = client.get("/api/deals?kind=equity&kind=bribe")
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "query.kind.1"
    assert client.get("/api/network?status=lost").status_code == 422


def test_no_cors_headers_anywhere(client):
    preflight = client.options("/api/deals", headers={"origin": "http://evil.example", "access-control-request-method": "POST",
                                                      "access-control-request-headers": "content-type"})
    responses = [
        preflight,
        client.options("/api/meta", headers={"origin": "http://127.0.0.1:8765", "access-control-request-method": "GET"}),
        client.get("/api/meta", headers={"origin": "http://evil.example"}),
        client.get("/", headers={"origin": "http://evil.example"}),
        client.post("/api/deals", json={"record": NEW_DEAL, "reason": "x"}, headers={"origin": "http://evil.example"}),
        client.get("/api/meta", headers={"host": "evil.example", "origin": "http://evil.example"}),
        client.post("/api/deals", content=b"x" * 2_000_000, headers={"origin": "http://evil.example"}),
    ]
    assert preflight.status_code >= 400
    for r in responses:
        assert not any(k.lower().startswith("access-control-") for k in r.headers), r.headers


# ---------------------------------------------------------------------------------------------- body limit
def test_bodies_over_the_limit_get_413(folder):
    before = snapshot(folder.parent)
    big = json.dumps({"record": dict(NEW_DEAL, notes="x" * 5000), "reason": "x"}).encode()

    def chunks():
        for i in range(0, len(big), 512):
            yield big[i:i + 512]

    with TestClient(create_app(folder, max_body=4000), base_url=BASE) as client:
        r = client.post("/api/deals", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and "4000" in r.json()["detail"]
        r = client.post("/api/deals", content=chunks(), headers={"content-type": "application/json"})
        assert r.request.headers.get("transfer-encoding") == "chunked" and "content-length" not in r.request.headers
        assert r.status_code == 413 and "4000" in r.json()["detail"]
        r = client.post("/api/deals", content=b"{}", headers={"content-type": "application/json", "content-length": "abc"})
        assert r.status_code == 413
        assert snapshot(folder.parent) == before
        # under the limit, chunked or not, it works
        small = json.dumps({"record": NEW_DEAL, "reason": "x"}).encode()
        r = client.post("/api/deals", content=iter([small[:100], small[100:]]), headers={"content-type": "application/json"})
        assert r.status_code == 201, r.text


# ---------------------------------------------------------------------------------------------- escaping
def test_markup_in_the_data_is_just_text(client, folder):
    r = client.post("/api/parties", json={"record": {"id": "xss-co", "name": NASTY, "kind": "company"}, "reason": NASTY})
    assert r.status_code == 201, r.text
    deal = dict(NEW_DEAL, id="xss-deal", to="xss-co", title=NASTY, notes=NASTY,
                sources=[{"url": "https://example.com/x", "publisher": NASTY}])
    r = client.post("/api/deals", json={"record": deal, "reason": "x"})
    assert r.status_code == 201, r.text
    assert loopscope.load(folder).party("xss-co").name == NASTY

    checks = [
        (client.get("/api/parties/xss-co"), lambda b: b["record"]["name"]),
        (client.get("/api/deals/xss-deal"), lambda b: b["record"]["title"]),
        (client.get("/api/deals/xss-deal"), lambda b: b["record"]["sources"][0]["publisher"]),
        (client.get("/api/deals", params={"party": "xss-co"}), lambda b: b[0]["title"]),
        (client.get("/api/deals", params={"party": "xss-co"}), lambda b: b[0]["dst_name"]),
        (client.get("/api/parties"), lambda b: next(p["name"] for p in b if p["id"] == "xss-co")),
        (client.get("/api/network"), lambda b: next(e["source_name"] for e in b["edges"] if e["id"] == "xss-deal")),
        (client.get("/api/network"), lambda b: next(n["name"] for n in b["nodes"] if n["id"] == "xss-co")),
        (client.get("/api/changes"), lambda b: b[-1]["reason"]),
    ]
    for r, pick in checks:
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert pick(r.json()) == NASTY

    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "alert(" not in page.text and "xss" not in page.text and "NVIDIA" not in page.text
    csp = page.headers["content-security-policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src and "'self'" in script_src
    assert "frame-ancestors 'none'" in csp and page.headers["x-frame-options"] == "DENY"


# ---------------------------------------------------------------------------------------------- paths
@pytest.mark.parametrize("name", ["../outside.yaml", "/etc/passwd", "..%2f..%2fx.yaml", "..\\outside.yaml",
                                  "sub/../../outside.yaml", ".loopscope-changes.jsonl", "README.md", "new.yaml",
                                  "c:/outside.yaml", "\x00.yaml"])
def test_no_file_parameter_reaches_outside_the_ledger(client, folder, name):
    before = snapshot(folder.parent)
    r = client.post("/api/deals", json={"record": NEW_DEAL, "reason": "x", "file": name})
    assert r.status_code == 400, r.text
    assert snapshot(folder.parent) == before
    assert not Path("/etc/passwd.tmp").exists()


def test_a_file_of_the_ledger_can_be_named(client, folder):
    r = client.post("/api/deals", json={"record": NEW_DEAL, "reason": "x", "file": "deals-others.yaml"})
    assert r.status_code == 201 and r.json()["entry"]["file"] == "deals-others.yaml"
    assert "nvidia-example-2026" in (folder / "deals-others.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("url", ["/static/../../pyproject.toml", "/static/%2e%2e/app.py", "/static/%2e%2e%2fapp.py",
                                 "/static/..%2F..%2Fpyproject.toml", "/static/app.py", "/static/index.html",
                                 "/api/deals/..%2F..%2Fetc", "/api/deals/..%2F..%2Fpyproject.toml",
                                 "/api/parties/..%2Fparties/page", "/api/figures/%2e%2e"])
def test_no_url_reads_a_file(bundled, url):
    r = bundled.get(url)
    assert r.status_code == 404
    assert "[project]" not in r.text and "def create_app" not in r.text and "root:" not in r.text


def test_the_static_files_are_served(bundled):
    r = bundled.get("/static/dashboard.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert bundled.get("/static/cytoscape.min.js").status_code == 200


# ---------------------------------------------------------------------------------------------- stress tests
def test_stress_matches_stress_test(bundled, ledger):
    from loopscope.stress import stress_test

    r = bundled.post("/api/stress", json={"scenario": "openai-cannot-pay"})
    assert r.status_code == 200, r.text
    want = stress_test(ledger, "openai-cannot-pay")
    total = float(want.central.loss[0].sum())
    assert total > 0 and r.json()["result"]["totals"]["loss_usd"] == pytest.approx(total, rel=1e-12)
    assert r.json()["result"]["cascade"] == want.cascade()
    assert r.json()["view"]["rows"]


def test_a_custom_scenario(bundled, ledger):
    from loopscope.stress import stress_test
    from loopscope.stress.scenario import Scenario

    scenario = {"name": "x", "shocks": [{"type": "pays_fraction", "party": "openai", "fraction": 0.5}]}
    r = bundled.post("/api/stress", json={"scenario": scenario})
    assert r.status_code == 200, r.text
    want = stress_test(ledger, Scenario.model_validate(scenario))
    assert r.json()["result"]["totals"]["loss_usd"] == pytest.approx(float(want.central.loss[0].sum()))
    assert r.json()["view"]["name"] == "x"
    full = bundled.post("/api/stress", json={"scenario": "openai-cannot-pay"}).json()["result"]["totals"]["loss_usd"]
    assert r.json()["result"]["totals"]["loss_usd"] < full


def test_bad_scenarios_are_422(bundled):
    r = bundled.post("/api/stress", json={"scenario": {"name": "x", "shocks": [
        {"type": "pays_fraction", "party": "nobody", "fraction": 0.5}]}})
    assert r.status_code == 422 and "nobody" in r.json()["detail"]
    r = bundled.post("/api/stress", json={"scenario": {"name": "x", "shocks": [{"type": "meteor"}]}})
    assert r.status_code == 422 and r.json()["detail"] == "invalid scenario" and r.json()["problems"]
    assert r.json()["problems"][0]["field"].startswith("shocks.0")
    r = bundled.post("/api/stress", json={"scenario": {"name": "x", "shocks": [
        {"type": "pays_fraction", "party": "openai", "fraction": 1.5}]}})
    assert r.status_code == 422 and any("fraction" in p["field"] for p in r.json()["problems"])
    r = bundled.post("/api/stress", json={"scenario": "no-such-scenario"})
    assert r.status_code == 422 and "no-such-scenario" in r.json()["detail"]
    assert bundled.post("/api/stress", json={"samples": 20001}).status_code == 422
    assert bundled.post("/api/stress", json={"model": "magic"}).status_code == 422


def test_a_stress_job_reports_progress_and_its_result(bundled, ledger):
    from loopscope.stress import stress_test

    r = bundled.post("/api/stress/jobs", json={"scenario": "openai-cannot-pay", "samples": 4000, "seed": 7})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] in ("queued", "running") and job["total"] == 4000
    deadline = time.monotonic() + 60
    seen = []
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, "the job did not finish within 60 s"
        time.sleep(0.05)
        job = bundled.get(f"/api/stress/jobs/{job['id']}").json()
        seen.append(job["done"])
    assert job["state"] == "done" and job["error"] is None, job["error"]
    assert job["done"] == job["total"] == 4000
    assert seen == sorted(seen)
    result = job["result"]["result"]
    assert result["samples"] == 4000 and result["seed"] == 7
    want = stress_test(ledger, "openai-cannot-pay", samples=4000, seed=7)
    assert result["totals"]["loss_usd"] == pytest.approx(float(want.central.loss[0].sum()))
    assert result["monte_carlo"]["total_loss_usd"]["median"] == pytest.approx(
        float(__import__("numpy").median(want.draws.loss.sum(axis=1))))
    missing = bundled.get("/api/stress/jobs/no-such-job")
    assert missing.status_code == 404 and "no-such-job" in missing.json()["detail"]
    bad = bundled.post("/api/stress/jobs", json={"scenario": {"name": "x", "shocks": [
        {"type": "pays_fraction", "party": "nobody", "fraction": 0.5}]}})
    assert bad.status_code == 422


# ---------------------------------------------------------------------------------------------- request details
def test_the_section_is_not_a_parameter(client, folder):
    """Each section's routes know their section; ?section=... neither shows in the schema nor works."""
    assert client.get("/api/deals/nvidia", params={"section": "parties"}).status_code == 404
    party = client.get("/api/parties/nvidia").json()
    before = snapshot(folder.parent)
    r = client.put("/api/deals/nvidia", params={"section": "parties"},
                   json={"record": dict(party["record"], ticker="X"), "version": party["version"], "reason": "x"})
    assert r.status_code == 404 and snapshot(folder.parent) == before
    r = client.post("/api/parties", params={"section": "deals"}, json={"record": NEW_DEAL, "reason": "x"})
    assert r.status_code == 422 and snapshot(folder.parent) == before
    paths = client.get("/openapi.json").json()["paths"]
    for methods in paths.values():
        for operation in methods.values():
            assert "section" not in {p["name"] for p in operation.get("parameters", [])}


def test_every_422_is_documented_as_what_it_is(bundled):
    schema = bundled.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(schema)
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if operation.get("parameters") or "requestBody" in operation:
                assert operation["responses"]["422"]["content"]["application/json"]["schema"] == \
                    {"$ref": "#/components/schemas/ErrorOut"}, (method, path)


@pytest.mark.parametrize("url, field", [
    ("/api/deals?as_of=0", "query.as_of"),  # would be 1 January 1970 (seconds since then)
    ("/api/deals?as_of=1750000000", "query.as_of"),
    ("/api/network?as_of=20250601", "query.as_of"),
    ("/api/deals?as_of=2025-06-01&as_of=2026-01-01", "query.as_of"),  # not silently the last one
    ("/api/cycles?max_length=3&max_length=6", "query.max_length"),
    ("/api/labels?lang=de&lang=en", "query.lang"),
    ("/api/deals?min_amount=-1", "query.min_amount"),
    ("/api/cycles?max_length=1", "query.max_length"),
])
def test_query_values_are_what_the_schema_says(bundled, url, field):
    r = bundled.get(url)
    assert r.status_code == 422, r.text
    assert [p["field"] for p in r.json()["problems"]] == [field]


def test_lists_can_be_given_once_or_repeated(bundled, ledger):
    one = [d["id"] for d in bundled.get("/api/deals", params={"kind": "equity"}).json()]
    two = [d["id"] for d in bundled.get("/api/deals", params={"kind": ["equity", "loan"]}).json()]
    assert one == expected_deals(ledger, kind=["equity"]) and two == expected_deals(ledger, kind=["equity", "loan"])
    assert set(one) < set(two)


@pytest.mark.parametrize("body, field", [
    ({"seed": False}, "seed"), ({"samples": True}, "samples"), ({"samples": "5"}, "samples"), ({"seed": 1.5}, "seed"),
    ({"samples": -1}, "samples"), ({"lang": "fr"}, "lang"), ({"extra": 1}, "extra"),
])
def test_stress_request_fields_are_strict(bundled, body, field):
    r = bundled.post("/api/stress", json=body)
    assert r.status_code == 422 and [p["field"] for p in r.json()["problems"]] == [field]


def test_retire_dates_are_days(client):
    version = client.get("/api/deals/openai-oracle-compute-2025").json()["version"]
    for day in (0, "1750000000", "20260201", "2026-02-30"):
        r = client.post("/api/deals/openai-oracle-compute-2025/retire", json={"version": version, "reason": "x", "date": day})
        assert r.status_code == 422 and r.json()["problems"][0]["field"] == "date", (day, r.text)
    assert client.get("/api/deals/openai-oracle-compute-2025").json()["version"] == version


def test_405_lists_every_method_of_the_path(bundled):
    for method, url, allowed in [("DELETE", "/api/deals", "GET, POST"), ("DELETE", "/api/deals/x", "GET, PUT"),
                                 ("OPTIONS", "/api/parties", "GET, POST"), ("GET", "/api/deals/x/retire", "POST"),
                                 ("PATCH", "/api/meta", "GET")]:
        r = bundled.request(method, url)
        assert r.status_code == 405 and r.headers["allow"] == allowed, (method, url, r.headers.get("allow"))


def test_stress_jobs_still_run_after_the_app_was_restarted():
    """Each TestClient (or server) start and stop runs the app's lifespan; the job pool must come back."""
    app = create_app()
    for _ in range(2):
        with TestClient(app, base_url=BASE) as client:
            job = client.post("/api/stress/jobs", json={"samples": 10}).json()
            deadline = time.monotonic() + 30
            while job["state"] in ("queued", "running") and time.monotonic() < deadline:
                time.sleep(0.02)
                job = client.get(f"/api/stress/jobs/{job['id']}").json()
            assert job["state"] == "done" and job["done"] == 10
