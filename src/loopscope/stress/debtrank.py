"""DebtRank: how distress (a fall in equity) spreads from the firms hit first to those exposed to them.

Convention: ``exposures[i][j]`` is what firm i has lent to or invested in firm j (i's asset on j);
``equity[i]`` is i's equity before the shock.  ``h[i]`` is i's relative loss of equity (0: untouched,
1: wiped out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Distress:
    """DebtRank's result, for one scenario (vectors) or many (arrays of shape (S, n)).

    * ``h``: final relative equity loss per firm; ``h0``: the initial shock;
    * ``losses``: ``h · equity``; ``defaulted``: ``h == 1`` (equity wiped out);
    * ``distress_round``: the step in which a firm first lost equity (1: hit by the shock;
      0: never);
    * ``debtrank``: the loss caused by propagation, ``Σ (h − h0)·v / Σ v`` with economic values
      ``v`` (equity by default), one number per scenario;
    * ``rounds``: steps until nothing moved.
    """

    model: str
    h: np.ndarray
    h0: np.ndarray
    losses: np.ndarray
    defaulted: np.ndarray
    distress_round: np.ndarray
    debtrank: np.ndarray | float
    rounds: np.ndarray | int

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}


def _shock(shocked, n: int) -> tuple[np.ndarray, bool]:
    array = np.asarray(shocked)
    if array.dtype == bool:
        if array.shape[-1] != n:
            raise ValueError(f"shocked: a mask needs {n} entries per scenario, got shape {array.shape}")
        h0 = array.astype(np.float64)
    elif np.issubdtype(array.dtype, np.integer) and array.ndim == 1:  # firm indices
        if array.size and (array.min() < 0 or array.max() >= n):
            raise ValueError(f"shocked: firm indices must lie in 0 … {n - 1}")
        h0 = np.zeros(n)
        h0[array] = 1.0
    else:
        h0 = array.astype(np.float64)
        if h0.shape[-1] != n:
            raise ValueError(f"shocked: {n} initial losses per scenario expected, got shape {h0.shape}")
        if not np.isfinite(h0).all() or (h0 < 0).any() or (h0 > 1).any():
            raise ValueError("shocked: initial relative losses must lie in [0, 1]")
    single = h0.ndim == 1
    return np.atleast_2d(h0), single


def debtrank(exposures, equity, shocked, linear: bool = False, values=None, max_rounds: int = 100_000) -> Distress:
    """DebtRank (Battiston et al. 2012) or linear DebtRank (Bardoscia et al. 2015).

    Parameters
    ----------
    exposures : (n, n), ``exposures[i][j]`` = what i has lent to or invested in j
    equity : (n,), each firm's equity before the shock (positive)
    shocked : the initial relative equity losses, (n,) floats in [0, 1] or (S, n) for S scenarios;
        a boolean mask (those firms lose everything); or a list of firm indices (integers)
    linear : False for the original DebtRank, True for linear DebtRank
    values : (n,), economic weights for the DebtRank number (default: equity)

    Notes
    -----
    *Original.*  Impact of j on i: ``W_ij = min(1, exposures[i][j] / equity[i])``.  Firms are
    undistressed, distressed or inactive; each distressed firm passes its distress on exactly once,
    ``h_i(t) = min(1, h_i(t-1) + Σ_{j distressed at t-1} W_ij h_j(t-1))``, then becomes inactive, so
    distress never reverberates along cycles (Battiston, Puliga, Kaushik, Tasca & Caldarelli 2012).
    A consequence: hitting more firms at once can end in *less* distress, because a firm hit at the
    start passes on only its initial loss (the tests show a case); hitting the same firms harder
    never helps.

    *Linear.*  ``h(t+1) = min(1, h(t) + Λ (h(t) − h(t−1)))`` with ``Λ_ij = exposures[i][j] /
    equity[i]``: every change is passed on, also around cycles (Bardoscia, Battiston, Caccioli &
    Caldarelli 2015); iterated until no level moves by more than 1e-15 (relative).

    References
    ----------
    .. [1] S. Battiston, M. Puliga, R. Kaushik, P. Tasca, G. Caldarelli, "DebtRank: Too Central to
       Fail? Financial Networks, the FED and Systemic Risk", Scientific Reports 2:541, 2012.
    .. [2] M. Bardoscia, S. Battiston, F. Caccioli, G. Caldarelli, "DebtRank: A Microscopic
       Foundation for Shock Propagation", PLoS ONE 10(6):e0130406, 2015.

    Examples
    --------
    >>> r = debtrank([[0, 0, 0], [50, 0, 0], [0, 200, 0]], [100, 100, 100], [0])
    >>> r.h.tolist(), r.distress_round.tolist()
    ([1.0, 0.5, 0.5], [1, 2, 3])
    """
    A = np.asarray(exposures.toarray() if hasattr(exposures, "toarray") else exposures, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"exposures must be a square matrix, got shape {A.shape}")
    n = A.shape[0]
    if not np.isfinite(A).all() or (A < 0).any():
        raise ValueError("exposures must be finite and not negative")
    E = np.asarray(equity, dtype=np.float64)
    if E.shape != (n,) or not np.isfinite(E).all() or (E <= 0).any():
        raise ValueError(f"equity must be {n} finite positive amounts (a firm without equity is already insolvent)")
    v = E if values is None else np.asarray(values, dtype=np.float64)
    h0, single = _shock(shocked, n)
    ratio = A / E[:, None]
    np.fill_diagonal(ratio, 0.0)
    h = h0.copy()
    first = np.where(h0 > 0, 1, 0)
    rounds = np.zeros(h.shape[0], dtype=np.int64)
    if linear:
        previous = np.zeros_like(h)
        for step in range(2, max_rounds + 2):
            nxt = np.minimum(1.0, h + (h - previous) @ ratio.T)
            moved = np.abs(nxt - h) > 1e-15 * np.maximum(h, 1e-300)
            first = np.where((first == 0) & (nxt > 0), step, first)
            rounds = np.where(moved.any(axis=1), step - 1, rounds)
            previous, h = h, nxt
            if not moved.any():
                break
        model = "debtrank_linear"
    else:
        W = np.minimum(1.0, ratio)
        distressed = h0 > 0
        inactive = np.zeros_like(distressed)
        for step in range(2, n + 3):
            if not distressed.any():
                break
            nxt = np.minimum(1.0, h + (h * distressed) @ W.T)
            inactive |= distressed
            distressed = (nxt > 0) & ~inactive
            first = np.where((first == 0) & (nxt > 0), step, first)
            rounds = np.where(distressed.any(axis=1) | (nxt != h).any(axis=1), step - 1, rounds)
            h = nxt
        model = "debtrank"
    rank = ((h - h0) * v).sum(axis=1) / v.sum()
    result = Distress(model, h, h0, h * E, h >= 1.0, first, rank, rounds)
    if single:
        return Distress(model, h[0], h0[0], (h * E)[0], (h >= 1.0)[0], first[0], float(rank[0]), int(rounds[0]))
    return result
