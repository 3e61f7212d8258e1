"""How much money goes in circles: maximum circulation and weighted reciprocity.

:func:`max_circulation` splits a flow matrix ``W`` into the largest circulation ``C`` it contains
(money that could be netted away without changing anybody's net position) and the acyclic rest
``D = W - C`` (one-way money, from net payers to net receivers).  :func:`reciprocity` is the cheaper,
smaller measure that only looks at pairs paying each other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .network import as_network

__all__ = ["Circulation", "max_circulation", "reciprocity"]


# --------------------------------------------------------------------------------------------------
# JSON helpers (shared by the analysis modules of this package)


def _plain(value: Any) -> Any:
    """A JSON-ready version of one value: numpy scalars to Python, NaN and infinities to None."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value)
    return str(value)


def _plain_label(label: Any) -> Any:
    """A party label as JSON allows it: str, int, float or bool stay, anything else becomes str."""
    return _plain(label)


def _plain_series(series: pd.Series) -> dict[str, Any]:
    """A Series keyed by party label as a JSON object (keys are ``str(label)``)."""
    return {str(_plain_label(k)): _plain(v) for k, v in series.items()}


def _plain_frame(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as a list of JSON-ready records."""
    columns = list(frame.columns)
    arrays = [frame[c].to_numpy() for c in columns]
    return [{c: _plain(a[i]) for c, a in zip(columns, arrays)} for i in range(len(frame))]


def _label_array(labels: Sequence[Any], index: np.ndarray) -> np.ndarray:
    """The labels of the parties ``index`` as an array (numeric labels stay numeric)."""
    try:
        arr = np.asarray(labels)
    except ValueError:  # ragged tuples and the like
        arr = np.empty(0)
    if arr.ndim != 1 or arr.dtype.kind not in "iuf" or len(arr) != len(labels):
        arr = np.empty(len(labels), dtype=object)
        for i, label in enumerate(labels):
            arr[i] = label
    return arr[index]


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator > 0 else math.nan


# --------------------------------------------------------------------------------------------------
# Maximum circulation


@dataclass(frozen=True, eq=False)
class Circulation:
    """Result of :func:`max_circulation`: ``W = circular + residual``.

    Attributes
    ----------
    labels : tuple
        Party labels; index ``i`` of every matrix is ``labels[i]``.
    circular : scipy.sparse.csr_matrix
        ``C``, the maximum circulation (every party receives from it exactly what it pays into it).
    residual : scipy.sparse.csr_matrix
        ``D = W - C``, the acyclic one-way part.  Both matrices store non-zero entries only.
    gross : float
        ``sum W`` (all flows between distinct parties; undisclosed amounts count 0).
    circulated : float
        ``sum C``: the money that goes in circles.
    circularity : float
        ``circulated / gross`` (NaN if gross is 0).
    one_way : float
        ``gross - circulated = sum D``: the money that does not come back.
    outside_money : float
        The sum of the positive net positions: what net payers put in from outside the network.
        ``outside_money <= one_way``; the difference is one-way money passed along intermediaries.
    net_positions : pandas.Series
        Label -> ``out(W) - in(W)`` (positive: net payer).  ``C`` leaves it unchanged.
    gross_low, gross_high, circulated_low, circulated_high : float
        The same on the ``low`` and ``high`` amounts.  The maximum circulation is monotone in the
        capacities, so ``circulated_low <= circulated <= circulated_high`` bound the circulated volume
        whenever every low <= amount <= high.
    circularity_low, circularity_high : float
        ``circulated_low / gross_low`` and ``circulated_high / gross_high``: the ratio at the low and
        high amounts, *not* bounds on :attr:`circularity` (numerator and denominator both move).
    max_imbalance : float
        ``max_i |out_i(C) - in_i(C)|`` after cleaning the solver's answer: how far ``C`` is from an
        exact circulation (0 up to rounding).
    """

    labels: tuple[Any, ...]
    circular: sp.csr_matrix
    residual: sp.csr_matrix
    gross: float
    circulated: float
    circularity: float
    one_way: float
    outside_money: float
    net_positions: pd.Series
    gross_low: float
    gross_high: float
    circulated_low: float
    circulated_high: float
    circularity_low: float
    circularity_high: float
    max_imbalance: float

    def summary(self) -> str:
        """The headline sentence: of $X of deals, $Y goes in circles; $Z is one-way money."""
        return (
            f"of ${self.gross:,.0f} of deals, ${self.circulated:,.0f} goes in circles "
            f"({self.circularity:.1%}); ${self.one_way:,.0f} is the rest (one-way money), "
            f"of which ${self.outside_money:,.0f} is put in by net payers"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per ordered pair with a non-zero amount, sorted by party index.

        Columns ``src``, ``dst`` (labels), ``amount`` (``W``), ``circular`` (``C``), ``residual`` (``D``).
        """
        n = len(self.labels)
        c, d = self.circular.tocoo(), self.residual.tocoo()
        key_c = c.row.astype(np.int64) * n + c.col
        key_d = d.row.astype(np.int64) * n + d.col
        keys = np.union1d(key_c, key_d)
        circular = np.zeros(keys.size)
        residual = np.zeros(keys.size)
        circular[np.searchsorted(keys, key_c)] = c.data
        residual[np.searchsorted(keys, key_d)] = d.data
        rows, cols = keys // max(n, 1), keys % max(n, 1)
        return pd.DataFrame({
            "src": _label_array(self.labels, rows),
            "dst": _label_array(self.labels, cols),
            "amount": circular + residual,
            "circular": circular,
            "residual": residual,
        })

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: headline numbers, net positions keyed by ``str(label)``, one record per edge."""
        out: dict[str, Any] = {"labels": [_plain_label(x) for x in self.labels]}
        for name in ("gross", "circulated", "circularity", "one_way", "outside_money", "gross_low", "gross_high",
                     "circulated_low", "circulated_high", "circularity_low", "circularity_high", "max_imbalance"):
            out[name] = _plain(getattr(self, name))
        out["net_positions"] = _plain_series(self.net_positions)
        out["edges"] = _plain_frame(self.to_frame())
        return out


_HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}


def _circulation_lp(W: sp.csr_matrix) -> tuple[np.ndarray, float]:
    """Maximum circulation of ``W`` (CSR, sorted, no self-loops): ``C.data`` aligned with ``W.data``.

    Returns the values of ``C`` on ``W``'s stored entries and the largest node imbalance of ``C``.
    """
    from scipy.optimize import linprog
    from scipy.sparse.csgraph import connected_components

    n = W.shape[0]
    values = np.zeros(W.nnz)
    if W.nnz == 0:
        return values, 0.0
    rows = np.repeat(np.arange(n), np.diff(W.indptr))
    cols = W.indices
    positive = W.data > 0
    if not positive.any():
        return values, 0.0
    # only edges inside a strongly connected component (of the positive edges) lie on a cycle
    support = sp.csr_matrix((np.ones(int(positive.sum())), (rows[positive], cols[positive])), shape=(n, n))
    _, component = connected_components(support, directed=True, connection="strong")
    size = np.bincount(component)
    inside = positive & (component[rows] == component[cols]) & (size[component[rows]] > 1)
    edges = np.flatnonzero(inside)
    if edges.size == 0:
        return values, 0.0
    capacity = W.data[edges]
    # HiGHS's tolerances are absolute: scale to typical amounts of order 1 and tighten them
    scale = float(np.median(capacity))
    bound = capacity / scale
    nodes, local = np.unique(np.concatenate([rows[edges], cols[edges]]), return_inverse=True)
    m = edges.size
    tail, head = local[:m], local[m:]
    # node-edge incidence: +1 where the edge leaves the node, -1 where it enters
    incidence = sp.csr_matrix(
        (np.concatenate([np.ones(m), -np.ones(m)]), (np.concatenate([tail, head]), np.tile(np.arange(m), 2))),
        shape=(nodes.size, m),
    )
    problem = {"A_eq": incidence, "b_eq": np.zeros(nodes.size), "bounds": np.column_stack([np.zeros(m), bound]),
               "method": "highs"}
    result = linprog(-np.ones(m), **problem, options=_HIGHS_OPTIONS)
    if result.status != 0:  # pragma: no cover - retry with HiGHS's default tolerances
        result = linprog(-np.ones(m), **problem)
    if result.status != 0:  # pragma: no cover - C = 0 is always feasible and the LP is bounded
        raise RuntimeError(f"maximum circulation: the LP solver failed: {result.message}")
    flow = np.clip(result.x, 0.0, bound) * scale
    # snap the solver's last-digit noise to the bounds
    tiny = 1e-12 * scale
    flow[flow < tiny] = 0.0
    full = capacity - flow < tiny
    flow[full] = capacity[full]
    values[edges] = flow
    balance = np.bincount(tail, weights=flow, minlength=nodes.size) - np.bincount(head, weights=flow,
                                                                                  minlength=nodes.size)
    return values, float(np.abs(balance).max()) if balance.size else 0.0


def max_circulation(data: Any, labels: Sequence[Any] | None = None) -> Circulation:
    """The largest circulation inside a flow network, and the acyclic rest.

    Finds ``C`` with ``0 <= C <= W`` on the existing edges, in-flow equal to out-flow at every party,
    and ``sum C`` as large as possible.  Equivalently it minimises ``sum D`` for ``D = W - C`` keeping
    every party's net position ``out(W) - in(W)``: ``D`` is the smallest set of payments that settles
    the same net positions (conservative compression), ``C`` is what could be netted away.

    Parameters
    ----------
    data : Ledger, pandas.DataFrame, numpy.ndarray or scipy.sparse matrix
        Anything :func:`~loopscope.analysis.as_network` accepts: a ledger, a flows table (``src``,
        ``dst``, ``amount`` and optionally ``low``/``high``), or a square matrix ``W`` with ``W[i][j]``
        the amount paid by i to j.
    labels : sequence, optional
        Party labels for a matrix (default ``0 … n-1``).

    Returns
    -------
    Circulation
        ``circular`` (C), ``residual`` (D), ``gross``, ``circulated``, ``circularity``, ``one_way``,
        ``outside_money``, ``net_positions``, the same headline at the low and high amounts, and
        ``max_imbalance``.  The headline reads: "of $``gross`` of deals, $``circulated`` goes in
        circles; $``one_way`` is the rest (one-way money)".

    Notes
    -----
    *Method.*  A minimum-cost-flow problem with unit costs, solved as a linear programme with HiGHS
    (``scipy.optimize.linprog(method="highs")``): maximise ``sum c_e`` subject to ``B c = 0`` (``B``
    the sparse node-edge incidence matrix) and ``0 <= c_e <= w_e``.  An edge can carry circulation
    only if it lies on a cycle, i.e. inside a non-trivial strongly connected component of the graph
    of positive flows; the LP is restricted to those edges (and their parties), which is exact and
    makes it much smaller.  Capacities are divided by their median before solving, and HiGHS's
    feasibility tolerances tightened to ``1e-9`` (they are absolute).  The solution is cleaned:
    clipped to ``[0, W]``, values within ``1e-12`` times the median of a bound snapped to it; the
    largest remaining node imbalance of ``C`` is reported as ``max_imbalance``.  Flows smaller than
    about ``1e-9`` times the median amount are below the solver's resolution.

    *Conventions.*  Self-loops (a party paying itself) are left out of ``W``, ``gross`` and ``C``.
    Undisclosed amounts count 0.  ``outside_money`` = sum over parties of ``max(out - in, 0)``: the
    money net payers put in from outside; it equals the money net receivers take out.  ``one_way =
    gross - circulated = sum D`` is at least ``outside_money``: a dollar of outside money counts once
    per payment along its way from payer to receiver, so the difference measures intermediation.
    ``D`` is acyclic: if it had a cycle of positive entries, ``C`` could be increased along it.
    The decomposition ``C`` is a maximum, not unique in general; ``circulated`` is unique.

    *Uncertainty.*  The maximum circulation is monotone in the capacities (a circulation feasible
    at the low amounts is feasible at any larger ones), so the LP at the low and the high amounts
    gives lower and upper bounds ``circulated_low``, ``circulated_high`` on the circulated volume.
    ``circularity_low``/``circularity_high`` are merely the ratios at those amounts.

    *Complexity.*  One LP with ``m'`` variables and ``n'`` equality constraints (edges and parties
    in non-trivial strongly connected components), three LPs with low and high amounts (two are
    skipped when they equal the amounts).  About 3 s for 100,000 random edges among 20,000 parties.

    *Blind spots.*  It ignores time and contract types: money that flows around a loop years apart,
    or as different kinds of deal, counts as circular.  Compare :func:`reciprocity` (only 2-cycles,
    a lower bound) and the Helmholtz-Hodge loop ratio (net flows only).

    References
    ----------
    .. [1] Homs-Dones, C., MacKay, R. S., Sansom, B. & Zhou, Y. (2025). Circular and directed flow
       decomposition of networks. (CDFD; also defines the balanced-flow-forwarding decomposition,
       which never exceeds the maximum circulation.)
    .. [2] D'Errico, M. & Roukny, T. (2021). Compressing over-the-counter markets. *Operations
       Research* 69(6), 1660-1679.
    .. [3] Ahuja, R. K., Magnanti, T. L. & Orlin, J. B. (1993). *Network Flows: Theory, Algorithms,
       and Applications*. Prentice Hall (minimum-cost flow and circulation problems).

    Examples
    --------
    Two parties paying each other 100 and 80: 160 goes in circles, 20 is one-way money.

    >>> from loopscope.analysis.circulation import max_circulation
    >>> result = max_circulation([[0, 100], [80, 0]], labels=["A", "B"])
    >>> result.gross, result.circulated, result.one_way, result.outside_money
    (180.0, 160.0, 20.0, 20.0)
    >>> result.residual.toarray().tolist()
    [[0.0, 20.0], [0.0, 0.0]]

    A triangle whose weakest link carries 10 circulates 10 on each edge:

    >>> triangle = max_circulation([[0, 50, 0], [0, 0, 10], [30, 0, 0]])
    >>> triangle.circulated, round(triangle.circularity, 4)
    (30.0, 0.3333)
    >>> print(triangle.summary())
    of $90 of deals, $30 goes in circles (33.3%); $60 is the rest (one-way money), of which $40 is put in by net payers
    """
    network = as_network(data, labels)
    W = network.matrix("amount")
    values, imbalance = _circulation_lp(W)
    C = sp.csr_matrix((values.copy(), W.indices.copy(), W.indptr.copy()), shape=W.shape)
    D = sp.csr_matrix((W.data - values, W.indices.copy(), W.indptr.copy()), shape=W.shape)
    D.data[D.data < 0] = 0.0  # cannot happen after clipping; keeps -0.0 away
    C.eliminate_zeros()
    D.eliminate_zeros()

    out_w = np.asarray(W.sum(axis=1)).ravel()
    in_w = np.asarray(W.sum(axis=0)).ravel()
    net = out_w - in_w
    gross = float(W.data.sum())
    circulated = float(values.sum())

    bounds = {}
    for column in ("low", "high"):
        other = network.matrix(column)
        if other.nnz == W.nnz and np.array_equal(other.indices, W.indices) and np.array_equal(other.data, W.data):
            bounds[column] = (gross, circulated)
        else:
            other_values, _ = _circulation_lp(other)
            bounds[column] = (float(other.data.sum()), float(other_values.sum()))

    return Circulation(
        labels=network.labels,
        circular=C,
        residual=D,
        gross=gross,
        circulated=circulated,
        circularity=_ratio(circulated, gross),
        one_way=gross - circulated,
        outside_money=float(np.clip(net, 0.0, None).sum()),
        net_positions=pd.Series(net, index=pd.Index(_label_array(network.labels, np.arange(network.n))), name="net_position"),
        gross_low=bounds["low"][0],
        gross_high=bounds["high"][0],
        circulated_low=bounds["low"][1],
        circulated_high=bounds["high"][1],
        circularity_low=_ratio(bounds["low"][1], bounds["low"][0]),
        circularity_high=_ratio(bounds["high"][1], bounds["high"][0]),
        max_imbalance=imbalance,
    )


# --------------------------------------------------------------------------------------------------
# Reciprocity


def reciprocity(data: Any, labels: Sequence[Any] | None = None) -> float:
    """Weighted reciprocity: the share of the flow that is matched by a flow back.

    ``r = sum_{i != j} min(w_ij, w_ji) / sum_{i != j} w_ij``.

    Parameters
    ----------
    data : Ledger, pandas.DataFrame, numpy.ndarray or scipy.sparse matrix
        Anything :func:`~loopscope.analysis.as_network` accepts (``W[i][j]``: amount from i to j).
    labels : sequence, optional
        Party labels for a matrix.

    Returns
    -------
    float
        Between 0 (no pair pays both ways) and 1 (every payment is matched by an equal one back);
        NaN for a network without flows (or whose flows all count 0).

    Notes
    -----
    Computed on the amounts with self-loops left out and undisclosed amounts counted 0, in
    ``O(m log m)`` for ``m`` edges.  ``min(W, W^T)`` is itself a circulation (a set of 2-cycles)
    below ``W``, so reciprocity never exceeds the maximum circularity of :func:`max_circulation`;
    it misses every loop longer than two.

    References
    ----------
    .. [1] Squartini, T., Picciolo, F., Ruzzenenti, F. & Garlaschelli, D. (2013). Reciprocity of
       weighted networks. *Scientific Reports* 3, 2729.

    Examples
    --------
    >>> from loopscope.analysis.circulation import reciprocity
    >>> reciprocity([[0, 100], [80, 0]])   # 2 * 80 / 180
    0.8888888888888888
    >>> reciprocity([[0, 1, 0], [0, 0, 1], [1, 0, 0]])   # a triangle has no reciprocal pair
    0.0
    """
    W = as_network(data, labels).matrix("amount")
    total = float(W.data.sum())
    if not total > 0:
        return math.nan
    matched = float(W.minimum(W.T.tocsr()).sum())
    return matched / total
