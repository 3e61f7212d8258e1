"""FollowTheMoney export and import: the mapping, validity with the reference library, exact round
trips, entities from other tools, and every problem named with its line."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from loopscope.interop import ftm
from loopscope.ledger import Ledger, LedgerError
from loopscope.ledger.model import entity_key

from .strategies import ledgers

FTM_ID = re.compile(r"^[0-9a-zA-Z]([0-9a-zA-Z.\-]*[0-9a-zA-Z])?$")
ROLES = {"Payment": ("payer", "beneficiary"), "Ownership": ("owner", "asset"), "Debt": ("creditor", "debtor")}


@pytest.fixture(scope="module")
def bundled() -> Ledger:
    return Ledger.read(None)


@pytest.fixture(scope="module")
def entities(bundled) -> list[dict]:
    return ftm.to_entities(bundled)


def needs_ftm():
    return pytest.importorskip("followthemoney")


def by_id(entities: list[dict]) -> dict[str, dict]:
    return {e["id"]: e for e in entities}


def canonical(ledger: Ledger) -> dict[str, list]:
    """The four sections, each sorted by key (FtM files are sorted by entity id, not in ledger order)."""
    out = {}
    for section, entities in (("parties", ledger.parties), ("deals", ledger.deals),
                              ("figures", ledger.figures), ("rates", ledger.rates)):
        out[section] = [r for _, r in sorted(((entity_key(section, e), e) for e in entities), key=lambda pair: pair[0])]
    return out


def jsonl(path: Path, *lines: object) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines), encoding="utf-8")
    return path


def problems(path: Path) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(LedgerError) as caught:
        ftm.read_entities(path)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


# ---------------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------------


def test_every_exported_entity_loads_in_followthemoney_and_keeps_every_value(entities):
    needs_ftm()
    from followthemoney import model

    assert ftm.validate(entities) == []
    for entity in entities:  # the check validate makes, spelled out once
        proxy = model.get_proxy(entity, cleaned=False)
        assert proxy.to_dict()["properties"] == entity["properties"], entity["id"]


def test_schemata_follow_the_kinds_of_parties_and_deals(bundled, entities):
    count = Counter(e["schema"] for e in entities)
    parties = Counter(p.kind for p in bundled.parties)
    deals = Counter(d.kind for d in bundled.deals)
    assert count["Company"] == parties["company"] + parties["fund"] + parties["venture"]
    assert count["PublicBody"] == parties["government"]
    assert count["Person"] == parties["person"]
    assert count["LegalEntity"] == parties["other"]
    assert count["Ownership"] == deals["equity"]  # every equity deal of the dataset is in a company, fund or venture
    assert count["Debt"] == deals["loan"]
    assert count["Payment"] == sum(deals[k] for k in ("purchase", "credits", "warrant", "backstop", "lease"))
    assert count["Note"] == len(bundled.figures) + len(bundled.rates)
    assert sum(count.values()) == len(bundled.parties) + len(bundled.deals) + len(bundled.figures) + len(bundled.rates)


def test_every_deal_keeps_the_direction_of_the_money(bundled, entities):
    found = by_id(entities)
    kinds = set()
    for deal in bundled.deals:
        entity = found[ftm.entity_id("deals", deal.id)]
        source_role, target_role = ROLES[entity["schema"]]
        # value moves from → to: the payer, owner (investor) and creditor (lender) are `from`
        assert entity["properties"][source_role] == [ftm.entity_id("parties", deal.src)], deal.id
        assert entity["properties"][target_role] == [ftm.entity_id("parties", deal.dst)], deal.id
        assert entity["properties"]["date"] == [deal.announced.isoformat()]
        assert entity["properties"]["recordId"] == [deal.id]
        kinds.add(deal.kind)
    assert kinds == {"equity", "purchase", "warrant", "backstop", "lease", "loan"}

    loan = next(d for d in bundled.deals if d.kind == "loan")
    debt = found[ftm.entity_id("deals", loan.id)]["properties"]
    assert debt["debtor"] == [ftm.entity_id("parties", loan.dst)]  # the borrower owes the lender
    assert debt["creditor"] == [ftm.entity_id("parties", loan.src)]


def test_amounts_are_exact_only_when_the_ledger_says_so(bundled, entities):
    found = by_id(entities)
    seen = Counter()
    for deal in bundled.deals:
        props = found[ftm.entity_id("deals", deal.id)]["properties"]
        number = props.get("sharesValue") or props.get("amount")
        currency = props.get("sharesCurrency") or props.get("currency")
        assert currency == [deal.amount.currency]
        statement = next(line for line in props["summary"] if line.startswith("Amount: "))
        seen[deal.amount.kind] += 1
        if deal.amount.kind == "exact":
            assert number is not None and float(number[0]) == deal.amount.value
            assert statement.endswith("(exact)")
        else:
            assert number is None, deal.id  # a cap or an estimate never sits in FtM's bare number
            if deal.amount.kind == "undisclosed":
                assert statement == f"Amount: undisclosed ({deal.amount.currency})"
            else:
                assert "not an exact figure" in statement
    assert set(seen) == {"exact", "up_to", "estimate", "range", "undisclosed"}

    nvidia_openai = found[ftm.entity_id("deals", "nvidia-openai-loi-2025")]["properties"]
    assert "Amount: up to 100,000,000,000 USD (a cap, not an exact figure)" in nvidia_openai["summary"]


def test_parties_figures_and_rates(bundled, entities):
    found = by_id(entities)
    nebius = found["loopscope-party-nebius"]
    assert nebius["schema"] == "Company"
    assert nebius["properties"]["name"] == ["Nebius Group N.V."]
    assert nebius["properties"]["ticker"] == ["NBIS"]
    assert nebius["properties"]["jurisdiction"] == ["nl"]
    government = next(p for p in bundled.parties if p.kind == "government")
    assert found[ftm.entity_id("parties", government.id)]["schema"] == "PublicBody"
    figure = next(f for f in bundled.figures if f.counterparty is not None)
    note = found[ftm.entity_id("figures", figure.id)]
    assert note["schema"] == "Note"
    assert note["properties"]["entity"] == [ftm.entity_id("parties", figure.party), ftm.entity_id("parties", figure.counterparty)]
    assert note["properties"]["sourceUrl"] == list(dict.fromkeys(s.url for s in figure.sources))
    rate = bundled.rates[0]
    summary = found[ftm.entity_id("rates", entity_key("rates", rate))]["properties"]["summary"][0]
    assert summary.startswith(f"Exchange rate: 1 {rate.currency} = ")


def test_every_entity_carries_its_record(bundled, entities):
    for entity in entities:
        (payload,) = entity["properties"][ftm.PAYLOAD_PROPERTY]
        assert payload.startswith(ftm.PAYLOAD_PREFIX) and payload.isascii()
        data = json.loads(payload[len(ftm.PAYLOAD_PREFIX):])
        assert data["version"] == 1 and data["section"] in ("parties", "deals", "figures", "rates")
    deal = bundled.deals[0]
    entity = by_id(entities)[ftm.entity_id("deals", deal.id)]
    data = json.loads(entity["properties"]["description"][0][len(ftm.PAYLOAD_PREFIX):])
    assert data["record"]["id"] == deal.id and data["record"]["sources"][0]["url"] == deal.sources[0].url


def test_the_file_is_sorted_json_lines_and_the_same_every_time(bundled, tmp_path):
    first = ftm.write(bundled, tmp_path / "a.ftm.json")
    second = ftm.write(Ledger(reversed(bundled.parties), reversed(bundled.deals), bundled.figures, bundled.rates),
                       tmp_path / "b.ftm.json")
    assert first == [tmp_path / "a.ftm.json"]
    text = first[0].read_text(encoding="utf-8")
    assert text == second[0].read_text(encoding="utf-8")  # independent of the ledger's order
    lines = text.split("\n")
    assert lines[-1] == "" and all(lines[:-1])
    ids = [json.loads(line)["id"] for line in lines[:-1]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(FTM_ID.fullmatch(i) for i in ids)
    assert "Nokia Corporation" in text


def test_ids_that_ftm_would_refuse_get_a_hashed_id():
    assert ftm.entity_id("parties", "nvidia") == "loopscope-party-nvidia"
    assert ftm.entity_id("rates", "EUR@2025-01-31") == "loopscope-rate-eur-2025-01-31"
    odd = ftm.entity_id("parties", "a-")
    assert FTM_ID.fullmatch(odd) and odd.startswith("loopscope-party.")
    assert odd != ftm.entity_id("parties", "a--") and odd != ftm.entity_id("parties", "a")
    long = ftm.entity_id("deals", "x" * 300)
    assert FTM_ID.fullmatch(long) and len(long) <= 200


# ---------------------------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------------------------


def test_bundled_dataset_round_trips_exactly(bundled, tmp_path):
    needs_ftm()
    (path,) = ftm.write(bundled, tmp_path / "ai-2025.ftm.json")
    again, notes = ftm.read_entities(path)
    assert notes == []
    assert canonical(again) == canonical(bundled)
    assert [p.id for p in again.parties] == sorted(p.id for p in bundled.parties)  # file order


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ledgers())
def test_any_ledger_round_trips_and_ftm_keeps_every_value(tmp_path, ledger):
    needs_ftm()
    entities = ftm.to_entities(ledger)
    assert ftm.validate(entities) == []
    (path,) = ftm.write(ledger, tmp_path / "l.ftm.json")
    again, notes = ftm.read_entities(path)
    assert notes == []
    assert canonical(again) == canonical(ledger)
    again, _ = ftm.from_entities(entities)
    assert canonical(again) == canonical(ledger)


# ---------------------------------------------------------------------------------------------
# entities from other tools
# ---------------------------------------------------------------------------------------------

ACME = {"id": "acme-1", "schema": "Company", "properties": {"name": ["ACME Corp."], "alias": ["Acme"],
                                                             "jurisdiction": ["us"], "ticker": ["ACME"]}}
GLOBEX = {"id": "0f3c9e", "schema": "Company", "properties": {"name": ["Globex GmbH", "Globex"], "country": ["de"]}}
PAYMENT = {"id": "pay-2024-17", "schema": "Payment", "properties": {
    "payer": ["acme-1"], "beneficiary": ["0f3c9e"], "amount": ["1,250,000.50"], "currency": ["eur"],
    "date": ["2024-03-05"], "purpose": ["GPU cluster"], "sourceUrl": ["https://aleph.example/records/17"],
    "publisher": ["Aleph"], "retrievedAt": ["2024-06-01"]}}
OWNERSHIP = {"id": "own-1", "schema": "Ownership", "properties": {
    "owner": ["0f3c9e"], "asset": ["acme-1"], "startDate": ["2023-01-15T00:00:00"], "percentage": ["12.5%"],
    "sourceUrl": ["https://registry.example/acme"]}}
EUR_RATE = {"id": "loopscope-rate-eur-2024-01-02", "schema": "Note", "properties": {"name": ["EUR in USD"], "description": [
    ftm.PAYLOAD_PREFIX + json.dumps({"version": 1, "section": "rates", "record": {
        "currency": "EUR", "date": "2024-01-02", "usd": 1.1, "source": {"url": "https://ecb.example/", "publisher": "ECB"}}})]}}


def test_entities_of_other_tools_become_parties_and_deals(tmp_path):
    needs_ftm()
    address = {"id": "addr-1", "schema": "Address", "properties": {"full": ["1 Main St"]}}
    path = jsonl(tmp_path / "aleph.json", ACME, GLOBEX, PAYMENT, OWNERSHIP, address, EUR_RATE)
    ledger, notes = ftm.read_entities(path)
    assert notes == [f"{path}:5: Address addr-1: skipped (loopscope has nothing for FtM Address entities)"]

    acme, globex = ledger.party("acme-1"), ledger.party("0f3c9e")
    assert (acme.name, acme.kind, acme.aliases, acme.country, acme.ticker) == ("ACME Corp.", "company", ["Acme"], "US", "ACME")
    assert (globex.name, globex.aliases, globex.country) == ("Globex GmbH", ["Globex"], "DE")

    payment = ledger.deal("pay-2024-17")
    assert (payment.kind, payment.src, payment.dst) == ("purchase", "acme-1", "0f3c9e")  # payer → beneficiary
    assert (payment.amount.value, payment.amount.currency, payment.amount.kind) == (1250000.5, "EUR", "exact")
    assert payment.title == "GPU cluster"
    assert str(payment.announced) == "2024-03-05" and payment.status == "completed"
    assert [(s.url, s.publisher, s.date) for s in payment.sources] == [("https://aleph.example/records/17", "Aleph", None)]
    assert "Sources retrieved on 2024-06-01 (FtM retrievedAt)" in payment.notes

    ownership = ledger.deal("own-1")
    assert (ownership.kind, ownership.src, ownership.dst) == ("equity", "0f3c9e", "acme-1")  # owner invests in asset
    assert str(ownership.announced) == "2023-01-15"
    assert ownership.amount.kind == "undisclosed"
    assert [(u.value, u.unit) for u in ownership.units] == [(12.5, "percent")]
    assert ownership.sources[0].publisher == "registry.example"  # no publisher named: the page's host
    assert ownership.title == "Ownership from Globex GmbH to ACME Corp."


def test_a_debt_is_a_loan_from_the_creditor_and_ids_stay_unique(tmp_path):
    needs_ftm()
    bank = {"id": "Bank.1", "schema": "Organization", "properties": {"name": ["First Bank"]}}
    bank_person = {"id": "bank-1", "schema": "Person", "properties": {"name": ["Jane Bank"]}}
    debt = {"id": "bank-1-loan", "schema": "Debt", "properties": {
        "debtor": ["acme-1"], "creditor": ["Bank.1"], "amount": ["5000000"], "currency": ["USD"],
        "date": ["2025-02-01"], "sourceUrl": ["https://news.example/loan"], "publisher": ["News"]}}
    ledger, _ = ftm.read_entities(jsonl(tmp_path / "debt.json", ACME, bank, bank_person, debt))
    assert [p.id for p in ledger.parties] == ["acme-1", "bank-1", "bank-1-2"]
    assert ledger.party("bank-1").kind == "other" and ledger.party("bank-1-2").kind == "person"
    loan = ledger.deal("bank-1-loan")
    assert (loan.kind, loan.src, loan.dst, loan.amount.value) == ("loan", "bank-1", "acme-1", 5e6)


def test_a_payment_without_a_source_is_an_error_naming_its_line_and_property(tmp_path):
    needs_ftm()
    unsourced = {**PAYMENT, "properties": {k: v for k, v in PAYMENT["properties"].items() if k != "sourceUrl"}}
    path = jsonl(tmp_path / "x.json", ACME, GLOBEX, unsourced, EUR_RATE)
    with pytest.raises(LedgerError) as caught:
        ftm.read_entities(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.entity, problem.id, problem.field) == (str(path), 3, "Payment", "pay-2024-17", "sourceUrl")
    assert "at least one source" in problem.message
    assert str(problem).startswith(f"{path}:3: Payment pay-2024-17: sourceUrl: ")


def test_every_problem_of_a_file_is_reported_at_once_with_its_line(tmp_path):
    needs_ftm()
    undated = {"id": "p2", "schema": "Payment", "properties": {
        "payer": ["acme-1"], "beneficiary": ["0f3c9e"], "sourceUrl": ["https://x.example/"], "date": ["2024-03"]}}
    dangling = {"id": "p3", "schema": "Payment", "properties": {
        "payer": ["acme-1"], "beneficiary": ["nobody"], "sourceUrl": ["https://x.example/"], "date": ["2024-03-01"]}}
    bad_amount = {"id": "p4", "schema": "Payment", "properties": {
        "payer": ["acme-1"], "beneficiary": ["0f3c9e"], "amount": ["about 5m"], "currency": ["USD"],
        "sourceUrl": ["https://x.example/"], "date": ["2024-03-01"]}}
    path = jsonl(
        tmp_path / "bad.json",
        ACME,
        GLOBEX,
        '{"id": "broken", "schema": "Company", ',                              # 3: not JSON
        {"id": "z1", "schema": "Sprocket", "properties": {}},                  # 4: unknown schema
        {"id": "z2", "schema": "Company", "properties": {"name": ["Z"], "purpose": ["x"]}},  # 5: not a Company property
        {"schema": "Company", "properties": {"name": ["no id"]}},              # 6: no id
        undated,                                                               # 7: partial date
        dangling,                                                              # 8: unknown entity
        bad_amount,                                                            # 9: not a number
        {"id": "z3", "schema": "Thing", "properties": {}},                     # 10: abstract
        ACME,                                                                  # 11: duplicate
    )
    found = problems(path)
    lines = {line for line, _, _ in found}
    assert lines == {3, 4, 5, 6, 7, 8, 9, 10, 11}
    assert (3, None) == next((line, f) for line, f, m in found if line == 3)
    assert any(line == 4 and f == "schema" and "unknown FtM schema 'Sprocket'" in m for line, f, m in found)
    assert any(line == 5 and f == "purpose" and "Company has no property 'purpose'" in m for line, f, m in found)
    assert any(line == 6 and f == "id" for line, f, m in found)
    assert any(line == 7 and f == "date" and "'2024-03' is not a full date" in m for line, f, m in found)
    assert any(line == 8 and f == "beneficiary" and "unknown entity 'nobody'" in m for line, f, m in found)
    assert any(line == 9 and f == "amount" and "'about 5m' is not a number" in m for line, f, m in found)
    assert any(line == 10 and f == "schema" and "abstract" in m for line, f, m in found)
    assert any(line == 11 and f == "id" and "first on line 1" in m for line, f, m in found)


def test_malformed_json_on_line_3(tmp_path):
    needs_ftm()
    path = jsonl(tmp_path / "m.json", ACME, GLOBEX, "{not json}")
    ((line, field, message),) = problems(path)
    assert line == 3 and field is None and message.startswith("not a JSON entity")


def test_the_ledger_rules_apply_with_the_entity_line_and_ftm_property(tmp_path):
    needs_ftm()
    odd_currency = {**PAYMENT, "properties": {**PAYMENT["properties"], "currency": ["XYZ"]}}
    to_itself = {**PAYMENT, "id": "self", "properties": {**PAYMENT["properties"], "beneficiary": ["acme-1"]}}
    no_rate = {**PAYMENT, "id": "no-rate"}  # EUR, and the file has no EUR rate
    path = jsonl(tmp_path / "rules.json", ACME, GLOBEX, odd_currency, to_itself, no_rate)
    found = problems(path)
    assert (3, "currency") in {(line, f) for line, f, m in found if "unknown currency 'XYZ'" in m}
    assert (4, "beneficiary") in {(line, f) for line, f, m in found if "to itself" in m}
    assert (5, "currency") in {(line, f) for line, f, m in found if "no exchange rate for EUR" in m}


def test_a_changed_loopscope_record_is_checked_like_any_ledger(bundled, tmp_path):
    needs_ftm()
    entities = ftm.to_entities(bundled)
    position = next(i for i, e in enumerate(entities) if e["id"] == "loopscope-deal-nvidia-openai-loi-2025")
    payload = entities[position]["properties"]["description"][0].replace('"value":100000000000.0', '"value":-1')
    entities[position]["properties"]["description"] = [payload]
    entities[position + 1]["properties"]["description"] = ["loopscope:{oops"]
    path = tmp_path / "changed.json"
    path.write_text(ftm.dumps(entities), encoding="utf-8")
    found = problems(path)
    assert (position + 1, "amount.value", "must be positive, got -1") in found
    assert any(line == position + 2 and f == "description" and "not valid JSON" in m for line, f, m in found)


def test_notes_without_a_record_and_deals_of_non_parties_are_skipped(tmp_path):
    needs_ftm()
    vessel = {"id": "v1", "schema": "Vessel", "properties": {"name": ["Sea Star"]}}
    owns_vessel = {"id": "o2", "schema": "Ownership", "properties": {
        "owner": ["acme-1"], "asset": ["v1"], "date": ["2024-01-01"], "sourceUrl": ["https://x.example/"]}}
    note = {"id": "n1", "schema": "Note", "properties": {"description": ["hello"], "entity": ["acme-1"]}}
    ledger, notes = ftm.read_entities(jsonl(tmp_path / "s.json", ACME, vessel, owns_vessel, note))
    assert len(ledger.parties) == 1 and len(ledger.deals) == 0
    assert [n.split(": ", 1)[1] for n in notes] == [
        "Vessel v1: skipped (loopscope has nothing for FtM Vessel entities)",
        "Ownership o2: skipped (its asset v1 is a Vessel, not a party)",
        "Note n1: skipped (a Note without a loopscope record)",
    ]


def test_validate_reports_what_followthemoney_would_drop_or_change():
    needs_ftm()
    entities = [
        {"id": "a", "schema": "Company", "properties": {"name": ["  Spaced  "], "incorporationDate": ["yesterday"]}},
        {"id": "b", "schema": "Payment", "properties": {"payer": ["a"], "beneficiary": ["n"], "colour": ["red"]}},
        {"id": "n", "schema": "Note", "properties": {"name": ["a note"]}},
        {"id": "bad id!", "schema": "Company", "properties": {"name": ["x"]}},
    ]
    messages = ftm.validate(entities)
    assert any("Company a: name: FtM drops or changes '  Spaced  '" in m for m in messages)
    assert any("Company a: incorporationDate: FtM drops or changes 'yesterday'" in m for m in messages)
    assert any("Payment b: colour: not a property of Payment" in m for m in messages)
    assert any("Payment b: beneficiary: n is a Note, not a LegalEntity" in m for m in messages)
    assert any("Company bad id!: the id is not a valid FtM id" in m for m in messages)


def test_reading_without_followthemoney_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "followthemoney", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'loopscope[ftm]'")):
        ftm.read_entities(jsonl(tmp_path / "x.json", ACME))
    with pytest.raises(ImportError, match="loopscope\\[ftm\\]"):
        ftm.validate([ACME])
    assert ftm.to_entities(Ledger()) == []  # writing needs no library
