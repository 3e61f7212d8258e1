"""Whatever bytes arrive, the readers answer with a ledger or a LedgerError listing problems; never a crash."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loopscope
from loopscope import LedgerError

from .strategies import ledgers

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

yaml_fragments = st.lists(st.sampled_from([
    "parties:", "deals:", "figures:", "rates:", "- ", "  ", "id: a", "id: b", "kind: equity", "kind: company",
    "name: A", "from: a", "to: b", "title: t", "announced: 2025-01-10", "amount: {value: 1e9, currency: USD, kind: exact}",
    "history: [{date: 2025-01-10, status: announced}]", "sources: [{url: 'https://e.org', publisher: E}]",
    "value: -1", "{", "}", "[", "]", ":", "'", '"', "\n", "\t", "&a", "*a", "!!binary", "---", "...", "#", "\u2028", "\x00",
]), max_size=40).map("".join)


def _load_text(text: str, name: str):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8")
        try:
            return loopscope.load(path)
        except LedgerError as exc:
            assert exc.problems, "a LedgerError always lists its problems"
            for problem in exc.problems:
                assert str(problem).startswith(str(path)), problem
            return None


@SETTINGS
@given(st.one_of(yaml_fragments, st.text(max_size=200)))
def test_yaml_reader_never_crashes(text):
    _load_text(text, "fuzz.yaml")


@SETTINGS
@given(st.one_of(st.text(max_size=200), st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["parties", "deals", "id", "kind", "from", "to", "amount", "value", "x"]), children, max_size=4),
    max_leaves=12).map(json.dumps)))
def test_json_reader_never_crashes(text):
    _load_text(text, "fuzz.json")


@SETTINGS
@given(ledgers(max_parties=3, max_deals=3), st.data())
def test_csv_reader_never_crashes_on_damaged_files(ledger, data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ledger.save(folder, "csv")
        files = sorted(folder.iterdir())
        victim = data.draw(st.sampled_from(files))
        text = victim.read_text(encoding="utf-8")
        position = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 20))
        insert = data.draw(st.text(alphabet=',"\r\n[]{}:x1-', max_size=5))
        victim.write_text(text[:position] + insert + text[position + cut:], encoding="utf-8", newline="")
        try:
            loopscope.load(folder)
        except LedgerError as exc:
            assert exc.problems
