"""Load a transaction ledger (CSV or Parquet) into a prepared-ledger folder, out of core, with DuckDB.

:func:`load_ledger` reads a user's ledger, checks every row, and writes the folder every scan engine
reads (see :mod:`loopscope.scan.prepared`).  Nothing is changed or dropped silently: a malformed row
stops the load (:class:`LoadError` lists the first ones and the total), unless the caller asks for a
*rejects* file, where every malformed row goes with its original cells; rows of another currency are
only left out when a currency is chosen, and are counted.

Inputs
    A CSV file (``.csv``, ``.csv.gz``: UTF-8, comma-separated, ``"`` quotes, a header row naming the
    columns; cells may hold commas, quotes and line breaks), a Parquet file (``.parquet``, ``.pq``) or
    a folder of Parquet parts (every ``*.parquet`` below it, in sorted path order; files and folders
    whose names start with ``.`` or ``_``, e.g. Spark's ``_temporary``, are skipped, and so is the
    output folder when it lies inside).  Columns are found by exact name (:class:`Columns`); other
    columns are ignored.  The optional ``id`` and ``currency`` columns are used when present under
    their default names; a name the caller gives must exist.  In a folder, an optional column must be
    in every part or in none.  A CSV header's repeated names get ``_1``, ``_2`` … (as DuckDB names
    them: AMLworld's second ``Account`` is ``Account_1``); an empty name becomes ``column<i>`` (its
    0-based position).  A CSV that is not well formed (a record with another number of cells than the
    header, an unclosed quote, bytes that are not UTF-8) is an error naming the line: it is never
    partly loaded.  Parts of a folder may differ in column order and in the types DuckDB can unify
    (e.g. integer and text account numbers both become text).

Rows
    Every row is named by ``source`` (the file's path as given; for a folder, the folder as given
    joined with the part's path inside it) and ``row``: the n-th record after the header, 1-based, in
    that file (a record may span several lines when a quoted cell holds line breaks; entirely blank
    lines are not records, as in pandas and DuckDB).  In a folder, rows restart at 1 in each part.

A row is malformed when
    - ``src`` or ``dst`` is missing, empty or only whitespace (cells are never trimmed: ``" a"`` and
      ``"a"`` are two accounts).  Parquet integer columns are accepted and become their decimal text;
    - ``amount`` is not a finite number ``>= 0``.  Text must be a plain ASCII decimal: an optional
      sign, digits with an optional ``.`` fraction, an optional exponent (``12``, ``12.50``, ``.5``,
      ``1e6``, ``1.5E-3``; the same syntax as ``loopscope import``).  ``1,000``, ``12,5``, ``1_000``,
      ``$12``, `` 12`` (spaces), other scripts' digits, ``NaN`` and ``inf`` are refused; ``-3`` is a
      number but negative, so refused too.  Parquet integer, float and decimal columns are read as
      numbers.  Amounts are kept as float64 (the nearest double, as ``float(text)`` gives);
    - ``timestamp`` cannot be read (see below);
    - ``currency`` (when that column is used) is missing, empty or only whitespace;
    - ``id`` (when that column is used) is missing, empty or only whitespace, or repeats the id of an
      earlier row (in source order; every repeat is malformed, the first row keeps it, and the
      message names that first row).  Repeats are found among all rows, whatever else is wrong.
    A row with several faults is reported once, under its first faulty field (in the order above),
    the message adding the others.  ``Rejection.field`` is the user's column name.

Timestamps (held as int64 microseconds since 1970-01-01 UTC)
    - Parquet ``TIMESTAMP`` (any unit; without a time zone it is taken as UTC; with one it is
      converted) and ``DATE`` (midnight UTC).  Nanosecond timestamps must be whole microseconds.
    - Text, by default ISO 8601: ``YYYY-MM-DD``, optionally followed by ``T`` or a space and
      ``hh:mm``, ``hh:mm:ss`` or ``hh:mm:ss.ffffff`` (1-6 decimals), optionally followed by ``Z`` or an
      offset ``+hh:mm``, ``+hhmm`` or ``+hh`` (converted to UTC).  Without an offset a time is UTC.
      Nothing else is guessed (no ``01/09/2025``, no ``infinity``, no surrounding spaces).
    - ``time_format``: a DuckDB ``strptime`` format for the text, e.g. ``%Y/%m/%d %H:%M`` (AMLworld);
      with ``%z`` the offset is converted, otherwise the time is UTC.
    - ``time_unit`` in ``s``, ``ms``, ``us``: the column holds numbers counting that unit since
      1970-01-01 UTC (Parquet integers or floats, or text: ASCII digits with an optional sign and at
      most as many decimals as reach a microsecond).  A float or decimal must come to whole
      microseconds.  A numeric timestamp column without ``time_unit`` is an error.

Currency
    With a currency column and no ``currency`` chosen, all accepted rows must share one currency, else
    :class:`LoadError`.  With ``currency`` chosen (exact, case-sensitive text) the well-formed rows of
    other currencies are left out and counted in ``LoadResult.other_currency``; choosing a currency
    no row has is an error.  Malformed rows are malformed whatever their currency.

Output (the prepared folder, see :mod:`~loopscope.scan.prepared`)
    ``transactions.parquet`` sorted by (``ts``, file order, ``row``) with ``idx`` 0 … n-1 in that
    order; accounts are numbered 0 … in sorted order of their names (Unicode code points, as Python
    sorts ``str``); ``id`` is the id column's text, or for a ledger without one the row number
    (``"17"``) for a single file and ``"part/path.parquet:17"`` (the part's path inside the folder) for
    a folder, so ids are always unique.  Files are written to a work folder inside ``folder`` (also
    DuckDB's spill space) and moved into place only when everything succeeded: a failed load leaves a
    previous prepared ledger there untouched.  ``meta.json`` is the last file moved in.

Rejects file (``rejects=``; ``.csv`` or ``.parquet``)
    One row per malformed row, in source order: ``source``, ``row``, ``field``, ``value``, ``message``
    and then every original column as text, under its own name (a name that clashes with the first
    five gets `` (ledger)`` appended).  CSV cells are copied exactly as read (an empty cell is an
    empty text); Parquet values are DuckDB's text for them (a null stays null).  It is written
    (possibly with no rows) whenever it is asked for.

Scale: DuckDB runs with ``memory_limit`` and spills to the work folder, so ledgers much larger than
memory load (the Parquet writer keeps one row group of ``ROW_GROUP`` rows in memory: a limit of a few
hundred MB is the floor for large ledgers).  Python holds counts, the first rejections, and while it
checks the written file's order, one row group's ``idx``/``ts``/``row`` at a time.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .prepared import ACCOUNTS, META, ROW_GROUP, TRANSACTIONS, PreparedLedger

LISTED = 50
"""How many rejections a :class:`LoadResult` or :class:`LoadError` carries (the total is counted)."""
IN_MESSAGE = 10
"""How many of them a :class:`LoadError` message shows."""
TIME_UNITS = {"s": 1_000_000, "ms": 1_000, "us": 1}
_UNIT_DECIMALS = {"s": 6, "ms": 3, "us": 0}
_UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds"}

NUMBER = r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?"
"""The amount syntax for text (a full match; the same as ``loopscope import``)."""
WHITESPACE = r"[\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f}\x{85}\p{Z}]*"
"""What Python's ``str.isspace`` calls whitespace, as an RE2 class (a full match: only whitespace)."""
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
ISO_8601 = rf"([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})(?:[Tt ]({_TIME})([Zz]|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)?)?"
"""Accepted text timestamps without ``time_format``: date, optional time, optional offset."""
_ISO_NANOS = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{7,}.*"

_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                  "UBIGINT", "UHUGEINT"}
_FLOAT_TYPES = {"FLOAT", "DOUBLE"}
_RESERVED = ("file_row_number", "file_index")  # DuckDB's virtual columns, shadowed by user columns of that name
_REJECT_COLUMNS = ("source", "row", "field", "value", "message")


@dataclass(frozen=True)
class Columns:
    """The names of the user's columns.  ``id`` and ``currency`` are optional: at their default names
    they are used when present; any other name must exist; ``None`` means never use one."""

    src: str = "src"
    dst: str = "dst"
    amount: str = "amount"
    timestamp: str = "timestamp"
    id: str | None = "id"
    currency: str | None = "currency"


@dataclass(frozen=True)
class Rejection:
    """One malformed row: where it is, which field, its raw value (text; ``None`` for a Parquet null)
    and what is wrong (a phrase that follows the field, e.g. ``'12,5' is not a number …``)."""

    source: str
    row: int
    field: str
    value: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.source} row {self.row}: {self.field}: {self.message}"


@dataclass(frozen=True)
class LoadResult:
    """What :func:`load_ledger` wrote and counted (``rows_read = accepted + rejected + other_currency``)."""

    prepared: PreparedLedger
    rows_read: int
    accepted: int
    rejected: int
    rejections: tuple[Rejection, ...]
    """The first :data:`LISTED` malformed rows in source order (all of them are in the rejects file)."""
    other_currency: int
    currency: str | None


class LoadError(ValueError):
    """A ledger that cannot be loaded as it is.  The message is complete sentences naming the file
    (and rows and fields); for malformed rows, ``rejections`` holds the first ones and ``total`` the
    count (both empty/0 otherwise)."""

    def __init__(self, message: str, rejections: tuple[Rejection, ...] = (), total: int = 0):
        super().__init__(message)
        self.rejections = tuple(rejections)
        self.total = total


@dataclass
class _Input:
    kind: str  # "csv" or "parquet"
    given: str  # the path as the caller gave it
    files: list[Path]
    sources: list[str]  # per file: its name in messages and in the `source` column
    rels: list[str]  # per file: its path inside the folder (folders only, for ids)
    folder: bool
    names: list[str] = field(default_factory=list)  # the columns (CSV: as read from the header)
    part_names: list[list[str]] = field(default_factory=list)  # Parquet: each file's columns
    types: dict[str, str] = field(default_factory=dict)  # column -> DuckDB type


def load_ledger(path, folder, *, columns: Columns = Columns(), rejects=None, currency: str | None = None,
                time_format: str | None = None, time_unit: str | None = None, memory_limit: str = "2GB",
                threads: int | None = None) -> LoadResult:
    """Load the ledger at ``path`` (CSV, Parquet, or a folder of Parquet parts) into the prepared
    folder ``folder``; see the module documentation for every rule.

    Raises :class:`LoadError` for a ledger that cannot be loaded as it is (missing columns, a broken
    file, malformed rows without ``rejects``, mixed currencies) and for arguments that do not fit it.
    """
    import duckdb

    if time_format is not None and time_unit is not None:
        raise LoadError("Give either a time format or a time unit, not both.")
    if time_unit is not None and time_unit not in TIME_UNITS:
        raise LoadError(f"The time unit must be one of s, ms, us, not {time_unit!r}.")
    if time_format is not None and not time_format:
        raise LoadError("The time format is empty: give a strptime format such as %Y/%m/%d %H:%M.")
    if currency is not None and not currency:
        raise LoadError("The chosen currency is empty.")
    for name in ("src", "dst", "amount", "timestamp", "id", "currency"):
        value = getattr(columns, name)
        if not (value is None and name in ("id", "currency")) and (not isinstance(value, str) or not value):
            raise LoadError(f"The {name} column's name must be a non-empty text, not {value!r}.")
    rejects_path = None if rejects is None else Path(rejects)
    if rejects_path is not None and _suffix(rejects_path) not in (".csv", ".parquet"):
        raise LoadError(f"The rejects file {rejects} must end in .csv or .parquet.")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise LoadError(f"{folder} exists and is not a folder: the prepared ledger is a folder.")

    source = _find_input(path, folder, rejects_path)
    if rejects_path is not None and rejects_path.resolve() in {f.resolve() for f in source.files}:
        raise LoadError(f"The rejects file {rejects} is the ledger itself: name another file.")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise LoadError(f"The number of threads must be a whole number of at least 1, not {threads!r}.")
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".loading-", dir=folder))
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                              "autoload_known_extensions": False})
    try:
        try:
            con.execute(f"SET memory_limit = {_lit(memory_limit)}")
        except duckdb.Error:
            raise LoadError(f"The memory limit {memory_limit!r} is not a size such as 2GB or 512MB.") from None
        con.execute(f"SET temp_directory = {_lit(str(work / 'spill'))}")
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET default_collation = ''")
        if threads is not None:
            con.execute(f"SET threads = {threads}")
        try:
            return _load(con, source, folder, work, columns, rejects_path, currency, time_format, time_unit)
        except duckdb.OutOfMemoryException as exc:
            raise LoadError(f"Loading {source.given} ran out of memory (memory limit {memory_limit}): "
                            f"{_first_line(exc)}. Give it a larger memory limit.") from None
        except duckdb.Error as exc:
            raise LoadError(f"Loading {source.given} failed: {_first_line(exc)}.") from None
        except OSError as exc:
            raise LoadError(f"Loading {source.given} failed: {exc.strerror or exc} ({exc.filename}).") from None
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------
# finding and describing the input


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in (".csv.gz", ".csv", ".parquet", ".pq"):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _find_input(path, out: Path, rejects: Path | None) -> _Input:
    given = os.fspath(path)
    p = Path(path)
    if not p.exists():
        raise LoadError(f"{given} does not exist.")
    if p.is_dir():
        skip = {q.resolve() for q in (out, rejects) if q is not None}
        parts = []
        for file in p.rglob("*.parquet"):
            rel = file.relative_to(p)
            if any(part.startswith((".", "_")) for part in rel.parts) or not file.is_file():
                continue
            resolved = file.resolve()
            if any(resolved == s or s in resolved.parents for s in skip):
                continue
            parts.append(rel)
        if not parts:
            raise LoadError(f"{given} is a folder without .parquet files: a folder is read as the parts of a "
                            f"Parquet ledger (a CSV ledger is one file).")
        parts.sort(key=lambda rel: rel.parts)
        return _Input("parquet", given, [p / rel for rel in parts], [os.path.join(given, str(rel)) for rel in parts],
                      [rel.as_posix() for rel in parts], True)
    suffix = _suffix(p)
    if suffix in (".csv", ".csv.gz"):
        return _Input("csv", given, [p], [given], [p.name], False)
    if suffix in (".parquet", ".pq"):
        return _Input("parquet", given, [p], [given], [p.name], False)
    raise LoadError(f"{given} is neither a CSV file (.csv, .csv.gz), nor a Parquet file (.parquet), nor a folder "
                    f"of Parquet files.")


def _csv_header(source: _Input) -> list[str]:
    file = source.files[0]
    opener = gzip.open if _suffix(file) == ".csv.gz" else open
    try:
        with opener(file, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
            header = next(csv.reader(text), None)
    except UnicodeDecodeError:
        raise LoadError(f"{source.given} is not UTF-8 text: save it as UTF-8 CSV.") from None
    except (OSError, EOFError, csv.Error) as exc:
        raise LoadError(f"{source.given} could not be read: {exc}.") from None
    if not header:
        raise LoadError(f"{source.given} is empty: a CSV ledger starts with a header row naming its columns "
                        f"(src, dst, amount, timestamp).")
    names, seen = [], set()
    for i, name in enumerate(header):
        name = name or f"column{i}"
        base, k = name, 0
        while name in seen:
            k += 1
            name = f"{base}_{k}"
        seen.add(name)
        names.append(name)
    return names


def _parquet_columns(con, source: _Input, wanted: list[str]) -> None:
    """Check every part's columns, then ask DuckDB for the (unified) types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for file, name in zip(source.files, source.sources):
        try:
            names = pq.read_schema(file).names
        except (pa.ArrowException, OSError) as exc:
            raise LoadError(f"{name} could not be read as a Parquet file: {_first_line(exc)}.") from None
        for reserved in _RESERVED:
            if reserved in names:
                raise LoadError(f"{name} has a column named {reserved!r}, a name DuckDB uses for its own row "
                                f"numbering; rename that column to load this ledger.")
        missing = [c for c in wanted if c not in names]
        if missing:
            raise _missing(name, missing, names)
        source.part_names.append(names)
    rows = con.execute(f"DESCRIBE SELECT * FROM {_parquet_reader(source)}").fetchall()
    source.types = {r[0]: r[1] for r in rows}
    source.names = [r[0] for r in rows]


def _parquet_reader(source: _Input) -> str:
    files = ", ".join(_lit(str(f)) for f in source.files)
    return f"read_parquet([{files}], union_by_name = true)"


def _csv_reader(source: _Input) -> str:
    cols = ", ".join(f"{_lit(n)}: 'VARCHAR'" for n in source.names)
    return (f"read_csv({_lit(str(source.files[0]))}, columns = {{{cols}}}, header = true, auto_detect = false, "
            f"delim = ',', quote = '\"', escape = '\"', skip = 0, allow_quoted_nulls = false)")


def _missing(name: str, missing: list[str], names: list[str]) -> LoadError:
    listed = ", ".join(repr(n) for n in names) or "none"
    hints = []
    lowered = {n.lower(): n for n in names}
    for m in missing:
        if m.lower() in lowered:
            hints.append(f"{lowered[m.lower()]!r} differs from {m!r} only in case")
    if len(names) == 1 and any(sep in names[0] for sep in (";", "\t", "|")):
        hints.append("the header looks separated by something other than commas: a CSV ledger is comma-separated")
    columns = "column" if len(missing) == 1 else "columns"
    message = (f"{name} has no {columns} {', '.join(repr(m) for m in missing)}; its columns are {listed}. "
               f"Name the columns to use (src, dst, amount, timestamp).")
    if hints:
        message += " Note: " + "; ".join(hints) + "."
    return LoadError(message)


# ---------------------------------------------------------------------------------------------------
# SQL pieces


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for prefix in ("Invalid Input Error: ", "IO Error: ", "Conversion Error: ", "Out of Memory Error: ",
                   "Binder Error: ", "Invalid Error: "):
        text = text.removeprefix(prefix)
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.rstrip(".")


_MACROS = [
    # A value as shown in a message: quoted, line breaks visible, long ones shortened.
    r"""CREATE MACRO ls_show(v) AS CASE WHEN v IS NULL THEN 'null' ELSE '''' ||
        replace(replace(replace(CASE WHEN length(v) > 60 THEN left(v, 57) || '...' ELSE v END,
        chr(10), '\n'), chr(13), '\r'), chr(9), '\t') || '''' END""",
    f"""CREATE MACRO ls_blank(v) AS CASE WHEN v IS NULL THEN 'missing (null)' WHEN v = '' THEN 'empty cell'
        WHEN (ord(v) <= 32 OR ord(v) >= 133) AND regexp_full_match(v, {_lit(WHITESPACE)})
        THEN ls_show(v) || ' is only whitespace' END""",
]


def _text(expr: str, kind: str, given: str, column: str, what: str) -> str:
    """SQL for a column as text (names, ids, currencies), refusing types that are neither."""
    if kind == "VARCHAR":
        return expr
    if kind in _INTEGER_TYPES:
        return f"CAST({expr} AS VARCHAR)"
    raise LoadError(f"{given}: column {column!r} holds {kind} values; {what} must be text or whole numbers.")


def _is_number(kind: str) -> bool:
    return kind in _INTEGER_TYPES or kind in _FLOAT_TYPES or kind.startswith("DECIMAL")


def _amount(r: str, kind: str, given: str, column: str) -> tuple[str, str]:
    """(value, error) SQL for the amount from the raw column ``r``; ``error`` may refer to ``amount``."""
    negative = "' is negative: amounts are 0 or more (a payment goes from src to dst)'"
    if kind == "VARCHAR":
        value = f"CASE WHEN regexp_full_match({r}, {_lit(NUMBER)}) THEN TRY_CAST({r} AS DOUBLE) END"
        error = f"""CASE WHEN {r} IS NULL THEN 'missing (null)' WHEN {r} = '' THEN 'empty cell'
            WHEN NOT regexp_full_match({r}, {_lit(NUMBER)}) THEN CASE
                WHEN regexp_full_match(lower({r}), '[-+]?(nan|inf|infinity)') THEN ls_show({r}) || ' is not a finite number'
                WHEN contains({r}, ',') THEN ls_show({r}) ||
                    ' is not a number (write plain decimals like 1234.5: no thousands separators, a point before decimals)'
                ELSE ls_show({r}) || ' is not a number (write plain decimals like 12.5)' END
            WHEN isinf(amount) THEN ls_show({r}) || ' is too large'
            WHEN amount < 0 THEN ls_show({r}) || {negative} END"""
        return value, error
    if _is_number(kind):
        shown = f"CAST({r} AS VARCHAR)"
        error = f"""CASE WHEN {r} IS NULL THEN 'missing (null)'
            WHEN isnan(amount) THEN {shown} || ' is not a number'
            WHEN isinf(amount) THEN {shown} || ' is not a finite number'
            WHEN amount < 0 THEN {shown} || {negative} END"""
        return f"CAST({r} AS DOUBLE)", error
    raise LoadError(f"{given}: column {column!r} holds {kind} values; amounts must be numbers or text.")


def _timestamp(r: str, kind: str, given: str, column: str, time_format: str | None, time_unit: str | None,
               format_type: str | None) -> tuple[str | None, str, str]:
    """(helper, value, error) SQL for the time in µs since 1970 UTC from the raw column ``r``.

    ``helper`` (or None) is an expression computed one level before ``value`` (as ``iso``); ``error``
    may refer to ``ts``, the value."""
    null = f"WHEN {r} IS NULL THEN 'missing (null)'"
    is_time = kind.startswith(("TIMESTAMP", "DATE"))
    if kind != "VARCHAR" and time_format is not None:
        raise LoadError(f"{given}: column {column!r} holds {kind} values, not text: a time format applies to text "
                        f"timestamps only.")
    if is_time and time_unit is not None:
        raise LoadError(f"{given}: column {column!r} holds {kind} values, not numbers: a time unit applies to "
                        f"numeric timestamps only.")
    nanos = "' has nanoseconds: loopscope keeps whole microseconds'"
    if is_time:
        if kind.endswith("_NS"):
            return None, f"epoch_ns({r}) // 1000", f"""CASE {null}
                WHEN epoch_ns({r}) % 1000 <> 0 THEN ls_show(CAST({r} AS VARCHAR)) || {nanos} END"""
        if kind in ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"):
            return None, f"epoch_us({r})", f"CASE {null} END"
        return None, f"epoch_us(CAST({r} AS TIMESTAMP))", f"CASE {null} END"
    if kind == "VARCHAR":
        empty = f"{null} WHEN {r} = '' THEN 'empty cell'"
        if time_unit is not None:
            decimals = _UNIT_DECIMALS[time_unit]
            pattern = r"[-+]?[0-9]+" + (rf"(\.[0-9]{{1,{decimals}}})?" if decimals else "")
            value = (f"CASE WHEN regexp_full_match({r}, {_lit(pattern)}) THEN "
                     f"TRY_CAST(TRY_CAST({r} AS DECIMAL(38, 6)) * {TIME_UNITS[time_unit]} AS BIGINT) END")
            rule = f"whole or with at most {decimals} decimals" if decimals else "whole"
            return None, value, f"""CASE {empty}
                WHEN NOT regexp_full_match({r}, {_lit(pattern)}) THEN ls_show({r}) ||
                    ' is not a number of {_UNIT_WORDS[time_unit]} since 1970-01-01 ({rule}, in ASCII digits)'
                WHEN ts IS NULL THEN ls_show({r}) || ' is out of range' END"""
        if time_format is not None:
            parsed = f"try_strptime({r}, {_lit(time_format)})"
            extra = ""
            if format_type and format_type.endswith("_NS"):
                value = f"epoch_ns({parsed}) // 1000"
                extra = f"WHEN epoch_ns({parsed}) % 1000 <> 0 THEN ls_show({r}) || {nanos}"
            else:
                value = f"epoch_us({parsed})"
            return None, value, f"""CASE {empty}
                WHEN {parsed} IS NULL THEN ls_show({r}) || ' does not match the time format ' || {_lit(_lit(time_format))}
                {extra} END"""
        helper = f"regexp_extract({r}, {_lit('^' + ISO_8601 + '$')}, ['d', 't', 'z'])"
        local = "TRY_CAST(iso.d || ' ' || CASE WHEN iso.t = '' THEN '00:00:00' ELSE iso.t END AS TIMESTAMP)"
        offset = ("(CASE WHEN iso.z IN ('', 'Z', 'z') THEN 0 ELSE "
                  "(CASE WHEN left(iso.z, 1) = '-' THEN -1 ELSE 1 END) * "
                  "(CAST(substr(iso.z, 2, 2) AS BIGINT) * 60 + "
                  "CASE WHEN length(iso.z) > 3 THEN CAST(right(iso.z, 2) AS BIGINT) ELSE 0 END) END) * 60000000")
        value = f"CASE WHEN iso.d <> '' THEN epoch_us({local}) - {offset} END"
        return helper, value, f"""CASE {empty}
            WHEN iso.d = '' AND regexp_full_match({r}, {_lit(_ISO_NANOS)}) THEN ls_show({r}) ||
                ' has more than 6 decimals of seconds: loopscope keeps whole microseconds'
            WHEN iso.d = '' THEN ls_show({r}) || ' is not an ISO 8601 date or time such as 2025-09-01 or 2025-09-01 08:30:00 (give a time format for other layouts)'
            WHEN ts IS NULL THEN ls_show({r}) || ' is not a valid date or time' END"""
    if _is_number(kind):
        if time_unit is None:
            raise LoadError(f"{given}: column {column!r} holds numbers ({kind}): say what they count with a time "
                            f"unit (s, ms or us since 1970-01-01 UTC).")
        factor = TIME_UNITS[time_unit]
        shown = f"ls_show(CAST({r} AS VARCHAR))"
        if kind in _INTEGER_TYPES:
            return None, f"TRY_CAST(CAST({r} AS HUGEINT) * {factor} AS BIGINT)", \
                f"CASE {null} WHEN ts IS NULL THEN {shown} || ' is out of range' END"
        if kind in _FLOAT_TYPES:
            scaled = f"(CAST({r} AS DOUBLE) * {factor})"
            value = (f"CASE WHEN isfinite({scaled}) AND {scaled} = round({scaled}) AND abs({scaled}) < 9.2e18 "
                     f"THEN CAST({scaled} AS BIGINT) END")
        else:
            scaled = f"(CAST({r} AS DECIMAL(38, 9)) * {factor})"
            value = f"CASE WHEN {scaled} = round({scaled}) THEN TRY_CAST({scaled} AS BIGINT) END"
        return None, value, f"""CASE {null} WHEN ts IS NULL THEN {shown} ||
            ' is not a whole number of microseconds since 1970-01-01 within range' END"""
    raise LoadError(f"{given}: column {column!r} holds {kind} values; timestamps must be dates and times, text, "
                    f"or numbers with a time unit.")


# ---------------------------------------------------------------------------------------------------
# the load


def _load(con, source: _Input, folder: Path, work: Path, columns: Columns, rejects: Path | None,
          currency: str | None, time_format: str | None, time_unit: str | None) -> LoadResult:
    import duckdb

    required = {"src": columns.src, "dst": columns.dst, "amount": columns.amount, "timestamp": columns.timestamp}
    for macro in _MACROS:
        con.execute(macro)
    if source.kind == "csv":
        source.names = _csv_header(source)
        missing = [c for c in required.values() if c not in source.names]
        if missing:
            raise _missing(source.given, missing, source.names)
        source.types = {n: "VARCHAR" for n in source.names}
    else:
        _parquet_columns(con, source, list(required.values()))
    used = dict(required)
    for name in ("id", "currency"):
        column, default = getattr(columns, name), getattr(Columns, name)
        if column is None:
            continue
        having = [column in names for names in source.part_names] if source.part_names else [column in source.names]
        if any(having) and not all(having):
            raise LoadError(f"{source.sources[having.index(False)]} has no column {column!r} but "
                            f"{source.sources[having.index(True)]} has: the {name} column must be in every part of "
                            f"{source.given} or in none.")
        if column in source.names:
            used[name] = column
        elif column != default:
            raise _missing(source.sources[0], [column], source.names)
    if currency is not None and "currency" not in used:
        raise LoadError(f"The currency {currency!r} was chosen but {source.given} has no currency column "
                        f"(its columns are {', '.join(repr(n) for n in source.names)}).")
    format_type = None
    if time_format is not None:
        try:
            format_type = con.execute(f"SELECT typeof(try_strptime('', {_lit(time_format)}))").fetchone()[0]
        except duckdb.Error as exc:
            raise LoadError(f"The time format {time_format!r} is not a valid strptime format: "
                            f"{_first_line(exc)}.") from None

    # 1. One pass over the ledger: each row's values, and the fault (or null) in each of its fields.
    csv_input = source.kind == "csv"
    kind = {name: source.types[column] for name, column in used.items()}
    raw = []  # level 1: the raw cells (a CSV's empty cell is '', not null)
    for name, column in used.items():
        raw.append(f"coalesce({_ident(column)}, '') AS r_{name}" if csv_input else f"{_ident(column)} AS r_{name}")
    if rejects is not None and csv_input:  # a CSV cannot be read again by row number: keep its cells
        raw += [f"coalesce({_ident(n)}, '') AS o{i}" for i, n in enumerate(source.names)]
    if csv_input:
        reader = _csv_reader(source)
    else:
        reader = _parquet_reader(source)
        raw = ["CAST(file_index AS INTEGER) AS f", "file_row_number + 1 AS row"] + raw
    values = [f"{_text('r_src', kind['src'], source.given, used['src'], 'account names')} AS src",
              f"{_text('r_dst', kind['dst'], source.given, used['dst'], 'account names')} AS dst"]
    errors = ["ls_blank(src) AS e_src", "ls_blank(dst) AS e_dst"]
    checks = [(used["src"], "e_src", "src"), (used["dst"], "e_dst", "dst")]
    amount_value, amount_error = _amount("r_amount", kind["amount"], source.given, used["amount"])
    values.append(f"{amount_value} AS amount")
    errors.append(f"{amount_error} AS e_amount")
    checks.append((used["amount"], "e_amount", "CAST(r_amount AS VARCHAR)"))
    helper, ts_value, ts_error = _timestamp("r_timestamp", kind["timestamp"], source.given, used["timestamp"],
                                            time_format, time_unit, format_type)
    values.append(f"{ts_value} AS ts")
    errors.append(f"{ts_error} AS e_ts")
    checks.append((used["timestamp"], "e_ts", "CAST(r_timestamp AS VARCHAR)"))
    for name in ("currency", "id"):
        if name in used:
            what = "currencies" if name == "currency" else "ids"
            values.append(f"{_text('r_' + name, kind[name], source.given, used[name], what)} AS {name}")
            errors.append(f"ls_blank({name}) AS e_{name}")
            checks.append((used[name], f"e_{name}", name))
    drop = ", ".join(f"r_{name}" for name in used if name not in ("amount", "timestamp"))
    drop += ", iso" if helper is not None else ""
    try:
        if csv_input:
            # A CSV has no row numbers: they are its records' positions, which only a plain scan into a
            # table keeps (any join, even one DuckDB makes of a long IN list, may reorder rows).
            con.execute(f"CREATE TABLE raw AS SELECT {', '.join(raw)} FROM {reader}")
            level1 = "SELECT 0 AS f, rowid + 1 AS row, * FROM raw"
        else:
            level1 = f"SELECT {', '.join(raw)} FROM {reader}"
        if helper is not None:
            level1 = f"SELECT *, {helper} AS iso FROM ({level1})"
        level2 = f"SELECT *, {', '.join(values)} FROM ({level1})"
        level3 = f"SELECT * EXCLUDE ({drop}), {', '.join(errors)} FROM ({level2})"
        con.execute(f"CREATE TABLE checked AS {level3}")
    except (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException) as exc:
        raise _read_error(source, exc) from None
    con.execute("DROP TABLE IF EXISTS raw")
    con.execute("CREATE VIEW v AS SELECT * FROM checked")
    con.execute("CREATE TABLE files (f INTEGER, source VARCHAR, rel VARCHAR)")
    con.executemany("INSERT INTO files VALUES (?, ?, ?)",
                    [[i, s, r] for i, (s, r) in enumerate(zip(source.sources, source.rels))])

    # 2. Repeated ids: every row after the first with an id is malformed.
    distinct, with_id = con.execute("SELECT count(DISTINCT id), count(id) FROM v WHERE e_id IS NULL").fetchone() \
        if "id" in used else (0, 0)
    if distinct != with_id:
        con.execute("""CREATE TABLE dups AS SELECT id, arg_min(f, (f::BIGINT << 40) + row) AS first_f,
                       arg_min(row, (f::BIGINT << 40) + row) AS first_row FROM v WHERE e_id IS NULL
                       GROUP BY id HAVING count(*) > 1""")
        later = "(checked.f, checked.row) <> (dups.first_f, dups.first_row)"
        first = ("'row ' || dups.first_row" if not source.folder
                 else "(SELECT source FROM files WHERE files.f = dups.first_f) || ' row ' || dups.first_row")
        con.execute(f"""UPDATE checked SET e_id = ls_show(checked.id) || ' repeats the id of ' || {first}
                        FROM dups WHERE checked.id = dups.id AND checked.e_id IS NULL AND {later}""")

    bad = " OR ".join(f"{error} IS NOT NULL" for _, error, _ in checks)
    ok = f"NOT ({bad})"
    rows_read, rejected = con.execute(f"SELECT count(*), count(*) FILTER ({bad}) FROM v").fetchone()

    # 3. The malformed rows: the first ones for display, all of them for the rejects file.
    faults = ", ".join(f"CASE WHEN {error} IS NOT NULL THEN {{'field': {_lit(column)}, 'value': {value}, "
                       f"'message': {error}}} END" for column, error, value in checks)
    con.execute(f"""CREATE VIEW bad AS SELECT v.*, files.source AS source_name,
                    list_filter([{faults}], lambda x: x IS NOT NULL) AS faults FROM v JOIN files USING (f) WHERE {bad}""")
    con.execute("""CREATE VIEW rejections AS SELECT *, faults[1].field AS field, faults[1].value AS value,
                    faults[1].message || CASE WHEN len(faults) > 1 THEN '; also ' || array_to_string(list_transform(
                    faults[2:], lambda x: x.field || ': ' || x.message), '; also ') ELSE '' END AS message FROM bad""")
    shown = tuple(Rejection(s, int(r), fld, val, msg) for s, r, fld, val, msg in con.execute(
        f"SELECT source_name, row, field, value, message FROM rejections ORDER BY f, row LIMIT {LISTED}").fetchall())
    if rejected and rejects is None:
        raise LoadError(_malformed_message(source, shown, rejected), shown, rejected)

    # 4. Currencies.
    other, chosen = 0, None
    if "currency" in used:
        counts = con.execute(f"SELECT currency, count(*) AS n FROM v WHERE {ok} GROUP BY currency "
                             f"ORDER BY n DESC, currency LIMIT 1001").fetchall()
        if currency is None:
            if len(counts) > 1:
                raise LoadError(f"{source.given} mixes currencies {_currencies(counts)}: convert first or choose one "
                                f"with --currency.")
            chosen = counts[0][0] if counts else None
        else:
            chosen = currency
            mine = con.execute(f"SELECT count(*) FROM v WHERE {ok} AND currency = {_lit(currency)}").fetchone()[0]
            other = rows_read - rejected - mine
            if other and not mine:
                raise LoadError(f"{source.given} has no rows in currency {currency!r}; its currencies are "
                                f"{_currencies(counts)}.")
    good = f"SELECT f, row, src, dst, amount, ts{', id' if 'id' in used else ''} FROM v WHERE {ok}"
    if currency is not None:
        good += f" AND currency = {_lit(currency)}"
    con.execute(f"CREATE VIEW good AS {good}")

    # 5. The rejects file.
    if rejects is not None:
        _write_rejects(con, source, rejects, work)

    # 6. Accounts, numbered in sorted order of their names.
    con.execute("""CREATE TABLE accounts AS SELECT name, CAST(row_number() OVER (ORDER BY name) - 1 AS INTEGER) AS account
                   FROM (SELECT src AS name FROM good UNION SELECT dst FROM good)""")
    n_accounts = con.execute("SELECT count(*) FROM accounts").fetchone()[0]
    con.execute(f"""COPY (SELECT account, name FROM accounts ORDER BY account) TO {_lit(str(work / ACCOUNTS))}
                    (FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP})""")

    # 7. The transactions, in time order (ties in source order), numbered in that order.
    con.execute(f"""CREATE TABLE sorted AS
        SELECT a.account AS src, b.account AS dst, g.amount, g.ts, g.f, g.row{', g.id' if 'id' in used else ''}
        FROM good g JOIN accounts a ON g.src = a.name JOIN accounts b ON g.dst = b.name ORDER BY g.ts, g.f, g.row""")
    by_file = (lambda names: f"[{', '.join(_lit(n) for n in names)}][f + 1]") if source.folder else None
    name = by_file(source.sources) if by_file else _lit(source.sources[0])
    if "id" in used:
        ident = "id"
    elif by_file:
        ident = f"{by_file(source.rels)} || ':' || CAST(row AS VARCHAR)"
    else:
        ident = "CAST(row AS VARCHAR)"
    con.execute(f"""COPY (SELECT CAST(rowid AS BIGINT) AS idx, src, dst, CAST(amount AS DOUBLE) AS amount,
                    CAST(ts AS BIGINT) AS ts, CAST({ident} AS VARCHAR) AS id, CAST({name} AS VARCHAR) AS source,
                    CAST(row AS BIGINT) AS row FROM sorted)
                    TO {_lit(str(work / TRANSACTIONS))} (FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP})""")
    accepted = con.execute("SELECT count(*) FROM sorted").fetchone()[0]
    _verify(source, work / TRANSACTIONS, accepted)
    if accepted + rejected + other != rows_read:
        raise LoadError(f"Loading {source.given} lost rows ({rows_read} read, {accepted} accepted, {rejected} "
                        f"malformed, {other} of other currencies); this is a bug.")

    meta = {"transactions": accepted, "accounts": n_accounts, "currency": chosen, "rejected": rejected,
            "source": source.given}
    (work / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (folder / META).unlink(missing_ok=True)  # a half-replaced folder never looks complete
    for name in (TRANSACTIONS, ACCOUNTS, META):
        os.replace(work / name, folder / name)
    return LoadResult(PreparedLedger(folder), rows_read, accepted, rejected, shown, other, chosen)


def _verify(source: _Input, path: Path, accepted: int) -> None:
    """The written file holds ``idx`` 0 … n-1 in file order, strictly sorted by (time, file, row): read
    back in batches, so that no engine ever sees a misordered ledger."""
    import numpy as np
    import pyarrow.parquet as pq

    order = {name: i for i, name in enumerate(source.sources)}
    count, last = 0, None
    file = pq.ParquetFile(path, read_dictionary=["source"])
    for batch in file.iter_batches(batch_size=ROW_GROUP, columns=["idx", "ts", "source", "row"]):
        names = batch.column(2)
        lookup = np.array([order[n] for n in names.dictionary.to_pylist()] or [0], dtype=np.int64)
        keys = [batch.column(1).to_numpy(), lookup[names.indices.to_numpy()], batch.column(3).to_numpy()]
        if last is not None:
            keys = [np.concatenate(([k0], k)) for k0, k in zip(last, keys)]
        dt, df, dr = (np.diff(k) for k in keys)
        idx = batch.column(0).to_numpy()
        if not (np.array_equal(idx, np.arange(count, count + len(idx)))
                and bool(np.all((dt > 0) | ((dt == 0) & ((df > 0) | ((df == 0) & (dr > 0))))))):
            raise LoadError(f"Loading {source.given} wrote transactions out of order near idx {count}; this is a bug.")
        count += len(idx)
        if len(idx):
            last = [k[-1] for k in keys]
    if count != accepted:
        raise LoadError(f"Loading {source.given} wrote {count} transactions instead of {accepted}; this is a bug.")


def _write_rejects(con, source: _Input, rejects: Path, work: Path) -> None:
    """Every malformed row, in source order, with its original cells as text."""
    names: list[str] = []
    for n in source.names:
        name = n
        while name in _REJECT_COLUMNS or name in names:
            name = f"{name} (ledger)"
        names.append(name)
    head = "SELECT r.source_name AS source, r.row, r.field, r.value, r.message"
    if source.kind == "csv":
        cells = ", ".join(f"r.o{i} AS {_ident(name)}" for i, name in enumerate(names))
        query = f"{head}, {cells} FROM rejections r ORDER BY r.f, r.row"
    else:
        cells = ", ".join(f"CAST(p.{_ident(n)} AS VARCHAR) AS {_ident(name)}" for n, name in zip(source.names, names))
        query = (f"{head}, {cells} FROM rejections r JOIN {_parquet_reader(source)} p "
                 f"ON r.f = p.file_index AND r.row = p.file_row_number + 1 ORDER BY r.f, r.row")
    target = work / ("rejects" + _suffix(rejects))
    options = "FORMAT parquet" if _suffix(rejects) == ".parquet" else "FORMAT csv, HEADER true, DELIMITER ','"
    con.execute(f"COPY ({query}) TO {_lit(str(target))} ({options})")
    rejects.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(target), str(rejects))


def _read_error(source: _Input, exc: BaseException) -> LoadError:
    """DuckDB's report of a broken CSV (a page with hints and settings) as one sentence."""
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    if source.kind != "csv" or not line:
        return LoadError(f"{source.given} could not be read: {_first_line(exc)}.")
    lines = text.splitlines()
    start = next((i for i, text_line in enumerate(lines) if text_line.startswith("Original Line: ")), None)
    original = lines[start][len("Original Line: "):] if start is not None else None
    problem = []
    for line_text in lines[(start if start is not None else 0) + 1:]:
        if line_text.startswith("Possible"):
            break
        if line_text.strip():
            problem.append(line_text.strip())
    problem = " ".join(problem).rstrip(".")
    expected = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if expected:
        problem = f"expected {expected.group(1)} cells (as in the header), found {expected.group(2)}"
    elif "unicode" in problem.lower() or "utf-8" in problem.lower():
        problem = "the text is not UTF-8"
    problem = problem[:1].lower() + problem[1:]
    shown = f" ({original[:80]!r})" if original else ""
    return LoadError(f"{source.given} line {line.group(1)}: {problem}{shown}. The file is not a well-formed CSV "
                     f"(comma-separated, \"-quoted, UTF-8, the same number of cells in every row); nothing was "
                     f"loaded.")


def _currencies(counts) -> str:
    shown = [f"{c} ({n} row{'s' if n != 1 else ''})" for c, n in counts[:10]]
    if len(counts) > 10:
        more = "more than 1000" if len(counts) > 1000 else str(len(counts) - 10)
        shown.append(f"{more} others")
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _malformed_message(source: _Input, shown: tuple[Rejection, ...], total: int) -> str:
    rows = "row is" if total == 1 else "rows are"
    lines = [(f"{source.given}: {total} {rows} malformed, and a scan does not run on a ledger it would have to "
              f"change, so nothing was loaded:")]
    lines += [f"  {r}" for r in shown[:IN_MESSAGE]]
    if total > IN_MESSAGE:
        lines.append(f"  … and {total - IN_MESSAGE} more.")
    lines.append("Correct them, or set them aside with --rejects FILE (every malformed row goes there with its "
                 "original cells) and load the rest.")
    return "\n".join(lines)
