"""From raw records (as any reader produces them) to a validated ledger, collecting every problem.

Readers turn a file into :class:`RawDocument` objects: the sections as plain lists of mappings,
plus a way to find the line of any field.  :func:`build` validates every record against the
model, checks references between records, and either returns the entities or raises one
:class:`~loopscope.ledger.problems.LedgerError` listing all problems.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from .model import SECTIONS, FieldProblem, Model, entity_key, record_key
from .vocabulary import CURRENCIES
from .problems import LedgerError, Problem

Path = tuple[Any, ...]


@dataclass
class RawDocument:
    """One input file, read but not yet validated.

    ``locate(path)`` gives the 1-based line of ``path`` = (section, index, field, ...) or of its
    nearest enclosing element (or ``(file, line)`` when it lies in another file, as CSV sources do); ``text`` says values arrive as text (CSV), so numbers may be strings;
    ``problems`` holds what the reader itself found (syntax errors, unknown sections).
    ``field_names`` may rename model paths for messages (CSV columns).
    """

    file: str
    sections: dict[str, list[Any]]
    locate: Callable[[Path], int | None | tuple[str, int | None]]
    text: bool = False
    problems: list[Problem] = field(default_factory=list)
    field_names: Callable[[str, Path], str] | None = None
    #: (section, index, field) the reader already reported (a cell it could not decode): the model's
    #: "missing" message for the same field would only repeat it
    reported: set[tuple[str, int, str]] = field(default_factory=set)


    def where(self, path: Path) -> tuple[str, int | None]:
        found = self.locate(path)
        return found if isinstance(found, tuple) else (self.file, found)


@dataclass
class Built:
    """Validated entities per section, in input order, and the file each came from."""

    entities: dict[str, list[Model]]
    origins: dict[tuple[str, str], str]


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _message(error: dict) -> tuple[Path, str]:
    """A pydantic error as (extra path, message in the project's words)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    loc: Path = tuple(error["loc"])
    if kind == "value_error" and isinstance(ctx.get("error"), FieldProblem):
        return loc + (ctx["error"].field,), str(ctx["error"])
    if kind == "missing":
        return loc, "required field is missing"
    if kind == "extra_forbidden":
        return loc, "unknown field"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, "expected a mapping of fields"
    if kind == "list_type":
        return loc, "expected a list"
    if kind == "too_short":
        return loc, "at least one entry is required"
    if kind == "value_error":
        return loc, str(ctx.get("error", error["msg"]))
    return loc, error["msg"]


def _known_fields(model: type[Model], path: Path) -> list[str] | None:
    """The field names allowed at ``path`` inside ``model`` (for 'unknown field' messages)."""
    current: Any = model
    for part in path[:-1]:
        if isinstance(part, int):
            continue
        info = getattr(current, "model_fields", {}).get(part) or next(
            (f for f in getattr(current, "model_fields", {}).values() if f.alias == part), None
        )
        if info is None:
            return None
        current = _inner_model(info.annotation)
        if current is None:
            return None
    fields = getattr(current, "model_fields", None)
    if fields is None:
        return None
    return [f.alias or name for name, f in fields.items()]


def _inner_model(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def build(documents: list[RawDocument]) -> Built:
    """Validate every record of every document; raise :class:`LedgerError` with all problems.

    Duplicates and references are checked on the raw records too, so that one broken field
    does not hide the other problems of the same record, nor cause "unknown party" elsewhere.
    """
    problems: list[Problem] = []
    entities: dict[str, list[Model]] = {name: [] for name in SECTIONS}
    origins: dict[tuple[str, str], str] = {}
    first_seen: dict[tuple[str, str], tuple[RawDocument, int]] = {}
    raw: dict[str, list[tuple[RawDocument, int, dict, str]]] = {name: [] for name in SECTIONS}

    for doc in documents:
        problems.extend(doc.problems)
        context = {"text": True} if doc.text else None
        for section, records in doc.sections.items():
            model, noun = SECTIONS[section]
            for index, record in enumerate(records):
                key = record_key(section, record)
                if not isinstance(record, dict):
                    problems.append(Problem(*doc.where((section, index)), noun, None, None,
                                            f"expected a mapping of fields, got {type(record).__name__}"))
                    continue
                entity = None
                try:
                    entity = model.model_validate(record, context=context)
                except ValidationError as exc:
                    for error in exc.errors():
                        loc, message = _message(error)
                        if loc and (section, index, loc[0]) in doc.reported:
                            continue
                        if error["type"] == "extra_forbidden":
                            allowed = _known_fields(model, loc)
                            if allowed:
                                message += f" (expected one of: {', '.join(allowed)})"
                        name = doc.field_names(section, loc) if doc.field_names else format_path(loc)
                        problems.append(Problem(*doc.where((section, index) + loc), noun, key, name or None, message))
                ident = entity_key(section, entity) if entity is not None else key
                if ident is None:
                    continue
                if (section, ident) in first_seen:
                    other_doc, other_index = first_seen[(section, ident)]
                    other_file, other_line = other_doc.where((section, other_index))
                    at = other_file if other_line is None else f"{other_file}:{other_line}"
                    field_name = "id" if section != "rates" else "date"
                    problems.append(Problem(*doc.where((section, index, field_name)), noun, ident, field_name,
                                            f"duplicate {noun} (first defined at {at})"))
                    continue
                first_seen[(section, ident)] = (doc, index)  # its line is looked up only if needed
                raw[section].append((doc, index, record, ident))
                if entity is not None:
                    origins[(section, ident)] = doc.file
                    entities[section].append(entity)

    problems.extend(_cross_references(raw))
    if problems:
        raise LedgerError(problems)
    return Built(entities, origins)


def _cross_references(raw: dict[str, list[tuple[RawDocument, int, dict, str]]]) -> list[Problem]:
    """References between records: parties of deals and figures, linked and superseding deals, rates."""
    problems: list[Problem] = []
    parties = {entry[3] for entry in raw["parties"]}
    deals = {entry[3] for entry in raw["deals"]}
    rated = {entry[2].get("currency") for entry in raw["rates"]} | {"USD"}

    def report(doc: RawDocument, section: str, index: int, ident: str, path: Path, message: str) -> None:
        name = doc.field_names(section, path) if doc.field_names else format_path(path)
        problems.append(Problem(*doc.where((section, index) + path), SECTIONS[section][1], ident, name, message))

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) else None

    for doc, index, record, ident in raw["deals"]:
        if ident in parties:  # one name, two things: every picture and table that names both would mix them up
            report(doc, "deals", index, ident, ("id",), f"{ident!r} is already the id of a party; a deal needs another id")
        for name in ("from", "to"):
            party = text(record.get(name))
            if party is not None and party not in parties:
                report(doc, "deals", index, ident, (name,), f"unknown party {party!r}")
        successor = text(record.get("superseded_by"))
        if successor is not None and successor not in deals:
            report(doc, "deals", index, ident, ("superseded_by",), f"unknown deal {successor!r}")
        links = record.get("links")
        for i, link in enumerate(links if isinstance(links, list) else []):
            target = text(link.get("deal")) if isinstance(link, dict) else None
            if target is not None and target not in deals:
                report(doc, "deals", index, ident, ("links", i, "deal"), f"unknown deal {target!r}")
            elif target == ident:
                report(doc, "deals", index, ident, ("links", i, "deal"), "a deal cannot link to itself")
        history = record.get("history")
        amounts = [(("amount",), record.get("amount"))] + [
            (("history", i, "amount"), e.get("amount"))
            for i, e in enumerate(history if isinstance(history, list) else []) if isinstance(e, dict)
        ]
        for path, amount in amounts:
            currency = text(amount.get("currency")) if isinstance(amount, dict) else None
            if currency is not None and currency not in rated and currency in CURRENCIES:
                report(doc, "deals", index, ident, path + ("currency",), f"no exchange rate for {currency} in the ledger's rates")
    for doc, index, record, ident in raw["figures"]:
        for name in ("party", "counterparty"):
            party = text(record.get(name))
            if party is not None and party not in parties:
                report(doc, "figures", index, ident, (name,), f"unknown party {party!r}")
        unit = text(record.get("unit"))
        if unit is not None and unit in CURRENCIES and unit not in rated:
            report(doc, "figures", index, ident, ("unit",), f"no exchange rate for {unit} in the ledger's rates")
    return problems
