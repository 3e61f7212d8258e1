"""One input shape for every analysis: :class:`FlowNetwork`.

Every analysis accepts a :class:`~loopscope.Ledger`, a flows table (a pandas DataFrame with at least
``src``, ``dst`` and an amount column) or a square matrix ``W`` (numpy or scipy.sparse) where
``W[i][j]`` is the amount flowing from i to j, optionally with labels.  :func:`as_network` turns each
of them into the same thing: a list of flows between numbered parties, with the parties sorted by
their labels, so that "the smallest party id" is simply the smallest index.

Conventions, the same everywhere:

* amounts are in US dollars (the ledger converts); they must be finite and non-negative;
* an undisclosed amount is NaN in ``amount``/``low``/``high``; it is kept as a flow (the deal exists,
  and cycles run through it) but counts 0 wherever amounts are summed;
* for a matrix, every stored non-zero entry is one flow; zeros are no flow; NaN is an error;
* flows of a party to itself are kept in the table and left out of the party graph: money a party
  pays itself is not a round trip (see :meth:`FlowNetwork.graph`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import scipy.sparse as sp

    from ..ledger import Ledger

_AMOUNT_COLUMNS = ("amount_usd", "amount")
_LOW_COLUMNS = ("low_usd", "low")
_HIGH_COLUMNS = ("high_usd", "high")


@dataclass(frozen=True, eq=False)
class FlowNetwork:
    """Flows between parties ``0 … n-1`` (labels sorted), one entry per flow.

    ``src``/``dst`` are party indices, ``amount``/``low``/``high`` US dollars (NaN: undisclosed),
    ``date`` numpy ``datetime64[D]`` (NaT: undated), ``deal_id`` and ``kind`` strings or None.
    ``names`` maps a label to a display name (the ledger's party names), ``ledger`` is the ledger it
    came from, if any.
    """

    labels: tuple[Any, ...]
    src: np.ndarray
    dst: np.ndarray
    amount: np.ndarray
    low: np.ndarray
    high: np.ndarray
    date: np.ndarray
    deal_id: np.ndarray
    kind: np.ndarray
    names: dict[Any, str] = field(default_factory=dict)
    ledger: Ledger | None = None

    @property
    def n(self) -> int:
        """Number of parties."""
        return len(self.labels)

    def __len__(self) -> int:
        return len(self.src)

    def name(self, index: int) -> str:
        """Display name of party ``index``."""
        label = self.labels[index]
        return self.names.get(label, str(label))

    def values(self, column: str = "amount") -> np.ndarray:
        """Amounts of one column (``amount``, ``low`` or ``high``) with NaN (undisclosed) as 0."""
        if column not in ("amount", "low", "high"):
            raise ValueError(f"column must be 'amount', 'low' or 'high', not {column!r}")
        return np.nan_to_num(getattr(self, column), nan=0.0)

    def matrix(self, column: str = "amount", *, self_loops: bool = False) -> sp.csr_matrix:
        """``W[i][j]``: the sum of the flows from i to j (undisclosed count 0), as a CSR matrix.

        Explicit entries exist for every pair that has a flow, even one of amount 0 or undisclosed,
        so the matrix's sparsity pattern is the party graph.  Self-loops are dropped unless asked for.
        """
        import scipy.sparse as sp

        keep = slice(None) if self_loops else self.src != self.dst
        matrix = sp.csr_matrix(
            (self.values(column)[keep], (self.src[keep], self.dst[keep])), shape=(self.n, self.n)
        )
        matrix.sum_duplicates()
        matrix.sort_indices()
        return matrix

    def graph(self) -> sp.csr_matrix:
        """The party graph: an edge i → j wherever at least one flow goes from i to j (i ≠ j).

        Returned as a CSR matrix of ones with sorted column indices.
        """
        pattern = self.matrix()
        pattern.data = np.ones_like(pattern.data)
        return pattern

    def subset(self, keep: np.ndarray) -> FlowNetwork:
        """The same parties with only the flows where ``keep`` is true."""
        return FlowNetwork(
            self.labels, self.src[keep], self.dst[keep], self.amount[keep], self.low[keep],
            self.high[keep], self.date[keep], self.deal_id[keep], self.kind[keep], self.names, self.ledger,
        )


def as_network(data: Any, labels: Sequence[Any] | None = None) -> FlowNetwork:
    """Turn a Ledger, a flows DataFrame or a square matrix into a :class:`FlowNetwork`.

    Parameters
    ----------
    data
        A :class:`~loopscope.Ledger` (its :meth:`~loopscope.Ledger.flows`, all parties included);
        a DataFrame with columns ``src``, ``dst`` and ``amount`` or ``amount_usd`` (optional:
        ``low[_usd]``, ``high[_usd]``, ``date``, ``deal_id``, ``kind``); or a square numpy array or
        scipy.sparse matrix ``W`` with ``W[i][j]`` the amount from i to j.  A FlowNetwork is
        returned unchanged.
    labels
        Party labels for a matrix (default: ``0 … n-1``).  Not allowed with other inputs.

    Raises
    ------
    ValueError
        With a message naming the problem: missing columns, a non-square matrix, negative,
        infinite or (in a matrix) NaN amounts, labels of the wrong length or repeated.
    """
    from ..ledger import Ledger

    if isinstance(data, FlowNetwork):
        if labels is not None:
            raise ValueError("labels are only for matrix input")
        return data
    if isinstance(data, Ledger):
        if labels is not None:
            raise ValueError("labels are only for matrix input")
        names = {p.id: p.name for p in data.parties}
        return _from_frame(data.flows(), parties=[p.id for p in data.parties], names=names, ledger=data)
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        if labels is not None:
            raise ValueError("labels are only for matrix input; a flows table names its parties in src and dst")
        return _from_frame(data)
    return _from_matrix(data, labels)


def _column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    for name in names:
        if name in frame.columns:
            return name
    return None


def _check_amounts(values: np.ndarray, what: str, where: Any) -> None:
    bad = np.flatnonzero(np.isinf(values) | (values < 0))
    if bad.size:
        first = bad[0]
        raise ValueError(
            f"{what}: amounts must be finite and not negative; {len(bad)} are not, "
            f"the first at {where(first)}: {values[first]!r}"
        )


def _from_frame(
    frame: pd.DataFrame,
    parties: Sequence[Any] | None = None,
    names: dict[Any, str] | None = None,
    ledger: Ledger | None = None,
) -> FlowNetwork:
    import pandas as pd

    missing = [c for c in ("src", "dst") if c not in frame.columns]
    amount_column = _column(frame, _AMOUNT_COLUMNS)
    if amount_column is None:
        missing.append("amount (or amount_usd)")
    if missing:
        raise ValueError(
            f"flows table: missing column(s) {', '.join(missing)}; has {', '.join(map(str, frame.columns)) or 'none'}"
        )
    if frame["src"].isna().any() or frame["dst"].isna().any():
        row = int(np.flatnonzero((frame["src"].isna() | frame["dst"].isna()).to_numpy())[0])
        raise ValueError(f"flows table: row {row}: src and dst must both be given")
    amount = pd.to_numeric(frame[amount_column], errors="raise").to_numpy(dtype=np.float64)

    def optional(columns: tuple[str, ...], default: np.ndarray) -> np.ndarray:
        column = _column(frame, columns)
        if column is None:
            return default.copy()
        return pd.to_numeric(frame[column], errors="raise").to_numpy(dtype=np.float64)

    low = optional(_LOW_COLUMNS, amount)
    high = optional(_HIGH_COLUMNS, amount)
    for values, what in ((amount, amount_column), (low, "low"), (high, "high")):
        _check_amounts(values, f"flows table, column {what}", lambda i: f"row {i}")
    inverted = np.flatnonzero(low > high)
    if inverted.size:
        raise ValueError(f"flows table: row {inverted[0]}: low {low[inverted[0]]!r} is above high {high[inverted[0]]!r}")

    found = pd.unique(frame[["src", "dst"]].to_numpy().ravel()).tolist()  # plain Python labels
    labels = _sorted_labels(list(parties) if parties is not None else found)
    position = {label: i for i, label in enumerate(labels)}
    unknown = set(frame["src"]).union(frame["dst"]) - position.keys()
    if unknown:
        raise ValueError(f"flows table: parties not in the ledger: {sorted(map(str, unknown))}")
    src = frame["src"].map(position).to_numpy(dtype=np.int64)
    dst = frame["dst"].map(position).to_numpy(dtype=np.int64)
    if "date" in frame.columns:
        day = pd.to_datetime(frame["date"], errors="raise").to_numpy(dtype="datetime64[D]")
    else:
        day = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    none = np.full(len(frame), None, dtype=object)
    deal_id = _texts(frame["deal_id"]) if "deal_id" in frame.columns else none
    kind = _texts(frame["kind"]) if "kind" in frame.columns else none.copy()
    return FlowNetwork(tuple(labels), src, dst, amount, low, high, day, deal_id, kind, dict(names or {}), ledger)


def _texts(column: pd.Series) -> np.ndarray:
    """A text column as an object array with None (not NaN or pd.NA) where a cell is empty."""
    values = column.to_numpy(dtype=object, copy=True)
    missing = column.isna().to_numpy()
    values[missing] = None
    return values


def _sorted_labels(labels: Sequence[Any]) -> list[Any]:
    labels = list(labels)
    try:
        return sorted(labels)
    except TypeError:  # labels that do not compare with each other keep their order
        return labels


def _from_matrix(data: Any, labels: Sequence[Any] | None) -> FlowNetwork:
    import scipy.sparse as sp

    if sp.issparse(data):
        coo = sp.coo_matrix(data)
        shape = coo.shape
        rows, cols, values = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(np.float64)
    else:
        try:
            dense = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"expected a Ledger, a flows DataFrame or a square matrix, not {type(data).__name__} ({exc})"
            ) from None
        if dense.ndim != 2:
            raise ValueError(f"expected a square matrix, got an array of shape {dense.shape}")
        shape = dense.shape
        if np.isnan(dense).any():
            i, j = np.argwhere(np.isnan(dense))[0]
            raise ValueError(f"matrix entry [{i}][{j}] is NaN; use 0 for no flow")
        rows, cols = np.nonzero(dense)
        rows, cols = rows.astype(np.int64), cols.astype(np.int64)
        values = dense[rows, cols]
    if shape[0] != shape[1]:
        raise ValueError(f"expected a square matrix, got shape {shape}")
    if np.isnan(values).any():
        k = int(np.flatnonzero(np.isnan(values))[0])
        raise ValueError(f"matrix entry [{rows[k]}][{cols[k]}] is NaN; use 0 for no flow")
    _check_amounts(values, "matrix", lambda k: f"[{rows[k]}][{cols[k]}]")
    keep = values != 0
    rows, cols, values = rows[keep], cols[keep], values[keep]
    n = shape[0]
    if labels is None:
        labels = list(range(n))
    labels = list(labels)
    if len(labels) != n:
        raise ValueError(f"{len(labels)} labels for a {n} × {n} matrix")
    if len(set(labels)) != n:
        raise ValueError("labels must be distinct")
    order = _sorted_labels(labels)
    if order != labels:  # renumber so that the smallest label is party 0
        given = {label: i for i, label in enumerate(labels)}
        rank = np.empty(n, dtype=np.int64)
        rank[[given[x] for x in order]] = np.arange(n)
        rows, cols = rank[rows], rank[cols]
    m = len(values)
    return FlowNetwork(
        tuple(order), rows, cols, values, values.copy(), values.copy(),
        np.full(m, np.datetime64("NaT"), dtype="datetime64[D]"),
        np.full(m, None, dtype=object), np.full(m, None, dtype=object),
    )
