"""The JSON format: one file ``{"parties": [...], "deals": [...], "figures": [...], "rates": [...]}``
with the same records as the YAML format (dates as ``YYYY-MM-DD`` strings)."""

from __future__ import annotations

import json
from typing import Any

from .build import RawDocument
from .locate import TextLocator, duplicate_keys
from .model import SECTIONS
from .problems import Problem
from .records import jsonable, split_sections


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def read_text(text: str, file: str) -> RawDocument:
    locate = TextLocator(text)
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        found = duplicate_keys(text)
        problems = [Problem(file, line, None, None, key, f"duplicate key (first on line {first})")
                    for line, key, first in found] or [Problem(file, None, None, None, exc.key, "duplicate key")]
        return RawDocument(file, {}, locate, problems=problems)
    except json.JSONDecodeError as exc:
        return RawDocument(file, {}, locate, problems=[
            Problem(file, exc.lineno, None, None, None, f"JSON syntax error at column {exc.colno}: {exc.msg}")])
    sections, problems = split_sections(data, file, locate)
    return RawDocument(file, sections, locate, problems=problems)


def dump(sections: dict[str, list[dict]]) -> str:
    data = {name: jsonable(sections.get(name, [])) for name in SECTIONS}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
