"""The canonical YAML format: reading (fast, with lines on demand) and writing (stable, minimal diffs).

Reading uses yaml-rs (a YAML 1.2 parser in Rust) with date parsing off, so every date arrives as
text and is checked by the model; PyYAML composes the text again only to find line numbers.

Writing is done here rather than by a generic dumper so that the output is exactly the canonical
form: keys in model order, small mappings (amounts, horizons, history entries, links) on one line
in flow style when they fit, big numbers with an exponent (``22.4e9``), strings quoted only when a
YAML parser could read them as something else.  ``write(read(x)) == x`` for canonical files.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import yaml_rs

from .build import RawDocument
from .locate import TextLocator, duplicate_keys
from .problems import Problem
from .numbers import format_number
from .records import split_sections

_ERROR_AT = re.compile(r"at line (\d+), column (\d+)")


def read_text(text: str, file: str) -> RawDocument:
    """Parse one YAML document into a :class:`RawDocument` (problems recorded, never raised)."""
    locate = TextLocator(text)
    try:
        data = yaml_rs.loads(text, parse_datetime=False)
    except yaml_rs.YAMLDecodeError as exc:
        return RawDocument(file, {}, locate, problems=_syntax_problems(str(exc), text, file))
    if isinstance(data, list) and text.lstrip().startswith("---") and len(data) != 1 and _multi(text):
        return RawDocument(file, {}, locate, problems=[
            Problem(file, 1, None, None, None, "expected one YAML document, found several (separated by ---)")])
    sections, problems = split_sections(data, file, locate)
    return RawDocument(file, sections, locate, problems=problems)


def _multi(text: str) -> bool:
    return sum(1 for line in text.splitlines() if line.rstrip() == "---") > 1


def _syntax_problems(message: str, text: str, file: str) -> list[Problem]:
    if message.startswith("duplicate mapping key"):
        found = duplicate_keys(text)
        if found:
            return [Problem(file, line, None, None, key, f"duplicate key (first on line {first})")
                    for line, key, first in found]
        return [Problem(file, None, None, None, None, message)]
    match = _ERROR_AT.search(message)
    reason = message.strip().splitlines()[-1].strip() if message.strip() else "invalid YAML"
    if match:
        return [Problem(file, int(match.group(1)), None, None, None,
                        f"YAML syntax error at column {match.group(2)}: {reason}")]
    return [Problem(file, None, None, None, None, f"YAML syntax error: {reason}")]


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------

#: Mappings written on one line (flow style) when they fit.
_FLOW_WIDTH = 110
_RESERVED = {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "~"}
_PLAIN = re.compile("^[A-Za-z$(][^,\\[\\]{}\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff-\uffff]*$")
_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


def format_string(value: str) -> str:
    """A string as a plain scalar when that is unambiguous, else double-quoted with escapes."""
    if (
        _PLAIN.match(value)
        and value == value.strip()
        and value.lower() not in _RESERVED
        and ": " not in value
        and " #" not in value
        and not value.endswith(":")
    ):
        return value
    quoted = json.dumps(value, ensure_ascii=False)
    return _PRINTABLE.sub(_escape, quoted)


def _escape(match: re.Match) -> str:
    code = ord(match.group(0))
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return format_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as a YAML scalar")


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


#: Keys whose values are written in flow style when they fit on one line.
_FLOW_KEYS = {"amount", "horizon", "period", "aliases"}
#: Lists whose items are written in flow style when they fit.
_FLOW_ITEMS = {"units", "history", "links", "schedule", "rates"}


def _emit_mapping(record: dict, indent: int, lines: list[str], first_prefix: str | None = None) -> None:
    pad = " " * indent
    for i, (key, value) in enumerate(record.items()):
        prefix = first_prefix if (i == 0 and first_prefix is not None) else pad
        if isinstance(value, (dict, list)):
            flow = _flow(value)
            if not value or (key in _FLOW_KEYS and len(prefix) + len(key) + 2 + len(flow) <= _FLOW_WIDTH):
                lines.append(f"{prefix}{key}: {flow}")
            elif isinstance(value, dict):
                lines.append(f"{prefix}{key}:")
                _emit_mapping(value, indent + 2, lines)
            else:
                lines.append(f"{prefix}{key}:")
                _emit_list(value, indent, lines, flow_items=key in _FLOW_ITEMS)
        else:
            lines.append(f"{prefix}{key}: {_scalar(value)}")


def _emit_list(items: list, indent: int, lines: list[str], flow_items: bool) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, dict):
            flow = _flow(item)
            if flow_items and len(pad) + 2 + len(flow) <= _FLOW_WIDTH:
                lines.append(f"{pad}- {flow}")
            else:
                _emit_mapping(item, indent + 2, lines, first_prefix=f"{pad}- ")
        elif isinstance(item, list):
            lines.append(f"{pad}- {_flow(item)}")
        else:
            lines.append(f"{pad}- {_scalar(item)}")


def dump_items(section: str, records: list[dict], indent: int = 0) -> list[str]:
    """The lines of ``records`` as items of ``section``'s list, with the dash at column ``indent``."""
    lines: list[str] = []
    _emit_list(records, indent, lines, flow_items=section in _FLOW_ITEMS)
    return lines


def dump(sections: dict[str, list[dict]]) -> str:
    """The canonical YAML text of the given sections (records as :func:`records.to_record` makes them)."""
    lines: list[str] = []
    for section, records in sections.items():
        if not records:
            continue
        if lines:
            lines.append("")
        lines.append(f"{section}:")
        _emit_list(records, 0, lines, flow_items=section in _FLOW_ITEMS)
    return "\n".join(lines) + "\n" if lines else ""
