"""Import a flows table (CSV, ``src,dst,amount,date``: a bank's or an analyst's export) as a deal ledger.

Each row becomes one deal between two parties, validated with the same rules and messages as any
ledger, and every problem is reported with the CSV file, line and column.  The mapping:

============================  =================================================================
CSV column                    ledger field
============================  =================================================================
``src``, ``dst`` (required)   the paying and the receiving party (``from`` and ``to``).  A value
                              that is a valid loopscope id (``nvidia``) is used as the id; any
                              other (``ACME Corp.``) gets a slug (``acme-corp``) and keeps the
                              original text as the party's name, so nothing is lost
``src_name``, ``dst_name``    the parties' display names (default: the original text)
``amount`` (required)         ``amount.value``, in ``currency`` (default: the ``--currency`` flag)
``low``, ``high``             the amount's bounds: the amount becomes an ``estimate`` unless
                              ``amount_kind`` says otherwise (``exact``, ``up_to``, ``estimate``,
                              ``range``)
``date`` (required)           the announcement date, and the date of the only history entry
``id`` or ``deal_id``         the deal id (default ``flow-<line>``)
``kind``                      the deal kind (default: the ``--kind`` flag; one of them is required:
                              the direction money flows depends on it)
``status``                    the deal's status (default: the ``--status`` flag, ``completed``: a row of a flows table
                              records money that moved)
``title``                     the deal's title (default: "<kind> from <src> to <dst>, <file> line N")
``source_url``, ``publisher`` the deal's source (default: the ``--source-url`` and ``--publisher``
``source_title``,             flags, for a file that comes from one place); every deal needs a
``source_date``, ``quote``    source, so a row without one is an error
``notes``                     the deal's notes
============================  =================================================================

Unknown columns are an error rather than silently dropped.  Free-text cells (the list
:data:`VERBATIM`) are kept exactly as written, spaces included; other cells lose surrounding spaces.  Parties named in several rows must
carry the same name.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..ledger.build import RawDocument, build
from ..ledger.ledger import Ledger
from ..ledger.model import ID_PATTERN
from ..ledger.problems import LedgerError, Problem

REQUIRED = ("src", "dst", "amount", "date")
OPTIONAL = ("src_name", "dst_name", "low", "high", "amount_kind", "currency", "id", "deal_id", "kind", "status",
            "title", "source_url", "publisher", "source_title", "source_date", "quote", "notes")
#: columns of free text, kept exactly as written (other cells lose surrounding spaces)
VERBATIM = frozenset({"src", "dst", "src_name", "dst_name", "title", "publisher", "source_title", "quote", "notes"})

#: model path (after the section and index) → the CSV column it came from, for messages
_COLUMN_OF = {
    ("from",): "src", ("to",): "dst", ("announced",): "date", ("amount", "value"): "amount",
    ("amount", "low"): "low", ("amount", "high"): "high", ("amount", "kind"): "amount_kind",
    ("amount", "currency"): "currency", ("history", 0, "status"): "status", ("history", 0, "date"): "date",
    ("sources", 0, "url"): "source_url", ("sources", 0, "publisher"): "publisher",
    ("sources", 0, "title"): "source_title", ("sources", 0, "date"): "source_date",
    ("sources", 0, "quote"): "quote", ("id",): "id", ("kind",): "kind", ("title",): "title", ("notes",): "notes",
}


@dataclass(frozen=True)
class Defaults:
    """Values for columns a file does not have (the command's flags)."""

    kind: str | None = None
    currency: str = "USD"
    status: str = "completed"
    source_url: str | None = None
    publisher: str | None = None
    source_title: str | None = None
    source_date: str | None = None


@dataclass
class _Parties:
    """The texts of the src and dst columns, their names and the line that named each."""

    names: dict[str, tuple[str, int]] = field(default_factory=dict)  # text → (name, line that named it)
    lines: dict[str, int] = field(default_factory=dict)  # text → first line
    explicit: dict[str, bool] = field(default_factory=dict)  # text → named by a src_name/dst_name cell

    def ids(self) -> dict[str, str]:
        """An id for every text: texts that are valid ids keep themselves; the others get a slug
        that no other party has (``acme``, ``acme-2``, ...)."""
        out = {text: text for text in self.lines if ID_PATTERN.fullmatch(text)}
        taken = set(out.values())
        for text in self.lines:
            if text in out:
                continue
            base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "party"
            ident, n = base, 2
            while ident in taken:
                ident, n = f"{base}-{n}", n + 1
            out[text] = ident
            taken.add(ident)
        return out


def slug(text: str) -> str:
    """The id a party named ``text`` gets (when no other party claims it first): itself if it is
    a valid id, else a lower-case slug.

    >>> slug("nvidia"), slug("ACME Corp."), slug("Bank 7 / Branch 12")
    ('nvidia', 'acme-corp', 'bank-7-branch-12')
    """
    parties = _Parties(lines={text: 1})
    return parties.ids()[text]


def read_flows_ledger(path: Path | str, defaults: Defaults = Defaults()) -> Ledger:
    """Read a flows CSV as a validated :class:`Ledger` of parties and deals.

    Raises :class:`LedgerError` with every problem (file, line, column) found.
    """
    path = Path(path)
    name = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:  # line breaks inside cells stay as written
            text = handle.read()
    except FileNotFoundError:
        raise LedgerError([Problem(name, None, None, None, None, "no such file")]) from None
    except UnicodeDecodeError as exc:
        raise LedgerError([Problem(name, None, None, None, None, f"not UTF-8 text ({exc.reason})")]) from None
    except IsADirectoryError:
        raise LedgerError([Problem(name, None, None, None, None, "a folder, expected a CSV file")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise LedgerError([Problem(name, 1, None, None, None, "empty file: expected a header src,dst,amount,date")]) from None
    except csv.Error as exc:
        raise LedgerError([Problem(name, 1, None, None, None, f"not CSV: {exc}")]) from None
    problems: list[Problem] = []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(Problem(name, 1, None, None, None, f"missing column(s) {', '.join(missing)} in the header"))
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
    if unknown:
        problems.append(Problem(name, 1, None, None, None, f"unknown column(s) {', '.join(unknown)} "
                                f"(expected some of: {', '.join(REQUIRED + OPTIONAL)})"))
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        problems.append(Problem(name, 1, None, None, None, f"repeated column(s) {', '.join(repeated)}"))
    if "id" in header and "deal_id" in header:
        problems.append(Problem(name, 1, None, None, None, "give either id or deal_id, not both"))
    problems.extend(_check_defaults(defaults, name))
    if "kind" not in header and defaults.kind is None:
        problems.append(Problem(name, 1, None, None, None,
                                "no kind column and no default kind (--kind): the kind fixes which way money flows"))
    if problems:
        raise LedgerError(problems)

    parties = _Parties()
    deals: list[dict[str, Any]] = []
    deal_lines: list[int] = []
    last = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(name, reader.line_num, "row", None, None, f"not CSV: {exc}"))
            break
        line, last = last + 1, reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(Problem(name, line, "row", None, None, f"{len(row)} cells, the header has {len(header)}"))
            continue
        cell = {h: value if h in VERBATIM else value.strip() for h, value in zip(header, row)}
        for column in ("src", "dst"):
            if not cell[column].strip():
                problems.append(Problem(name, line, "row", None, column, "empty: every flow needs both parties"))
        if not cell["src"].strip() or not cell["dst"].strip():
            continue
        ends = {}
        for column in ("src", "dst"):
            text = cell[column]
            given = cell.get(f"{column}_name") or ""
            given = given if given.strip() else ""
            parties.lines.setdefault(text, line)
            known = parties.names.get(text)
            if known is None or (given and not parties.explicit.get(text)):
                parties.names[text] = (given or text, line)
                parties.explicit[text] = bool(given)
            elif given and known[0] != given:
                problems.append(Problem(name, line, "row", None, f"{column}_name",
                                        f"{given!r}, but line {known[1]} names party {text!r} {known[0]!r}"))
            ends[column] = text
        deals.append(_deal(cell, line, ends, name, defaults))
        deal_lines.append(line)

    ids = parties.ids()
    records = [{"id": ids[text], "name": parties.names[text][0], "kind": "other"} for text in parties.lines]
    party_lines = list(parties.lines.values())
    for deal in deals:
        deal["from"], deal["to"] = ids[deal["from"]], ids[deal["to"]]

    def locate(where: tuple) -> int | None:
        section, index = where[0], where[1]
        return (party_lines if section == "parties" else deal_lines)[index]

    def column_of(section: str, loc: tuple) -> str:
        if section == "parties":
            return "src/dst"
        return _COLUMN_OF.get(tuple(loc), ".".join(str(p) for p in loc))

    document = RawDocument(name, {"parties": records, "deals": deals}, locate, field_names=column_of)
    try:
        built = build([document])
    except LedgerError as exc:  # the date column feeds two fields: say each problem once
        raise LedgerError(problems + list(dict.fromkeys(exc.problems))) from None
    if problems:
        raise LedgerError(problems)
    return Ledger(built.entities["parties"], built.entities["deals"])


#: the flag each default comes from, and the type it must have
_FLAGS = {"kind": ("--kind", "DealKindName"), "currency": ("--currency", "Currency"), "status": ("--status", "Status"),
          "source_url": ("--source-url", "Url"), "publisher": ("--publisher", "Text"),
          "source_title": ("--source-title", "Text"), "source_date": ("--source-date", "Day")}


def _check_defaults(defaults: Defaults, file: str) -> list[Problem]:
    """Problems with the defaults themselves, reported once under the flag's name (not on every row)."""
    from pydantic import TypeAdapter, ValidationError

    from ..ledger import model

    problems = []
    for key, (flag, type_name) in _FLAGS.items():
        value = getattr(defaults, key)
        if value is None:
            continue
        try:
            TypeAdapter(getattr(model, type_name)).validate_python(value)
        except ValidationError as exc:
            message = exc.errors()[0]["msg"].removeprefix("Value error, ")
            problems.append(Problem(file, None, None, None, flag, message))
    return problems


def _deal(cell: dict[str, str], line: int, ends: dict[str, str], file: str, defaults: Defaults) -> dict[str, Any]:
    """The raw deal record of one row (validated later, with the row's line)."""

    def get(column: str, default: str | None = None) -> str | None:
        value = cell.get(column)
        return value if value is not None and value.strip() else default

    kind = get("kind", defaults.kind)
    low, high = get("low"), get("high")
    amount_kind = get("amount_kind") or ("estimate" if low or high else "exact")
    amount: dict[str, Any] = {"value": _number(cell["amount"]), "currency": get("currency", defaults.currency),
                              "kind": amount_kind}
    if low:
        amount["low"] = _number(low)
    if high:
        amount["high"] = _number(high)
    source: dict[str, Any] = {}
    for key, column, default in (("url", "source_url", defaults.source_url),
                                 ("publisher", "publisher", defaults.publisher),
                                 ("title", "source_title", defaults.source_title),
                                 ("date", "source_date", defaults.source_date), ("quote", "quote", None)):
        value = get(column, default)
        if value:
            source[key] = value
    record: dict[str, Any] = {
        "id": get("id") or get("deal_id") or f"flow-{line}",
        "kind": kind,
        "from": ends["src"],
        "to": ends["dst"],
        "title": get("title") or f"{kind} from {cell['src']} to {cell['dst']}, {Path(file).name} line {line}",
        "amount": amount,
        "history": [{"status": get("status", defaults.status)}],
        "sources": [source],
    }
    if cell["date"]:
        record["announced"] = record["history"][0]["date"] = cell["date"]
    if get("notes"):
        record["notes"] = cell["notes"]
    return record


_NUMBER = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")


def _number(text: str) -> float | str:
    """A number if the text is one in plain ASCII notation (``1000``, ``1.5e9``; not ``1_000``, not
    other scripts' digits, not ``inf``), else the text (the model reports it with its column)."""
    return float(text) if _NUMBER.fullmatch(text) else text
