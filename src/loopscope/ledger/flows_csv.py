"""A plain flows table in CSV: ``src,dst,amount[,date]``, one money movement per row.

The shape of a bank's transaction export, and the input the analyses take when there is no deal
ledger.  Optional columns: ``low``, ``high`` (the amount's range), ``date`` (ISO, ``YYYY-MM-DD``),
``id`` (or ``deal_id``) and ``kind``.  Every problem is reported with the file, the line and the
column; nothing is coerced or dropped.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from .problems import LedgerError, Problem

if TYPE_CHECKING:
    import pandas as pd

REQUIRED = ("src", "dst", "amount")
OPTIONAL = ("low", "high", "date", "id", "deal_id", "kind")


def read_flows_csv(path: Path | str) -> pd.DataFrame:
    """Read and check a flows CSV; raise :class:`LedgerError` listing every problem."""
    import pandas as pd

    path = Path(path)
    name = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:  # line breaks inside cells stay as written
            text = handle.read()
    except FileNotFoundError:
        raise LedgerError([Problem(name, None, None, None, None, "no such file")]) from None
    except UnicodeDecodeError as exc:
        raise LedgerError([Problem(name, None, None, None, None, f"not UTF-8 text ({exc.reason})")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise LedgerError([Problem(name, 1, None, None, None, "empty file: expected a header src,dst,amount")]) from None
    header = [h.strip() for h in header]
    problems: list[Problem] = []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(Problem(name, 1, None, None, None, f"missing column(s) {', '.join(missing)} in the header"))
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        problems.append(Problem(name, 1, None, None, None, f"repeated column(s) {', '.join(repeated)}"))
    if "id" in header and "deal_id" in header:
        problems.append(Problem(name, 1, None, None, None, "give either id or deal_id, not both"))
    if problems:
        raise LedgerError(problems)
    column = {h: i for i, h in enumerate(header)}
    records: dict[str, list] = {c: [] for c in ("src", "dst", "amount", "low", "high", "date", "deal_id", "kind")}
    line_end = 1
    for row in reader:
        line, line_end = line_end + 1, reader.line_num  # a row starts after the previous one ended
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(Problem(name, line, "row", None, None, f"{len(row)} cells, the header has {len(header)}"))
            continue
        cell = {h: row[i].strip() for h, i in column.items()}
        ok = True
        for party in ("src", "dst"):
            if not cell[party]:
                problems.append(Problem(name, line, "row", None, party, "empty: every flow needs both parties"))
                ok = False
        values = {}
        for field in ("amount", "low", "high"):
            if field not in cell or (field != "amount" and cell[field] == ""):
                values[field] = None
                continue
            try:
                value = float(cell[field])
            except ValueError:
                problems.append(Problem(name, line, "row", None, field, f"{cell[field]!r} is not a number"))
                ok = False
                continue
            if math.isnan(value) or math.isinf(value) or value < 0:
                problems.append(Problem(name, line, "row", None, field, f"{cell[field]!r}: expected a finite amount of at least 0"))
                ok = False
                continue
            values[field] = value
        if ok:
            low, amount, high = values["low"], values["amount"], values["high"]
            if low is not None and low > amount:
                problems.append(Problem(name, line, "row", None, "low", f"low {low:g} is above the amount {amount:g}"))
                ok = False
            if high is not None and high < amount:
                problems.append(Problem(name, line, "row", None, "high", f"high {high:g} is below the amount {amount:g}"))
                ok = False
        day = None
        if cell.get("date"):
            try:
                day = date.fromisoformat(cell["date"])
            except ValueError:
                problems.append(Problem(name, line, "row", None, "date", f"{cell['date']!r} is not a date (expected YYYY-MM-DD)"))
                ok = False
        if not ok:
            continue
        amount = values["amount"]
        records["src"].append(cell["src"])
        records["dst"].append(cell["dst"])
        records["amount"].append(amount)
        records["low"].append(amount if values["low"] is None else values["low"])
        records["high"].append(amount if values["high"] is None else values["high"])
        records["date"].append(day)
        records["deal_id"].append(cell.get("id") or cell.get("deal_id") or None)
        records["kind"].append(cell.get("kind") or None)
    if problems:
        raise LedgerError(problems)
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) if k in ("deal_id", "kind") else v for k, v in records.items()})
    frame["date"] = pd.to_datetime(frame["date"])
    for name_ in ("amount", "low", "high"):
        frame[name_] = frame[name_].astype("float64")
    return frame
