"""Daily share prices: read from a CSV file the user supplies, or fetched with ``yfinance``.

The input of the event study (:func:`loopscope.analysis.event_study.event_study`).  Two layouts,
told apart by the header:

*long*: ``date,ticker,close``, one row per ticker and trading day, with two optional columns:
``shares_outstanding`` (the number of shares on that day; an empty cell means not given) and
``currency`` (the ISO 4217 code of the close, e.g. ``USD``, ``JPY``; an empty cell means not given;
one currency per ticker)::

    date,ticker,close,shares_outstanding,currency
    2025-10-03,AMD,164.67,1623000000,USD
    2025-10-03,SPY,669.21,,USD

*wide*: ``date`` and one column per ticker, one row per day; the cells are closes.  An empty cell
means the ticker did not trade that day (a holiday on its exchange, not yet listed, suspended): it
has no price, which is not an error.  The wide layout has no shares or currency::

    date,AMD,NVDA,SPY
    2025-10-03,164.67,187.62,669.21

A header with a ``ticker`` column is long; one without is wide.  Dates are ISO (``YYYY-MM-DD``);
closes and share counts are positive numbers (``1.5``, ``2e9``).  Use closes adjusted for splits
and dividends (yfinance's ``auto_adjust=True`` closes, a data vendor's "adjusted close"): an
unadjusted split shows up as a huge return.  Share counts must be on the same basis as the closes
(after a split, split-adjusted closes need split-adjusted share counts).

Both layouts are read into the same long :class:`pandas.DataFrame`: ``date`` (datetime64),
``ticker`` (text), ``close`` (float64), plus ``shares_outstanding`` (float64, NaN where not given)
and ``currency`` (text, None where not given) when the file has those columns; rows in the order
of the file (wide: by line, then by column).

Every problem is reported as a :class:`~loopscope.ledger.LedgerError` naming the file, the line and
the column: a bad date, a close that is not a positive number, the same ticker twice on one day,
an unknown or repeated column, a row with the wrong number of cells, an empty file.  Nothing is
coerced or dropped (blank lines are not rows).

:func:`fetch_prices` downloads the same frame from Yahoo Finance through the optional ``yfinance``
package (``pip install 'loopscope[market]'``); it needs the network.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..ledger.problems import LedgerError, Problem
from ..ledger.vocabulary import CURRENCIES

if TYPE_CHECKING:
    import pandas as pd

REQUIRED = ("date", "ticker", "close")
OPTIONAL = ("shares_outstanding", "currency")
COLUMNS = REQUIRED + OPTIONAL
INSTALL_HINT = "pip install 'loopscope[market]'"

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$")


# ---------------------------------------------------------------------------------------------
# reading a CSV file
# ---------------------------------------------------------------------------------------------


def read_prices(path: Path | str) -> pd.DataFrame:
    """Read and check a daily price CSV (long or wide layout, see the module); raise
    :class:`~loopscope.ledger.LedgerError` listing every problem (file, line, column)."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LedgerError([Problem(name, None, None, None, None, "no such file")]) from None
    except IsADirectoryError:
        raise LedgerError([Problem(name, None, None, None, None, "is a folder, expected a CSV file")]) from None
    except UnicodeDecodeError as exc:
        raise LedgerError([Problem(name, None, None, None, None, f"not UTF-8 text ({exc.reason})")]) from None
    return parse_prices(text, name)


def parse_prices(text: str, name: str = "<prices>") -> pd.DataFrame:
    """:func:`read_prices` on the text of a file (``name`` is used in the messages)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []  # (first line of the record, cells)
    problems: list[Problem] = []
    last = 0
    try:
        for cells in reader:
            rows.append((last + 1, cells))
            last = reader.line_num
    except csv.Error as exc:
        raise LedgerError([Problem(name, last + 1, None, None, None, f"not valid CSV ({exc})")]) from None
    rows = [(line, cells) for line, cells in rows if cells and any(cell.strip() for cell in cells)]
    if not rows:
        raise LedgerError([Problem(name, 1, None, None, None,
                                   "empty file: expected a header date,ticker,close (or date and one column per ticker)")])
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    for position, column in enumerate(header, start=1):
        if not column:
            problems.append(Problem(name, header_line, None, None, None, f"column {position} of the header has no name"))
    for column in header:
        if not column.isprintable():
            problems.append(Problem(name, header_line, None, None, None, f"column {column!r} has a line break or control character"))
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        problems.append(Problem(name, header_line, None, None, None, f"repeated column(s) {', '.join(repeated)}"))
    if "date" not in header:
        problems.append(Problem(name, header_line, None, None, None,
                                "no date column: expected date,ticker,close (long) or date,<ticker>,<ticker>... (wide)"))
    long = "ticker" in header
    if long:
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            problems.append(Problem(name, header_line, None, None, None, f"missing column(s) {', '.join(missing)} in the header"))
        unknown = [h for h in header if h and h not in COLUMNS]
        if unknown:
            problems.append(Problem(name, header_line, None, None, None,
                                    f"unknown column(s) {', '.join(unknown)} (expected {', '.join(COLUMNS)})"))
    else:
        misplaced = [h for h in header if h in ("close",) + OPTIONAL]
        if misplaced:
            problems.append(Problem(
                name, header_line, None, None, None,
                f"column(s) {', '.join(misplaced)} belong to the long layout, which needs a ticker column "
                "(date,ticker,close); in the wide layout every column but date is a ticker",
            ))
        elif "date" in header and len(header) < 2:
            problems.append(Problem(name, header_line, None, None, None, "no ticker columns after date"))
    if problems:
        raise LedgerError(problems)
    body = rows[1:]
    if not body:
        raise LedgerError([Problem(name, header_line, None, None, None, "no prices: the file has a header and no rows")])
    return (_long if long else _wide)(name, header, body)


def _day(cell: str) -> date:
    if not _DATE.fullmatch(cell):
        raise ValueError(f"{cell!r} is not a date (expected YYYY-MM-DD)")
    try:
        return date.fromisoformat(cell)
    except ValueError as exc:
        raise ValueError(f"{cell!r} is not a valid date ({exc})") from None


def _positive(cell: str, what: str) -> float:
    if not _NUMBER.fullmatch(cell):
        raise ValueError(f"{cell!r} is not a number")
    value = float(cell)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{cell!r}: {what} must be a positive number")
    return value


def _long(name: str, header: list[str], body: list[tuple[int, list[str]]]) -> pd.DataFrame:
    import pandas as pd

    problems: list[Problem] = []
    column = {h: i for i, h in enumerate(header)}
    out: dict[str, list[Any]] = {c: [] for c in COLUMNS if c in column}
    seen: dict[tuple[date, str], int] = {}
    currency_of: dict[str, tuple[str, int]] = {}
    for line, row in body:
        if len(row) != len(header):
            problems.append(Problem(name, line, "row", None, None, f"{len(row)} cells, the header has {len(header)}"))
            continue
        cell = {h: row[i].strip() for h, i in column.items()}
        errors: list[tuple[str, str]] = []  # (column, message)
        day = None
        try:
            day = _day(cell["date"])
        except ValueError as exc:
            errors.append(("date", str(exc)))
        ticker = cell["ticker"]
        if not ticker:
            errors.append(("ticker", "empty: every row needs a ticker"))
        elif not ticker.isprintable():
            errors.append(("ticker", f"{ticker!r} has a line break or control character"))
        close = None
        if not cell["close"]:
            errors.append(("close", "empty: every row needs a close (leave out the days a ticker did not trade)"))
        else:
            try:
                close = _positive(cell["close"], "a close")
            except ValueError as exc:
                errors.append(("close", str(exc)))
        shares = math.nan
        if cell.get("shares_outstanding"):
            try:
                shares = _positive(cell["shares_outstanding"], "shares outstanding")
            except ValueError as exc:
                errors.append(("shares_outstanding", str(exc)))
        currency = cell.get("currency") or None
        if currency is not None and currency not in CURRENCIES:
            errors.append(("currency", f"unknown currency {currency!r} (expected an ISO 4217 code such as USD, EUR, JPY)"))
        if errors:
            problems.extend(Problem(name, line, "row", None, field, message) for field, message in errors)
            continue
        key = (day, ticker)
        if key in seen:
            problems.append(Problem(name, line, "row", None, "ticker",
                                    f"{ticker} on {day.isoformat()} is already given on line {seen[key]}"))
            continue
        seen[key] = line
        if currency is not None:
            earlier = currency_of.setdefault(ticker, (currency, line))
            if earlier[0] != currency:
                problems.append(Problem(name, line, "row", None, "currency",
                                        f"{ticker} is quoted in {earlier[0]} on line {earlier[1]}: one currency per ticker"))
                continue
        out["date"].append(day)
        out["ticker"].append(ticker)
        out["close"].append(close)
        if "shares_outstanding" in out:
            out["shares_outstanding"].append(shares)
        if "currency" in out:
            out["currency"].append(currency)
    if problems:
        raise LedgerError(problems)
    return _frame(out, pd)


def _wide(name: str, header: list[str], body: list[tuple[int, list[str]]]) -> pd.DataFrame:
    import pandas as pd

    problems: list[Problem] = []
    at = header.index("date")
    tickers = [(i, h) for i, h in enumerate(header) if i != at]
    out: dict[str, list[Any]] = {"date": [], "ticker": [], "close": []}
    seen: dict[date, int] = {}
    for line, row in body:
        if len(row) != len(header):
            problems.append(Problem(name, line, "row", None, None, f"{len(row)} cells, the header has {len(header)}"))
            continue
        try:
            day = _day(row[at].strip())
        except ValueError as exc:
            problems.append(Problem(name, line, "row", None, "date", str(exc)))
            continue
        if day in seen:
            problems.append(Problem(name, line, "row", None, "date", f"{day.isoformat()} is already given on line {seen[day]}"))
            continue
        seen[day] = line
        for i, ticker in tickers:
            cell = row[i].strip()
            if not cell:
                continue  # no trading that day
            try:
                close = _positive(cell, "a close")
            except ValueError as exc:
                problems.append(Problem(name, line, "row", None, ticker, str(exc)))
                continue
            out["date"].append(day)
            out["ticker"].append(ticker)
            out["close"].append(close)
    if problems:
        raise LedgerError(problems)
    if not out["date"]:
        raise LedgerError([Problem(name, body[0][0], None, None, None, "no prices: every cell is empty")])
    return _frame(out, pd)


def _frame(columns: dict[str, list[Any]], pd) -> pd.DataFrame:
    frame = pd.DataFrame({
        c: pd.Series(v, dtype=object) if c in ("ticker", "currency") else v for c, v in columns.items()
    })
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame["close"] = frame["close"].astype("float64")
    if "shares_outstanding" in frame:
        frame["shares_outstanding"] = frame["shares_outstanding"].astype("float64")
    return frame


def write_prices(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write a long price frame (as :func:`read_prices` returns it) as a long CSV file."""
    path = Path(path)
    frame = as_prices(frame)
    out = frame.copy()
    out["date"] = out["date"].dt.strftime("%Y-%m-%d")
    for column in ("close", "shares_outstanding"):
        if column in out:
            out[column] = [("" if v != v else repr(float(v))) for v in out[column]]
    out.to_csv(path, index=False, lineterminator="\n", na_rep="")
    return path


# ---------------------------------------------------------------------------------------------
# frames given directly
# ---------------------------------------------------------------------------------------------


def as_prices(data: Any) -> pd.DataFrame:
    """The long price frame from a CSV path, a long frame (``date, ticker, close``, optional
    ``shares_outstanding``, ``currency``) or a wide frame (a date index and one column per
    ticker, NaN: no trading, e.g. ``yfinance.download(...)["Close"]``).

    Frames are checked like files: a missing, non-positive or non-finite close, a date that is
    not a date or the same ticker twice on one day raise :class:`ValueError`.
    """
    import numpy as np
    import pandas as pd

    if isinstance(data, (str, Path)):
        return read_prices(data)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"expected a price CSV path or a pandas DataFrame, got {type(data).__name__}")
    if "ticker" not in data.columns:  # wide: date index (or a date column) × tickers
        wide = data.set_index("date") if "date" in data.columns else data
        if isinstance(wide.columns, pd.MultiIndex):
            raise ValueError("a wide price frame needs one column per ticker (got several column levels; "
                             "take the closes first, e.g. frame['Close'])")
        values = wide.to_numpy(dtype="float64", na_value=np.nan)
        rows, cols = np.nonzero(~np.isnan(values))  # by date, then by column; NaN: no trading
        data = pd.DataFrame({"date": wide.index[rows], "ticker": pd.Series(wide.columns[cols], dtype=object),
                             "close": values[rows, cols]})
    missing = [c for c in REQUIRED if c not in data.columns]
    if missing:
        raise ValueError(f"the price frame has no column(s) {', '.join(missing)} (expected date, ticker, close)")
    unknown = [str(c) for c in data.columns if c not in COLUMNS]
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(unknown)} in the price frame (expected {', '.join(COLUMNS)})")
    frame = data.reset_index(drop=True).copy()
    try:
        frame["date"] = pd.to_datetime(frame["date"]).dt.tz_localize(None).dt.normalize().astype("datetime64[ns]")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"the price frame's date column does not hold dates ({exc})") from None
    frame["ticker"] = frame["ticker"].astype(object)
    if frame["ticker"].isna().any() or not all(isinstance(t, str) and t for t in frame["ticker"]):
        raise ValueError("every price needs a ticker (text)")
    try:
        frame["close"] = frame["close"].astype("float64")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"the price frame's close column does not hold numbers ({exc})") from None
    close = frame["close"].to_numpy()
    bad = ~(np.isfinite(close) & (close > 0))
    if bad.any():
        rows = frame.loc[bad, ["date", "ticker", "close"]].head(5).to_dict("records")
        raise ValueError(f"{int(bad.sum())} close(s) are missing, non-positive or infinite, e.g. {rows}")
    if "shares_outstanding" in frame:
        shares = frame["shares_outstanding"].astype("float64")
        if ((shares <= 0) | np.isinf(shares)).any():
            raise ValueError("shares_outstanding must be positive (NaN: not given)")
        frame["shares_outstanding"] = shares
    duplicated = frame.duplicated(["date", "ticker"], keep=False)
    if duplicated.any():
        first = frame.loc[duplicated, ["date", "ticker"]].iloc[0]
        raise ValueError(f"{int(duplicated.sum())} rows repeat a (date, ticker), e.g. {first['ticker']} on {first['date'].date()}")
    if "currency" in frame:
        given = frame.dropna(subset=["currency"])
        several = given.groupby("ticker")["currency"].nunique()
        if (several > 1).any():
            raise ValueError(f"one currency per ticker: {', '.join(several[several > 1].index)} have several")
    return frame


# ---------------------------------------------------------------------------------------------
# fetching from Yahoo Finance
# ---------------------------------------------------------------------------------------------


def fetch_range(announced: Iterable[date], estimation: int = 250, gap: int = 10,
                window: tuple[int, int] = (-1, 1)) -> tuple[date, date]:
    """The calendar days of prices an event study of these announcement dates needs: from far
    enough before the first one to fill its estimation window (trading days, about 5 in 7
    calendar days, with a margin for holidays) to just after the last one's event window.

    >>> fetch_range([date(2025, 10, 6)], estimation=250, gap=10, window=(-1, 1))
    (datetime.date(2024, 8, 3), datetime.date(2025, 10, 15))
    """
    days = sorted(announced)
    if not days:
        raise ValueError("no announcement dates: the ledger has no deals to study")
    before = estimation + gap + max(0, -window[0]) + 1
    after = max(0, window[1])
    margin = 1.15  # public holidays: about 9 or 10 a year on the US exchanges
    return (days[0] - timedelta(days=math.ceil(before * 7 / 5 * margin) + 7),
            days[-1] + timedelta(days=math.ceil(after * 7 / 5 * margin) + 7))


def fetch_prices(
    tickers: Iterable[str],
    start: date | str,
    end: date | str,
    *,
    auto_adjust: bool = True,
) -> pd.DataFrame:
    """Daily closes of ``tickers`` from ``start`` to ``end`` (both included) from Yahoo Finance.

    Needs the optional ``yfinance`` package (``pip install 'loopscope[market]'``) and the network.
    Returns the long frame of :func:`read_prices` (``date, ticker, close``), closes adjusted for
    splits and dividends unless ``auto_adjust`` is False.  A ticker Yahoo has no prices for is
    left out of the frame and named in ``frame.attrs["missing"]`` (the event study lists its
    parties as skipped); when no ticker has prices, :class:`LookupError` is raised.

    Shares outstanding are not fetched: give them in a price CSV or as ``shares_outstanding`` /
    ``market_cap`` figures in the ledger.
    """
    try:
        import yfinance as yf
    except ImportError:
        raise ImportError(f"fetching prices needs the optional yfinance package: {INSTALL_HINT}") from None
    wanted = list(dict.fromkeys(t.strip() for t in ([tickers] if isinstance(tickers, str) else tickers)))
    if not wanted or not all(wanted):
        raise ValueError("give at least one ticker (and no empty ones)")
    first, last = _as_date(start), _as_date(end)
    if last < first:
        raise ValueError(f"end {last} is before start {first}")
    raw = yf.download(
        wanted, start=first.isoformat(), end=(last + timedelta(days=1)).isoformat(),  # yfinance's end is exclusive
        auto_adjust=auto_adjust, group_by="column", progress=False,
    )
    return prices_from_yfinance(raw, wanted)


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _day(str(value))


def prices_from_yfinance(raw: Any, tickers: list[str]) -> pd.DataFrame:
    """Reshape what ``yfinance.download`` returns into the long price frame.

    Recent yfinance (0.2.48 and later) returns a DataFrame indexed by date with two column levels,
    ``(Price, Ticker)``: ``("Close", "AMD")``, ``("Close", "SPY")``, ``("High", "AMD")`` ... (with
    ``group_by="ticker"`` the levels are swapped, which is handled too); older versions return
    flat columns (``Open, High, Low, Close, ...``) for a single ticker.  Cells of days a ticker did
    not trade are NaN and are left out.  Yahoo upper-cases tickers; they are matched back to the
    spelling asked for.
    """
    import pandas as pd

    if raw is None or len(raw) == 0:
        raise LookupError(f"Yahoo Finance returned no prices for {', '.join(tickers)} "
                          "(check the tickers, the dates and the network connection)")
    columns = raw.columns
    if isinstance(columns, pd.MultiIndex):
        fields = next((level for level in range(columns.nlevels) if "Close" in columns.get_level_values(level)), None)
        if fields is None:
            raise ValueError(f"no Close prices in the yfinance answer (columns: {list(columns)[:6]}...)")
        close = raw.xs("Close", axis=1, level=fields)
        if isinstance(close, pd.Series):
            close = close.to_frame(tickers[0] if len(tickers) == 1 else "Close")
    elif "Close" in columns:
        if len(tickers) != 1:
            raise ValueError("the yfinance answer has flat columns, which only a single ticker's download has")
        close = raw[["Close"]].rename(columns={"Close": tickers[0]})
    else:
        raise ValueError(f"no Close prices in the yfinance answer (columns: {list(columns)[:6]})")
    spelling = {t.upper(): t for t in tickers}
    close = close.rename(columns=lambda c: spelling.get(str(c).upper(), str(c)))
    index = pd.DatetimeIndex(pd.to_datetime(close.index))
    if index.tz is not None:
        index = index.tz_localize(None)  # keep the exchange's local calendar day
    close = close.set_axis(index.normalize(), axis=0)
    close = close[[t for t in tickers if t in close.columns] + [c for c in close.columns if c not in spelling.values()]]
    close.columns = close.columns.astype(object)
    frame = as_prices(close.rename_axis(index="date", columns=None))
    frame = frame.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)
    frame.attrs["missing"] = [t for t in tickers if t not in set(frame["ticker"])]
    if frame.empty:
        raise LookupError(f"Yahoo Finance returned no prices for {', '.join(tickers)}")
    return frame
