"""The CSV format: a folder with ``parties.csv``, ``deals.csv``, ``figures.csv``, ``sources.csv`` and
``rates.csv``, for spreadsheets and databases.

Scalar fields are columns; nested amounts and periods are flattened (``amount_value``,
``period_start``); lists of small structures (history, units, links, horizon, aliases) are JSON
in one cell; sources are rows of ``sources.csv`` keyed by ``entity`` (deal, figure, rate) and
``id`` (a rate's id is ``CURRENCY@DATE``), in order.  An empty cell means the field is absent.
Numbers are written so that they read back exactly.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path as FsPath
from typing import Any

from .build import Path, RawDocument
from .problems import Problem
from .records import jsonable
from .numbers import format_number

# (column, path into the record, how the cell is encoded)
COLUMNS: dict[str, list[tuple[str, tuple[str, ...], str]]] = {
    "parties": [
        ("id", ("id",), "text"), ("name", ("name",), "text"), ("kind", ("kind",), "text"),
        ("aliases", ("aliases",), "json"), ("ticker", ("ticker",), "text"), ("country", ("country",), "text"),
        ("notes", ("notes",), "text"),
    ],
    "deals": [
        ("id", ("id",), "text"), ("kind", ("kind",), "text"), ("from", ("from",), "text"), ("to", ("to",), "text"),
        ("title", ("title",), "text"), ("announced", ("announced",), "text"),
        ("amount_value", ("amount", "value"), "text"), ("amount_currency", ("amount", "currency"), "text"),
        ("amount_kind", ("amount", "kind"), "text"), ("amount_low", ("amount", "low"), "text"),
        ("amount_high", ("amount", "high"), "text"), ("horizon", ("horizon",), "json"),
        ("units", ("units",), "json"), ("history", ("history",), "json"),
        ("superseded_by", ("superseded_by",), "text"), ("links", ("links",), "json"), ("notes", ("notes",), "text"),
    ],
    "figures": [
        ("id", ("id",), "text"), ("party", ("party",), "text"), ("metric", ("metric",), "text"),
        ("value", ("value",), "text"), ("unit", ("unit",), "text"), ("kind", ("kind",), "text"),
        ("low", ("low",), "text"), ("high", ("high",), "text"), ("date", ("date",), "text"),
        ("period_start", ("period", "start"), "text"), ("period_end", ("period", "end"), "text"),
        ("label", ("label",), "text"), ("counterparty", ("counterparty",), "text"), ("of", ("of",), "text"),
        ("notes", ("notes",), "text"),
    ],
    "rates": [("currency", ("currency",), "text"), ("date", ("date",), "text"), ("usd", ("usd",), "text")],
}
SOURCE_COLUMNS = ["entity", "id", "url", "publisher", "title", "date", "quote"]
FILES = {"parties": "parties.csv", "deals": "deals.csv", "figures": "figures.csv", "rates": "rates.csv"}
_ENTITY = {"deal": "deals", "figure": "figures", "rate": "rates"}


def _rows(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (first line, cells) of every row; rows may span lines (quoted newlines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    header: list[str] = []
    previous = 0
    for cells in reader:
        start = previous + 1
        previous = reader.line_num
        if not header:
            header = cells
            continue
        if cells:
            rows.append((start, cells))
    return header, rows


def _column_name(section: str, path: Path) -> str:
    """A model path as the CSV column that holds it (``amount.value`` → ``amount_value``)."""
    for column, target, _ in COLUMNS.get(section, []):
        if tuple(path[: len(target)]) == target:
            rest = path[len(target):]
            if not rest:
                return column
            suffix = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest)
            return column + suffix
    if path and path[0] in ("sources", "source"):
        return "sources" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:])
    return ".".join(str(p) for p in path)


def read_folder(folder: FsPath, display: str) -> list[RawDocument]:
    """Read the CSV files of a folder into one :class:`RawDocument` per entity file."""
    problems: list[Problem] = []
    sections: dict[str, list[dict]] = {}
    lines: dict[str, list[int]] = {}
    source_lines: dict[tuple[str, str], list[int]] = {}
    files: dict[str, str] = {}
    reported: set[tuple[str, int, str]] = set()

    for section, name in FILES.items():
        path = folder / name
        files[section] = f"{display}/{name}"
        sections[section], lines[section] = [], []
        if not path.exists():
            continue
        text = _read(path, files[section], problems)
        if text is None:
            continue
        header, rows = _rows(text)
        known = [c for c, _, _ in COLUMNS[section]]
        for column in header:
            if column not in known:
                problems.append(Problem(files[section], 1, None, None, column,
                                        f"unknown column (expected: {', '.join(known)})"))
        spec = {c: (target, enc) for c, target, enc in COLUMNS[section]}
        for line, cells in rows:
            if len(cells) != len(header):
                problems.append(Problem(files[section], line, None, None, None,
                                        f"row has {len(cells)} cells, the header has {len(header)}"))
            record: dict[str, Any] = {}
            for column, cell in zip(header, cells):
                if column not in spec or cell == "":
                    continue
                target, encoding = spec[column]
                value: Any = cell
                if encoding == "json":
                    try:
                        value = json.loads(cell)
                    except json.JSONDecodeError as exc:
                        ident = record.get("id")
                        reported.add((section, len(sections[section]), target[0]))
                        problems.append(Problem(files[section], line, section[:-1] if section != "parties" else "party",
                                                ident, column, f"not valid JSON ({exc.msg} at character {exc.pos})"))
                        continue
                node = record
                for part in target[:-1]:
                    node = node.setdefault(part, {})
                node[target[-1]] = value
            sections[section].append(record)
            lines[section].append(line)

    # sources belong to deals, figures and rates
    source_file = f"{display}/sources.csv"
    path = folder / "sources.csv"
    index = {
        (section, str(r.get("id") if section != "rates" else f"{r.get('currency')}@{r.get('date')}")): r
        for section in _ENTITY.values()
        for r in sections[section]
    }
    if path.exists():
        text = _read(path, source_file, problems)
        if text is not None:
            header, rows = _rows(text)
            for column in header:
                if column not in SOURCE_COLUMNS:
                    problems.append(Problem(source_file, 1, None, None, column,
                                            f"unknown column (expected: {', '.join(SOURCE_COLUMNS)})"))
            for line, cells in rows:
                row = {c: v for c, v in zip(header, cells) if c in SOURCE_COLUMNS and v != ""}
                entity, ident = row.pop("entity", None), row.pop("id", None)
                section = _ENTITY.get(entity or "")
                if section is None:
                    problems.append(Problem(source_file, line, None, None, "entity",
                                            f"unknown entity {entity!r} (expected one of: {', '.join(_ENTITY)})"))
                    continue
                owner = index.get((section, str(ident)))
                if owner is None:
                    problems.append(Problem(source_file, line, entity, ident, "id", f"source for an unknown {entity}"))
                    continue
                if section == "rates":
                    if "source" in owner:
                        problems.append(Problem(source_file, line, entity, ident, None, "a rate has only one source"))
                        continue
                    owner["source"] = row
                    source_lines[(section, str(ident))] = [line]
                else:
                    owner.setdefault("sources", []).append(row)
                    source_lines.setdefault((section, str(ident)), []).append(line)

    documents = []
    for section in FILES:
        documents.append(RawDocument(
            file=files[section],
            sections={section: sections[section]},
            locate=_locator(section, lines[section], sections[section], source_lines, source_file),
            text=True,
            problems=[p for p in problems if p.file == files[section]],
            field_names=_column_name,
            reported={r for r in reported if r[0] == section},
        ))
    documents[0].problems.extend(p for p in problems if p.file not in files.values())
    return documents


def _locator(section, lines, records, source_lines, source_file):
    def locate(path: Path):
        if len(path) < 2 or not isinstance(path[1], int) or path[1] >= len(lines):
            return None
        if len(path) >= 3 and path[2] in ("sources", "source"):
            record = records[path[1]]
            ident = record.get("id") if section != "rates" else f"{record.get('currency')}@{record.get('date')}"
            found = source_lines.get((section, str(ident)), [])
            which = path[3] if len(path) >= 4 and isinstance(path[3], int) else 0
            if which < len(found):
                return source_file, found[which]
        return lines[path[1]]

    return locate


def _read(path: FsPath, display: str, problems: list[Problem]) -> str | None:
    from .files import read_text_file

    text, problem = read_text_file(path, display)
    if problem is not None:
        problems.append(problem)
    return text


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------


def _cell(value: Any, encoding: str) -> str:
    if value is None:
        return ""
    if encoding == "json":
        return json.dumps(jsonable(value), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _get(record: dict, path: tuple[str, ...]) -> Any:
    node: Any = record
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def dump(sections: dict[str, list[dict]]) -> dict[str, str]:
    """The CSV files (name → text) for the given sections."""
    out: dict[str, str] = {}
    sources = io.StringIO()
    source_writer = csv.writer(sources, lineterminator="\r\n")
    source_writer.writerow(SOURCE_COLUMNS)
    for section, name in FILES.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([c for c, _, _ in COLUMNS[section]])
        for record in sections.get(section, []):
            writer.writerow([_cell(_get(record, target), enc) for _, target, enc in COLUMNS[section]])
            entity = {"deals": "deal", "figures": "figure", "rates": "rate"}.get(section)
            if entity is None:
                continue
            ident = record["id"] if section != "rates" else f"{record['currency']}@{_cell(record['date'], 'text')}"
            owned = [record["source"]] if section == "rates" else record.get("sources", [])
            for source in owned:
                source_writer.writerow([entity, ident] + [_cell(source.get(c), "text") for c in SOURCE_COLUMNS[2:]])
        out[name] = buffer.getvalue()
    out["sources.csv"] = sources.getvalue()
    return out
