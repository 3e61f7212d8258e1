"""Bad input gets clear messages naming file, line, entity, field; every problem, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import loopscope
from loopscope import LedgerError

BAD = Path(__file__).parent / "bad"
CASES = sorted(p for p in BAD.iterdir() if not p.name.endswith(".expected"))


def _messages(path: Path) -> list[str]:
    with pytest.raises(LedgerError) as caught:
        loopscope.load(path)
    return [str(p).replace(str(path), path.name) for p in caught.value.problems]


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_bad_file_gets_its_messages(case):
    expected = (BAD / f"{case.name}.expected").read_text().splitlines()
    assert expected, "every case expects at least one message"
    assert _messages(case) == expected


def test_corpus_covers_what_the_issue_lists():
    text = "\n".join((BAD / f"{c.name}.expected").read_text() for c in CASES)
    for needle in (
        "unknown party", "duplicate deal", "duplicate party", "amount: required field is missing",
        "must be positive", "low (30e9) is greater than high (20e9)", "unknown deal kind", "unknown status",
        "unknown currency", "expected a date (YYYY-MM-DD)", "is not a valid date", "end 2025-12-31 is before start",
        "a deal from a party to itself", "sources: required field is missing", "sources[0].url: required field is missing",
        "superseded_by: unknown deal", "YAML syntax error at column", "expected text, got a number",
        "duplicate key", "unknown field", "JSON syntax error", "not valid JSON",
    ):
        assert needle in text, needle


def test_all_problems_are_reported_not_just_the_first():
    messages = _messages(BAD / "unknown-names.yaml")
    assert len(messages) == 4


def test_cli_lists_problems_and_exits_1_without_traceback():
    for case in CASES:
        run = subprocess.run([sys.executable, "-m", "loopscope", "validate", str(case)], capture_output=True, text=True)
        assert run.returncode == 1, case
        assert "Traceback" not in run.stderr + run.stdout
        expected = (BAD / f"{case.name}.expected").read_text().splitlines()
        shown = [line.replace(str(case), case.name) for line in run.stderr.splitlines()]
        assert shown[:-1] == expected
        assert shown[-1] == f"{len(expected)} problem{'s' if len(expected) != 1 else ''} in {case.name}"


def test_missing_path_is_a_clear_error(tmp_path):
    run = subprocess.run([sys.executable, "-m", "loopscope", "validate", str(tmp_path / "nope.yaml")],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert "nope.yaml: no such file or folder" in run.stderr


def test_non_utf8_file_is_reported(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("parties:\n- {id: a, name: M\xfcller, kind: company}\n".encode("latin-1"))
    assert _messages(path) == ["latin1.yaml:2: not UTF-8 text (invalid start byte at byte 26)"]


def test_valid_dataset_passes():
    run = subprocess.run([sys.executable, "-m", "loopscope", "validate"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("valid: ai-2025:")


def test_nothing_is_silently_coerced(tmp_path):
    # a quoted number is text, not a number; a number is not a date; YAML 1.1 booleans stay text
    path = tmp_path / "coerce.yaml"
    path.write_text(
        "parties:\n- {id: a, name: A, kind: company, country: NO}\n- {id: b, name: 'yes', kind: company}\n"
        "deals:\n- id: d1\n  kind: loan\n  from: a\n  to: b\n  title: t\n  announced: 20250110\n"
        "  amount: {value: '5', currency: USD, kind: exact}\n  history: [{date: 2025-01-10, status: announced}]\n"
        "  sources: [{url: 'https://e.org', publisher: E}]\n")
    assert _messages(path) == [
        "coerce.yaml:10: deal d1: announced: expected a date (YYYY-MM-DD), got a number 20250110",
        "coerce.yaml:11: deal d1: amount.value: expected a number, got text '5'",
    ]
