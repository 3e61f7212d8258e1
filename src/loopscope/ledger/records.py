"""Entities as plain records (the shape every format writes), and the sections of a raw document."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel

from .build import Path, RawDocument
from .model import SECTIONS
from .problems import Problem


def to_record(model: BaseModel) -> dict[str, Any]:
    """A model as an ordered mapping in canonical key order; absent fields and empty lists left out.

    Dates stay ``date`` objects; each writer renders them in its own way.
    """
    out: dict[str, Any] = {}
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None or (isinstance(value, list) and not value):
            continue
        out[info.alias or name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return to_record(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def jsonable(value: Any) -> Any:
    """Dates as ISO strings, recursively (for JSON and CSV cells)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def split_sections(data: Any, file: str, locate) -> tuple[dict[str, list[Any]], list[Problem]]:
    """Check the top level of a YAML or JSON document and return its sections."""
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return {}, [Problem(file, 1, None, None, None,
                            f"expected a mapping with sections {', '.join(SECTIONS)}, got {type(data).__name__}")]
    sections: dict[str, list[Any]] = {}
    problems = []
    for key, value in data.items():
        if key not in SECTIONS:
            problems.append(Problem(file, locate((key,)), None, None, str(key),
                                    f"unknown section (expected one of: {', '.join(SECTIONS)})"))
        elif value is None:
            sections[key] = []
        elif not isinstance(value, list):
            problems.append(Problem(file, locate((key,)), None, None, key, "expected a list of entries"))
        else:
            sections[key] = value
    return sections, problems


__all__ = ["Path", "RawDocument", "to_record", "jsonable", "split_sections"]
