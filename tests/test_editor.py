"""Editing a YAML ledger in place: only the changed entry's lines move, every change is validated,
versioned, atomic and logged."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loopscope
from loopscope.ledger import splice, yaml_format
from loopscope.ledger.editor import Conflict, EditError, Invalid, LedgerEditor, NotFound, ReadOnly, version_of
from loopscope.ledger.files import bundled_path
from loopscope.ledger.model import SECTIONS
from loopscope.ledger.records import to_record

NEW_DEAL = {
    "id": "nvidia-example-2026", "kind": "equity", "from": "nvidia", "to": "openai",
    "title": "An example investment", "announced": "2026-01-02",
    "amount": {"value": 2e9, "currency": "USD", "kind": "up_to"},
    "history": [{"date": "2026-01-02", "status": "announced"}],
    "sources": [{"url": "https://example.com/deal", "publisher": "Example News"}],
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "ledger"
    shutil.copytree(bundled_path(), target)
    return target


def _clock():
    return datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_rewriting_every_entry_unchanged_gives_the_same_bytes():
    count = 0
    for file in sorted(bundled_path().glob("*.yaml")):
        text = file.read_text(encoding="utf-8")
        raw = yaml_format.read_text(text, file.name).sections
        for section, found in splice.sections(text).items():
            assert len(found.items) == len(raw[section])
            for i, record in enumerate(raw[section]):
                canonical = to_record(SECTIONS[section][0].model_validate(record))
                assert splice.replace_entry(text, section, i, canonical) == text
                count += 1
    assert count > 250


def _outside_unchanged(old: str, new: str) -> tuple[int, int]:
    """Lines equal at the start and at the end of two texts."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return head, tail


def test_an_update_touches_only_the_lines_of_its_entry(folder):
    editor = LedgerEditor(folder, now=_clock)
    record, version, file = editor.record("deals", "openai-oracle-compute-2025")
    old = (folder / file).read_text(encoding="utf-8")
    changed = dict(record, title="OpenAI buys Oracle compute", notes="edited: \"quotes\", #hash, key: value, ü")
    change = editor.update("deals", "openai-oracle-compute-2025", changed, version, "clearer title")
    new = (folder / file).read_text(encoding="utf-8")
    head, tail = _outside_unchanged(old, new)
    span = old.splitlines()[head:len(old.splitlines()) - tail]
    assert len(span) <= len(yaml_format.dump_items("deals", [record])), "more than the entry's lines changed"
    reread = loopscope.load(folder)
    assert reread.deal("openai-oracle-compute-2025").title == "OpenAI buys Oracle compute"
    assert reread.deal("openai-oracle-compute-2025").notes == changed["notes"]
    assert change.version == version_of(to_record(reread.deal("openai-oracle-compute-2025")))
    before = loopscope.load(bundled_path())
    assert [to_record(d) for d in before.deals if d.id != "openai-oracle-compute-2025"] == \
        [to_record(d) for d in reread.deals if d.id != "openai-oracle-compute-2025"]


def test_comments_blank_lines_and_hand_formatting_elsewhere_survive(tmp_path):
    text = ("# my deals, kept by hand\n\nparties:\n  - id: a   # first\n    name: A\n    kind: company\n\n"
            "  - {id: b, name: B, kind: company}\n\n# the deals\ndeals:\n- id: a-b\n  kind: purchase\n  from: a\n  to: b\n"
            "  title: T\n  announced: 2025-01-01\n  amount: {value: 1e9, currency: USD, kind: exact}\n"
            "  history: [{date: 2025-01-01, status: announced}]\n  sources: [{url: 'https://x.org/1', publisher: X}]\n"
            "# trailing comment\n")
    path = tmp_path / "l.yaml"
    path.write_text(text, encoding="utf-8")
    editor = LedgerEditor(path, now=_clock)
    record, version, _ = editor.record("parties", "b")
    editor.update("parties", "b", dict(record, name="B Corp"), version, "full name")
    new = path.read_text(encoding="utf-8")
    assert new.replace("  - id: b\n    name: B Corp\n    kind: company\n", "  - {id: b, name: B, kind: company}\n") == text
    editor.create("deals", dict(NEW_DEAL, id="b-a", **{"from": "b", "to": "a"}, announced="2025-02-01",
                                history=[{"date": "2025-02-01", "status": "signed"}]), "reverse deal")
    newer = path.read_text(encoding="utf-8")
    assert newer.startswith(new.split("# trailing comment")[0])
    assert newer.endswith("    publisher: Example News\n# trailing comment\n")
    assert "# my deals, kept by hand" in newer and "# first" in newer and "# trailing comment" in newer
    assert [d.id for d in loopscope.load(path).deals] == ["a-b", "b-a"]


def test_line_endings_and_byte_order_mark_are_kept(tmp_path):
    text = "\ufeffparties:\r\n- id: a\r\n  name: A\r\n  kind: company\r\n- id: b\r\n  name: B\r\n  kind: company\r\n"
    path = tmp_path / "l.yaml"
    path.write_bytes(text.encode("utf-8"))
    editor = LedgerEditor(path, now=_clock)
    record, version, _ = editor.record("parties", "a")
    editor.update("parties", "a", dict(record, country="US"), version, "country")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\n" not in data.replace(b"\r\n", b"")
    assert data.decode("utf-8").endswith("- id: b\r\n  name: B\r\n  kind: company\r\n")
    assert loopscope.load(path).party("a").country == "US"


def test_a_new_entry_goes_beside_its_kind_and_into_empty_sections(tmp_path, folder):
    editor = LedgerEditor(folder, now=_clock)
    change = editor.create("deals", NEW_DEAL, "new investment")
    nvidia_files = {editor.record("deals", d.id)[2] for d in editor.ledger().deals if d.src == "nvidia"}
    assert change.file in nvidia_files
    assert loopscope.load(folder).deal("nvidia-example-2026").amount.kind == "up_to"
    path = tmp_path / "empty.yaml"
    path.write_text("parties:\n- {id: a, name: A, kind: company}\n- {id: b, name: B, kind: company}\ndeals: []\n", encoding="utf-8")
    editor = LedgerEditor(path, now=_clock)
    editor.create("deals", dict(NEW_DEAL, **{"from": "a", "to": "b"}), "first deal")
    assert [d.id for d in loopscope.load(path).deals] == ["nvidia-example-2026"]
    editor.retire("deals", "nvidia-example-2026", editor.record("deals", "nvidia-example-2026")[1], "gone", day=date(2026, 2, 1))
    assert loopscope.load(path).deal("nvidia-example-2026").status == "cancelled"


def test_a_second_edit_from_an_old_version_is_a_conflict_with_the_current_one(folder):
    tab1, tab2 = LedgerEditor(folder, now=_clock), LedgerEditor(folder, now=_clock)
    record, version, _ = tab1.record("deals", "nvidia-openai-loi-2025")
    tab1.update("deals", "nvidia-openai-loi-2025", dict(record, title="first"), version, "tab one")
    with pytest.raises(Conflict) as caught:
        tab2.update("deals", "nvidia-openai-loi-2025", dict(record, title="second"), version, "tab two")
    assert caught.value.status == 409 and caught.value.current["title"] == "first"
    assert caught.value.version == version_of(caught.value.current)
    assert loopscope.load(folder).deal("nvidia-openai-loi-2025").title == "first"
    with pytest.raises(Conflict):
        tab2.create("deals", dict(NEW_DEAL, id="nvidia-openai-loi-2025"), "duplicate")


def test_a_hand_edit_on_disk_is_noticed(folder):
    editor = LedgerEditor(folder, now=_clock)
    record, version, file = editor.record("parties", "nvidia")
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert "name: NVIDIA\n" in text
    path.write_text(text.replace("name: NVIDIA\n", "name: NVIDIA Corporation\n", 1), encoding="utf-8")
    assert editor.ledger().party("nvidia").name == "NVIDIA Corporation"
    with pytest.raises(Conflict):
        editor.update("parties", "nvidia", dict(record, ticker="NVDA"), version, "stale")


def test_invalid_changes_are_refused_with_validate_messages_and_nothing_is_written(folder):
    editor = LedgerEditor(folder, now=_clock)
    record, version, file = editor.record("deals", "openai-oracle-compute-2025")
    before = (folder / file).read_bytes()
    bad = dict(record, amount={"value": -3, "currency": "USD", "kind": "exact"}, to="nobody")
    with pytest.raises(Invalid) as caught:
        editor.update("deals", "openai-oracle-compute-2025", bad, version, "broken")
    assert (folder / file).read_bytes() == before and not editor.changes()
    fields = {p.field: p.message for p in caught.value.problems}
    assert fields["amount.value"] == "must be positive, got -3" and fields["to"] == "unknown party 'nobody'"
    # the same messages as `loopscope validate` on the same text written by hand
    copy = folder.parent / "copy"
    shutil.copytree(folder, copy)
    index = [d.get("id") for d in yaml_format.read_text(before.decode(), file).sections["deals"]].index("openai-oracle-compute-2025")
    (copy / file).write_text(splice.replace_entry(before.decode(), "deals", index, bad), encoding="utf-8")
    with pytest.raises(loopscope.LedgerError) as by_hand:
        loopscope.load(copy)
    assert [(p.line, p.field, p.message) for p in by_hand.value.problems] == \
        [(p.line, p.field, p.message) for p in caught.value.problems]
    with pytest.raises(Invalid):
        editor.update("deals", "openai-oracle-compute-2025", record, version, "  ")
    with pytest.raises(Invalid):
        editor.update("deals", "openai-oracle-compute-2025", dict(record, id="other-id"), version, "rename")
    with pytest.raises(Invalid) as missing_source:
        editor.create("deals", dict(NEW_DEAL, sources=[]), "no source")
    assert any(p.field == "sources" for p in missing_source.value.problems)


def test_read_only_and_the_bundled_dataset_refuse_writes(folder):
    with pytest.raises(ReadOnly):
        LedgerEditor(folder, read_only=True).create("deals", NEW_DEAL, "x")
    with pytest.raises(ReadOnly):
        LedgerEditor(None).create("deals", NEW_DEAL, "x")
    with pytest.raises(NotFound):
        LedgerEditor(folder).record("deals", "no-such-deal")
    with pytest.raises(NotFound):
        LedgerEditor(folder).record("rates", "x")


@pytest.mark.parametrize("name", ["../outside.yaml", "/etc/passwd", "..\\x.yaml", "sub/../../x.yaml", "README.md",
                                  ".loopscope-changes.jsonl", "x.json", "c:/x.yaml", "nope.yaml"])
def test_no_file_outside_the_ledger_can_be_written(folder, name):
    editor = LedgerEditor(folder)
    with pytest.raises(EditError):
        editor.create("deals", NEW_DEAL, "x", file=name)
    assert not (folder.parent / "outside.yaml").exists() and not (folder.parent / "x.yaml").exists()


def test_the_change_log_keeps_time_reason_and_what_was_removed(folder):
    editor = LedgerEditor(folder, now=_clock)
    record, version, _ = editor.record("figures", "openai-revenue-2025-06-30")
    editor.retire("figures", "openai-revenue-2025-06-30", version, "superseded by the annual figure")
    editor.create("deals", NEW_DEAL, "new")
    deal_version = editor.record("deals", "nvidia-example-2026")[1]
    editor.retire("deals", "nvidia-example-2026", deal_version, "letter of intent lapsed")
    log = editor.changes()
    assert [c["action"] for c in log] == ["retire", "create", "retire"]
    assert log[2]["before"] == json.loads(json.dumps(record, default=str)) and log[2]["after"] is None
    assert log[2]["reason"] == "superseded by the annual figure" and log[2]["time"] == "2026-03-01T12:00:00+00:00"
    assert log[0]["after"]["history"][-1] == {"date": "2026-03-01", "status": "cancelled", "note": "letter of intent lapsed"}
    assert "openai-revenue-2025-06-30" not in {f.id for f in loopscope.load(folder).figures}
    assert editor.changes(section="deals", ident="nvidia-example-2026")[0]["action"] == "retire"
    with pytest.raises(Conflict):  # already cancelled
        editor.retire("deals", "nvidia-example-2026", editor.record("deals", "nvidia-example-2026")[1], "again")


def test_a_failed_write_leaves_the_file_and_the_log_as_they_were(folder, monkeypatch):
    import os

    editor = LedgerEditor(folder, now=_clock)
    record, version, file = editor.record("deals", "openai-oracle-compute-2025")
    before = sorted((p.name, p.read_bytes()) for p in folder.iterdir())

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        editor.update("deals", "openai-oracle-compute-2025", dict(record, title="x"), version, "crash")
    assert sorted((p.name, p.read_bytes()) for p in folder.iterdir()) == before  # no temporary file left behind


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40).filter(lambda s: s.strip())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=_TEXT, notes=st.none() | _TEXT, index=st.integers(0, 200))
def test_any_text_round_trips_through_an_edit(tmp_path_factory, title, notes, index):
    folder = tmp_path_factory.mktemp("l") / "ledger"
    shutil.copytree(bundled_path(), folder)
    editor = LedgerEditor(folder, now=_clock)
    deal = editor.ledger().deals[index % len(editor.ledger().deals)]
    record, version, _ = editor.record("deals", deal.id)
    changed = dict(record, title=title)
    if notes is None:
        changed.pop("notes", None)
    else:
        changed["notes"] = notes
    editor.update("deals", deal.id, changed, version, "property test")
    again = loopscope.load(folder).deal(deal.id)
    assert again.title == title and again.notes == notes


def test_appending_after_a_last_entry_without_line_break(tmp_path):
    path = tmp_path / "l.yaml"
    path.write_text("parties:\n- {id: a, name: A, kind: company}\n- id: b\n  name: B\n  kind: company  # no line break", encoding="utf-8")
    LedgerEditor(path, now=_clock).create("parties", {"id": "c", "name": "C", "kind": "company"}, "third")
    assert path.read_text(encoding="utf-8").endswith("  kind: company  # no line break\n- id: c\n  name: C\n  kind: company\n")
    assert [p.id for p in loopscope.load(path).parties] == ["a", "b", "c"]


def test_a_flow_style_section_is_not_replaced_by_the_new_entry(tmp_path):
    path = tmp_path / "l.yaml"
    text = "parties: [{id: a, name: A, kind: company}, {id: b, name: B, kind: company}]\n"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EditError, match="flow style"):
        LedgerEditor(path, now=_clock).create("parties", {"id": "c", "name": "C", "kind": "company"}, "third")
    assert path.read_text(encoding="utf-8") == text


def test_ids_with_a_line_break_and_deal_ids_shared_with_parties_are_refused(folder):
    editor = LedgerEditor(folder, now=_clock)
    with pytest.raises(Invalid):
        editor.create("parties", {"id": "nvidia\n", "name": "x", "kind": "company"}, "lookalike")
    with pytest.raises(Invalid) as caught:
        editor.create("deals", dict(NEW_DEAL, id="oracle"), "a deal named like a party")
    assert any("already the id of a party" in p.message for p in caught.value.problems)
