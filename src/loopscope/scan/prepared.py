"""A transaction ledger prepared for scanning: validated, in time order, accounts numbered.

On disk a prepared ledger is a folder that every engine reads:

``transactions.parquet``
    one row per accepted transaction, in time order (ties in source order), with the columns
    ``idx`` (int64, 0 … n-1: the position in time order, the transaction's number in every engine),
    ``src``, ``dst`` (int32 account numbers), ``amount`` (float64), ``ts`` (int64 microseconds since
    1970-01-01 UTC), ``id`` (string: the ledger's id, or the source row number when it has none),
    ``source`` (string: the file the row came from) and ``row`` (int64: its data row in that file,
    the first data row being 1).
``accounts.parquet``
    ``account`` (int32) and ``name`` (string), the account names in sorted order.
``meta.json``
    ``transactions``, ``accounts``, ``currency`` (or null), ``rejected`` (rows refused while loading)
    and ``source`` (what was loaded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .spec import Transactions

TRANSACTIONS = "transactions.parquet"
ACCOUNTS = "accounts.parquet"
META = "meta.json"
ROW_GROUP = 1 << 20


@dataclass(frozen=True)
class PreparedLedger:
    """A prepared ledger folder (see the module docstring)."""

    folder: Path

    @property
    def transactions_path(self) -> Path:
        return self.folder / TRANSACTIONS

    @property
    def accounts_path(self) -> Path:
        return self.folder / ACCOUNTS

    @property
    def meta(self) -> dict:
        return json.loads((self.folder / META).read_text(encoding="utf-8"))

    def __len__(self) -> int:
        return int(self.meta["transactions"])

    def read(self, lo: int = 0, hi: int | None = None) -> Transactions:
        """Transactions ``lo … hi-1`` as arrays (the columns engines need only)."""
        import pyarrow.parquet as pq

        n = len(self)
        hi = n if hi is None else min(hi, n)
        if lo >= hi:
            empty = np.zeros(0)
            return Transactions(empty.astype(np.int32), empty.astype(np.int32), empty, empty.astype(np.int64))
        file = pq.ParquetFile(self.transactions_path)
        columns = {name: [] for name in ("src", "dst", "amount", "ts")}
        start = 0
        for g in range(file.num_row_groups):
            size = file.metadata.row_group(g).num_rows
            if start + size > lo and start < hi:
                table = file.read_row_group(g, columns=list(columns))
                a, b = max(lo - start, 0), min(hi - start, size)
                for name in columns:
                    columns[name].append(table.column(name).to_numpy()[a:b])
            start += size
            if start >= hi:
                break
        arrays = {k: np.ascontiguousarray(np.concatenate(v)) for k, v in columns.items()}
        return Transactions(arrays["src"].astype(np.int32, copy=False), arrays["dst"].astype(np.int32, copy=False),
                            arrays["amount"].astype(np.float64, copy=False), arrays["ts"].astype(np.int64, copy=False))

    def read_columns(self, lo: int, hi: int, columns: list[str]):
        """Rows ``lo … hi-1`` of the given columns as a pyarrow Table (reading only their row groups)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        file = pq.ParquetFile(self.transactions_path)
        parts = []
        start = 0
        for g in range(file.num_row_groups):
            size = file.metadata.row_group(g).num_rows
            if start + size > lo and start < hi:
                table = file.read_row_group(g, columns=columns)
                a, b = max(lo - start, 0), min(hi - start, size)
                parts.append(table.slice(a, b - a))
            start += size
            if start >= hi:
                break
        if not parts:
            return pq.read_schema(self.transactions_path).empty_table().select(columns)
        return pa.concat_tables(parts)

    def timeline(self) -> "Timeline":
        """Look up times by position and positions by time, one row group at a time."""
        return Timeline(self)

    def account_names(self) -> np.ndarray:
        import pyarrow.parquet as pq

        return pq.read_table(self.accounts_path, columns=["name"]).column("name").to_numpy(zero_copy_only=False)


class Timeline:
    """The ``ts`` column of a prepared ledger, read a row group at a time (memory bounded by a group)."""

    def __init__(self, prepared: PreparedLedger) -> None:
        import pyarrow.parquet as pq

        self._file = pq.ParquetFile(prepared.transactions_path)
        meta = self._file.metadata
        sizes = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
        self._starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._cached: tuple[int, np.ndarray] | None = None
        self._last = [None] * len(sizes)

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _group(self, g: int) -> np.ndarray:
        if self._cached is None or self._cached[0] != g:
            self._cached = (g, self._file.read_row_group(g, columns=["ts"]).column("ts").to_numpy())
        return self._cached[1]

    def _group_last(self, g: int) -> int:
        if self._last[g] is None:
            self._last[g] = int(self._group(g)[-1])
        return self._last[g]

    def time_of(self, i: int) -> int:
        """The time of transaction ``i``."""
        g = int(np.searchsorted(self._starts, i, side="right")) - 1
        return int(self._group(g)[i - self._starts[g]])

    def first_after(self, t: int) -> int:
        """The position of the first transaction later than ``t`` (``len`` when there is none)."""
        groups = len(self._starts) - 1
        lo, hi = 0, groups
        while lo < hi:  # first group whose last time is later than t
            mid = (lo + hi) // 2
            if self._group_last(mid) <= t:
                lo = mid + 1
            else:
                hi = mid
        if lo == groups:
            return len(self)
        return int(self._starts[lo] + np.searchsorted(self._group(lo), t, side="right"))


def write_prepared(tx: Transactions, folder: Path | str, *, ids=None, accounts=None, currency: str | None = None,
                   source: str = "memory", rows=None, rejected: int = 0) -> PreparedLedger:
    """Write arrays already in time order as a prepared ledger (tests, ``synth``, the loader's last step).

    ``ids`` default to the row numbers, ``accounts`` to ``a0, a1, …``, ``rows`` to ``1 … n``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = len(tx)
    rows = np.arange(1, n + 1, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    ids = [str(r) for r in rows] if ids is None else [str(i) for i in ids]
    n_accounts = int(max(tx.src.max(initial=-1), tx.dst.max(initial=-1))) + 1
    names = [f"a{i}" for i in range(n_accounts)] if accounts is None else [str(a) for a in accounts]
    table = pa.table({
        "idx": pa.array(np.arange(n, dtype=np.int64)),
        "src": pa.array(tx.src.astype(np.int32)), "dst": pa.array(tx.dst.astype(np.int32)),
        "amount": pa.array(tx.amount.astype(np.float64)), "ts": pa.array(tx.time.astype(np.int64)),
        "id": pa.array(ids, type=pa.string()), "source": pa.array([source] * n, type=pa.string()),
        "row": pa.array(rows),
    })
    pq.write_table(table, folder / TRANSACTIONS, row_group_size=ROW_GROUP)
    pq.write_table(pa.table({"account": pa.array(np.arange(len(names), dtype=np.int32)),
                             "name": pa.array(names, type=pa.string())}), folder / ACCOUNTS)
    meta = {"transactions": n, "accounts": len(names), "currency": currency, "rejected": rejected, "source": source}
    (folder / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return PreparedLedger(folder)
