"""Default cascades in rounds: Furfine's sequential defaults and the cross-holdings model of Elliott,
Golub & Jackson.  Both return which firm fails in which round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Cascade:
    """A default cascade, for one scenario (vectors) or many (arrays of shape (S, n)).

    * ``value_before``/``value_after``: each firm's value (capital, or market value) before and after;
    * ``losses``: ``value_before − value_after``;
    * ``defaulted`` and ``default_round`` (1: failed at the start; 0: survived); ``rounds``: rounds
      until nobody new failed.
    """

    model: str
    value_before: np.ndarray
    value_after: np.ndarray
    losses: np.ndarray
    defaulted: np.ndarray
    default_round: np.ndarray
    rounds: np.ndarray | int

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}


def _square(matrix, name: str) -> np.ndarray:
    M = np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {M.shape}")
    if not np.isfinite(M).all() or (M < 0).any():
        raise ValueError(f"{name} must be finite and not negative")
    return M


def _initial(failed, n: int) -> tuple[np.ndarray, bool]:
    array = np.asarray(failed)
    if array.dtype != bool:
        if not np.issubdtype(array.dtype, np.integer) or array.ndim != 1:
            raise ValueError("failed: a boolean mask (n,) or (S, n), or a list of firm indices")
        if array.size and (array.min() < 0 or array.max() >= n):
            raise ValueError(f"failed: firm indices must lie in 0 … {n - 1}")
        mask = np.zeros(n, dtype=bool)
        mask[array] = True
        array = mask
    if array.shape[-1] != n:
        raise ValueError(f"failed: {n} entries per scenario expected, got shape {array.shape}")
    return np.atleast_2d(array), array.ndim == 1


def _finish(model, before, after, failed, first, rounds, single) -> Cascade:
    result = Cascade(model, before, after, before - after, failed, np.where(failed, first, 0), rounds)
    if single:
        return Cascade(model, before[0], after[0], (before - after)[0], failed[0], np.where(failed, first, 0)[0],
                       int(rounds[0]))
    return result


def furfine(exposures, capital, failed, recovery=0.0) -> Cascade:
    """Sequential default cascade of Furfine (2003): a failed firm repays only ``recovery`` of what
    it owes; every creditor loses ``(1 − recovery)·exposure`` and fails when its losses reach its
    capital; repeated round by round until nobody new fails.

    Parameters
    ----------
    exposures : (n, n), ``exposures[i][j]`` = what i has lent to or invested in j; or (S, n, n), one
        network per scenario
    capital : (n,), each firm's capital (equity) buffer; or (S, n), one row per scenario
    failed : the firms failing at the start: a boolean mask (n,) or (S, n), or firm indices
    recovery : share of an exposure recovered from a failed firm, in [0, 1]: one number, or one per
        debtor (n,) or per scenario and debtor (S, n)

    Notes
    -----
    Credit losses only (Furfine's "credit" scenario); a firm's losses count each failed debtor once.

    References
    ----------
    .. [1] C. H. Furfine, "Interbank Exposures: Quantifying the Risk of Contagion", Journal of Money,
       Credit and Banking 35(1):111-128, 2003.

    Examples
    --------
    >>> r = furfine([[0, 0, 0], [80, 0, 0], [0, 50, 0]], [100, 60, 40], [0], recovery=0.25)
    >>> r.default_round.tolist(), r.value_after.tolist()
    ([1, 2, 0], [0.0, 0.0, 2.5])
    """
    raw = np.asarray(exposures.toarray() if hasattr(exposures, "toarray") else exposures, dtype=np.float64)
    A = _square(raw, "exposures") if raw.ndim != 3 else raw
    if A.ndim == 3 and (A.shape[1] != A.shape[2] or not np.isfinite(A).all() or (A < 0).any()):
        raise ValueError("exposures: a stack of square matrices (S, n, n), finite and not negative")
    n = A.shape[-1]
    K = np.asarray(capital, dtype=np.float64)
    if K.shape[-1:] != (n,) or K.ndim > 2 or not np.isfinite(K).all() or (K < 0).any():
        raise ValueError(f"capital must be {n} finite amounts of at least 0 (or a row of them per scenario)")
    rec = np.asarray(recovery, dtype=np.float64)
    if rec.ndim > 2 or (rec.ndim >= 1 and rec.shape[-1] != n) or not ((0 <= rec) & (rec <= 1)).all():
        raise ValueError(f"recovery must lie in [0, 1] (one number, or one per debtor), not {recovery}")
    start, single = _initial(failed, n)
    rows = max(start.shape[0], K.shape[0] if K.ndim == 2 else 1, A.shape[0] if A.ndim == 3 else 1,
               rec.shape[0] if rec.ndim == 2 else 1)
    if K.ndim == 2 or A.ndim == 3 or rec.ndim == 2:
        single = False
    for name, count in (("failures", start.shape[0]), ("capital", K.shape[0] if K.ndim == 2 else 1),
                        ("exposures", A.shape[0] if A.ndim == 3 else 1), ("recovery", rec.shape[0] if rec.ndim == 2 else 1)):
        if count not in (1, rows):
            raise ValueError(f"{rows} scenarios, but {count} of {name}")
    start = np.broadcast_to(start, (rows, n)).copy()
    S = rows
    A = A.copy()
    A[..., np.arange(n), np.arange(n)] = 0.0
    down = start.copy()
    first = np.where(start, 1, 0)
    newly = start.copy()
    loss = np.zeros((S, n))
    rounds = np.ones(S, dtype=np.int64)
    for round_ in range(2, n + 2):
        if not newly.any():
            break
        hit = newly * (1 - rec)  # what each failed debtor does not repay, per unit owed
        loss += hit @ A.T if A.ndim == 2 else np.einsum("sj,sij->si", hit, A)
        newly = (loss >= K - 1e-12 * np.maximum(K, 1)) & ~down & (loss > 0)
        first = np.where(newly, round_, first)
        rounds = np.where(newly.any(axis=1), round_, rounds)
        down |= newly
    before = np.broadcast_to(K, (S, n)).copy()
    after = np.where(down, 0.0, np.maximum(K - loss, 0.0))
    return _finish("furfine", before, after, down, first, rounds, single)


def elliott_golub_jackson(cross_holdings, assets, thresholds, failure_costs, shocked_assets=None) -> Cascade:
    """Cascades of failures through cross-holdings (Elliott, Golub & Jackson 2014).

    ``cross_holdings[i][j]`` is the share of firm j that firm i holds (column sums below 1; the rest,
    ``Ĉ_jj = 1 − Σ_i C_ij``, belongs to outside shareholders).  Market values are
    ``v = Ĉ (I − C)⁻¹ (assets − failure_costs·failed)``; firm i fails when ``v_i < θ_i · v_i⁰``, its
    value without shock and failures, and then loses ``failure_costs[i]`` more (discontinuously).

    Parameters
    ----------
    cross_holdings : (n, n) shares in [0, 1), columns summing below 1
    assets : (n,), the value of each firm's own (primitive) assets before the shock
    thresholds : (n,) in [0, 1], θ
    failure_costs : (n,), β: the value lost when a firm fails
    shocked_assets : (n,) or (S, n), the assets after the shock (default: ``assets``)

    Notes
    -----
    The algorithm of EGJ (2014, section II.C): start with no failures; compute values; add every
    firm below its threshold; recompute with their failure costs; until nobody new fails.  It finds
    the best-case equilibrium (the fewest failures).

    References
    ----------
    .. [1] M. Elliott, B. Golub, M. O. Jackson, "Financial Networks and Contagion", American
       Economic Review 104(10):3115-3153, 2014.
    """
    C = _square(cross_holdings, "cross_holdings")
    n = C.shape[0]
    if (np.diag(C) != 0).any() or (C >= 1).any() or (C.sum(axis=0) >= 1).any():
        raise ValueError("cross_holdings: shares in [0, 1), no self-holdings, every column summing below 1")
    p = np.asarray(assets, dtype=np.float64)
    theta = np.asarray(thresholds, dtype=np.float64)
    beta = np.asarray(failure_costs, dtype=np.float64)
    for name, vector in (("assets", p), ("thresholds", theta), ("failure_costs", beta)):
        if vector.shape != (n,) or not np.isfinite(vector).all() or (vector < 0).any():
            raise ValueError(f"{name} must be {n} finite amounts of at least 0")
    if (theta > 1).any():
        raise ValueError("thresholds must lie in [0, 1]")
    shocked = np.asarray(p if shocked_assets is None else shocked_assets, dtype=np.float64)
    single = shocked.ndim == 1
    shocked = np.atleast_2d(shocked)
    if shocked.shape[1] != n or not np.isfinite(shocked).all():
        raise ValueError(f"shocked_assets must have {n} finite entries per scenario")
    dependency = np.diag(1 - C.sum(axis=0)) @ np.linalg.inv(np.eye(n) - C)  # Ĉ (I − C)⁻¹
    v0 = dependency @ p
    S = shocked.shape[0]
    failed = np.zeros((S, n), dtype=bool)
    first = np.zeros((S, n), dtype=np.int64)
    rounds = np.zeros(S, dtype=np.int64)
    for round_ in range(1, n + 2):
        values = (shocked - beta * failed) @ dependency.T
        newly = (values < theta * v0 - 1e-12 * np.maximum(np.abs(v0), 1)) & ~failed
        if not newly.any():
            break
        first = np.where(newly, round_, first)
        rounds = np.where(newly.any(axis=1), round_, rounds)
        failed |= newly
    values = (shocked - beta * failed) @ dependency.T
    return _finish("elliott_golub_jackson", np.broadcast_to(v0, (S, n)).copy(), values, failed, first, rounds, single)
