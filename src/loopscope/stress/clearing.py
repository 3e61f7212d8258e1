"""Clearing models: who can pay how much of what they owe, once someone cannot.

Conventions, the same in every model here:

* ``liabilities[i][j]`` is what firm i owes firm j (nominal, due now);
* ``external_assets[i]`` is what firm i has from outside the network (cash plus what outsiders owe it),
  one vector for one scenario or a matrix of shape (scenarios, firms) for many at once;
* ``external_liabilities[i]`` is what firm i owes outside creditors (default 0).

Both models follow the clearing framework of Eisenberg & Noe (2001) and return the *greatest* clearing
vector, found exactly by the fictitious default algorithm (at most ``n`` rounds of linear solves per
scenario); a firm's default round is the round in which the algorithm first finds it short.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

SENIORITIES = ("pro_rata", "external_senior")


@dataclass(frozen=True)
class Clearing:
    """The clearing of one scenario (vectors of length n) or of many (arrays of shape (S, n)).

    * ``payments``: what each firm pays in total (to firms and outside creditors);
    * ``obligations``: what it owes in total;
    * ``equity_book``: its equity if every debtor paid in full (external assets + claims − obligations);
    * ``equity``: its equity after clearing (external assets + claims actually paid − its
      obligations), negative for a firm in default; ``losses`` = ``equity_book − equity``;
    * ``defaulted``: paid less than it owed; ``default_round``: the round of the fictitious default
      algorithm in which it was first found short (1, 2, …; 0: did not default); with senior outside
      creditors, the step of the fixed-point iteration in which it first fell short;
    * ``rounds``: rounds (or iteration steps) the algorithm needed per scenario.
    """

    model: str
    payments: np.ndarray
    obligations: np.ndarray
    equity_book: np.ndarray
    equity: np.ndarray
    losses: np.ndarray
    defaulted: np.ndarray
    default_round: np.ndarray
    rounds: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}


def _inputs(liabilities, external_assets, external_liabilities):
    L = np.asarray(liabilities.toarray() if hasattr(liabilities, "toarray") else liabilities, dtype=np.float64)
    if L.ndim not in (2, 3) or L.shape[-2] != L.shape[-1]:
        raise ValueError(f"liabilities must be a square matrix (n, n) or a stack of them (S, n, n), got shape {L.shape}")
    n = L.shape[-1]
    if not np.isfinite(L).all() or (L < 0).any():
        raise ValueError("liabilities must be finite and not negative")
    if np.diagonal(L, axis1=-2, axis2=-1).any():
        raise ValueError("liabilities: a firm cannot owe itself (the diagonal must be 0)")
    e = np.asarray(external_assets, dtype=np.float64)
    single = e.ndim == 1 and L.ndim == 2
    e = np.atleast_2d(e)
    if e.ndim != 2 or e.shape[1] != n:
        raise ValueError(f"external_assets must have {n} entries per scenario, got shape {np.shape(external_assets)}")
    if L.ndim == 3:
        if e.shape[0] == 1:
            e = np.broadcast_to(e, (L.shape[0], n))
        if e.shape[0] != L.shape[0]:
            raise ValueError(f"{L.shape[0]} networks but {e.shape[0]} scenarios of external assets")
    if not np.isfinite(e).all() or (e < 0).any():
        raise ValueError("external_assets must be finite and not negative")
    ext = np.zeros(n) if external_liabilities is None else np.asarray(external_liabilities, dtype=np.float64)
    if ext.shape != (n,) or not np.isfinite(ext).all() or (ext < 0).any():
        raise ValueError(f"external_liabilities must be {n} finite amounts of at least 0")
    return L, e, ext, single


def _solve(L, e, ext, seniority: str, alpha: float, beta: float, model: str) -> Clearing:
    """The fictitious default algorithm, generalised to default costs (Rogers & Veraart 2013) and to
    outside creditors senior to the network's.  Pro rata: the compiled kernel, all scenarios in
    parallel; senior outside creditors: :func:`_solve_senior`."""
    if seniority not in SENIORITIES:
        raise ValueError(f"seniority must be one of {SENIORITIES}, not {seniority!r}")
    if seniority == "external_senior":
        if L.ndim == 2:
            return _solve_senior(L, _shares(L, L.sum(axis=1)), e, ext, L.sum(axis=1), model)
        parts = [_solve_senior(L[s], _shares(L[s], L[s].sum(axis=1)), e[s:s + 1], ext, L[s].sum(axis=1), model)
                 for s in range(L.shape[0])]
        return Clearing(model, *(np.concatenate([getattr(r, f) for r in parts]) for f in _FIELDS))
    from ._clearing_kernels import clear_many

    stack = L if L.ndim == 3 else L[None]
    owed = stack.sum(axis=2) + ext
    pi = _shares(stack, owed)
    p, book, equity, losses, defaulted, default_round, rounds = clear_many(
        pi, owed, np.ascontiguousarray(e), float(alpha), float(beta))
    obligations = owed if L.ndim == 3 else np.broadcast_to(owed[0], p.shape)  # a read-only view, no copy
    return Clearing(model, p, obligations, book, equity, losses, defaulted, default_round, rounds)


_FIELDS = ("payments", "obligations", "equity_book", "equity", "losses", "defaulted", "default_round", "rounds")


def _shares(L, owed):
    """``pi[i][j]``: the share of what i pays that goes to j (0 for a firm that owes nothing)."""
    return np.divide(L, owed[..., None], out=np.zeros_like(L), where=owed[..., None] > 0)


def _solve_numpy(L, e, ext, seniority: str, alpha: float, beta: float, model: str) -> Clearing:
    """The fictitious default algorithm in numpy, a Python loop over scenarios: the straightforward
    implementation, kept as the reference the compiled kernel is tested and benchmarked against."""
    if seniority not in SENIORITIES:
        raise ValueError(f"seniority must be one of {SENIORITIES}, not {seniority!r}")
    n = L.shape[0]
    interbank = L.sum(axis=1)
    senior = seniority == "external_senior"
    # pro rata: external creditors are one more creditor; senior: they are paid before the network
    owed = interbank if senior else interbank + ext
    with np.errstate(invalid="ignore", divide="ignore"):
        pi = np.where(owed[:, None] > 0, L / np.where(owed > 0, owed, 1)[:, None], 0.0)  # share of i's payments to j
    S = e.shape[0]
    if senior:
        return _solve_senior(L, pi, e, ext, owed, model)
    p = np.broadcast_to(owed, (S, n)).copy()  # start: everyone pays in full
    state = np.zeros((S, n), dtype=np.int8)  # 0 pays in full, 1 pays part, 2 pays nothing to the network
    first_round = np.zeros((S, n), dtype=np.int64)
    rounds = np.zeros(S, dtype=np.int64)
    active = np.ones(S, dtype=bool)
    for round_ in range(1, 2 * n + 2):
        if not active.any():
            break
        idx = np.flatnonzero(active)
        assets = e[idx] + p[idx] @ pi  # external assets + what the others pay in
        need = owed + (ext if senior else 0.0)
        new_state = np.where(assets >= need - 1e-12 * np.maximum(need, 1), 0, 1).astype(np.int8)
        if senior:
            new_state[assets <= ext] = 2
        new_state = np.maximum(new_state, state[idx])  # the fictitious default sets only grow
        changed = (new_state != state[idx]).any(axis=1)
        fresh = (new_state > 0) & (state[idx] == 0)
        first_round[idx] = np.where(fresh, round_, first_round[idx])
        state[idx] = new_state
        rounds[idx[changed]] = round_
        done = idx[~changed]
        active[done] = False
        for s in idx[changed]:
            p[s] = _clear(pi, e[s], owed, ext if senior else np.zeros(n), state[s], alpha, beta, p[s])
    if active.any():  # pragma: no cover - the sets can only grow, so at most 2n rounds
        raise RuntimeError("the fictitious default algorithm did not settle")
    claims_paid = p @ pi
    book = e + owed @ pi - owed - (ext if senior else 0.0)
    equity = e + claims_paid - owed - (ext if senior else 0.0)
    defaulted = p < owed - 1e-9 * np.maximum(owed, 1)
    if senior:
        defaulted |= e + claims_paid < owed + ext - 1e-9 * np.maximum(owed + ext, 1)
    return Clearing(model, p, np.broadcast_to(owed + (ext if senior else 0.0), p.shape).copy(), book, equity,
                    book - equity, defaulted, np.where(defaulted, first_round, 0), rounds)


def _solve_senior(L, pi, e, ext, owed, model: str) -> Clearing:
    """Outside creditors first: p = min(L̄, max(e + Πᵀp − ext, 0)).  Every firm's network payments
    are then split among network creditors only, so every group is closed and the fictitious default
    systems can be singular.  Fixed-point iteration from full payment decreases monotonically to the
    greatest clearing vector (Eisenberg & Noe 2001, Theorem 2); it is used to find who pays in full,
    in part and nothing, then the payments of the part-payers are solved exactly where the system is
    regular."""
    S, n = e.shape
    p = np.broadcast_to(owed, (S, n)).copy()
    first_round = np.zeros((S, n), dtype=np.int64)
    rounds = np.zeros(S, dtype=np.int64)
    for step in range(1, 200_000):
        nxt = np.minimum(owed, np.maximum(e + p @ pi - ext, 0.0))
        short = nxt < owed - 1e-12 * np.maximum(owed, 1)
        first_round = np.where(short & (first_round == 0), step, first_round)
        moving = np.abs(nxt - p) > 1e-15 * np.maximum(np.abs(p), 1)
        p = nxt
        rounds = np.where(moving.any(axis=1), step, rounds)
        if not moving.any():
            break
    for s in range(S):  # polish: the exact solution on the sets the iteration found
        assets = e[s] + p[s] @ pi
        state = np.where(p[s] >= owed - 1e-12 * np.maximum(owed, 1), 0, np.where(assets <= ext, 2, 1)).astype(np.int8)
        exact = _clear(pi, e[s], owed, ext, state, 1.0, 1.0, p[s])
        if np.allclose(np.minimum(owed, np.maximum(e[s] + exact @ pi - ext, 0)), exact, rtol=1e-12, atol=1e-12):
            p[s] = exact
    claims_paid = p @ pi
    book = e + owed @ pi - owed - ext
    equity = e + claims_paid - owed - ext
    defaulted = (p < owed - 1e-9 * np.maximum(owed, 1)) | (e + claims_paid < owed + ext - 1e-9 * np.maximum(owed + ext, 1))
    return Clearing(model, p, np.broadcast_to(owed + ext, p.shape).copy(), book, equity, book - equity, defaulted,
                    np.where(defaulted, np.maximum(first_round, 1), 0), rounds)


def _clear(pi, e, owed, ext, state, alpha, beta, p_current):
    """One round: full payers fixed at what they owe, silent payers at 0, the rest solved exactly:
    p_D = alpha·(e_D − ext_D) + beta·Πᵀ p (restricted to D).  ``state`` is updated in place when a
    firm's solved payment would be negative (senior outside creditors take everything it has): it
    pays nothing and the rest is solved again."""
    n = len(owed)
    while True:
        p = np.where(state == 0, owed, 0.0)
        d = np.flatnonzero(state == 1)
        if d.size == 0:
            return p
        inflow_fixed = p @ pi  # from firms whose payment is fixed
        a = np.eye(d.size) - beta * pi[np.ix_(d, d)].T
        b = alpha * (e[d] - ext[d]) + beta * inflow_fixed[d]
        if np.linalg.cond(a) < 1e10:
            solution = np.linalg.solve(a, b)
        else:
            # a closed group paying only among itself (with senior outside creditors, every group
            # is closed): its greatest clearing is the largest fixed point, reached from above by
            # iteration, which is monotone
            solution = p_current[d].copy()
            for _ in range(1000 * n + 10000):
                inflow = inflow_fixed[d] + solution @ pi[np.ix_(d, d)]
                nxt = np.minimum(owed[d], np.maximum(alpha * (e[d] - ext[d]) + beta * inflow, 0))
                if np.allclose(nxt, solution, rtol=1e-14, atol=1e-300):
                    break
                solution = nxt
        negative = solution < 0
        if not negative.any():
            p[d] = np.minimum(solution, owed[d])
            return p
        state[d[negative]] = 2


def eisenberg_noe(liabilities, external_assets, external_liabilities=None, seniority: str = "pro_rata") -> Clearing:
    """The greatest clearing payment vector of Eisenberg & Noe (2001), exactly.

    Every firm pays what it owes if it can, otherwise everything it has (limited liability), shared
    among its creditors in proportion to what each is owed (absolute priority of debt over equity):
    ``p = min(p̄, e + Πᵀ p)``.  ``seniority="pro_rata"`` puts outside creditors alongside the network's;
    ``"external_senior"`` pays them first (so a firm pays the network ``min(L̄, max(e + Πᵀp − ext, 0))``).

    Parameters
    ----------
    liabilities : (n, n) array or sparse matrix, ``liabilities[i][j]`` = what i owes j; or a stack
        (S, n, n), one network per scenario (Monte Carlo samples of uncertain amounts)
    external_assets : (n,) for one scenario or (S, n) for S scenarios at once
    external_liabilities : (n,), what each firm owes outside the network
    seniority : ``"pro_rata"`` or ``"external_senior"``

    Returns
    -------
    Clearing
        For (S, n) input every field is (S, n) (``rounds``: (S,)); for (n,) input, vectors.

    Notes
    -----
    *Method.*  The fictitious default algorithm (Eisenberg & Noe 2001, section 3): start from full
    payment, find who is short, solve the linear system for the payments of those firms with the
    others paying in full, repeat until nobody new is short; at most ``n`` rounds.  Exact up to
    rounding, unlike fixed-point iteration, which converges very slowly on rings that leak little to
    the outside.  A compiled kernel clears the scenarios in parallel threads.  With senior outside
    creditors, monotone fixed-point iteration finds who pays in full, in part and nothing, then the
    part-payers' payments are solved exactly.

    *Several clearing vectors.*  Where firms owe each other in a closed loop and have no outside
    cash (two firms owing each other 100: both [100, 100] and [0, 0] clear), the greatest is returned,
    the one where everything that can be paid is paid.

    References
    ----------
    .. [1] L. Eisenberg, T. H. Noe, "Systemic Risk in Financial Systems", Management Science
       47(2):236-249, 2001.

    Examples
    --------
    >>> r = eisenberg_noe([[0, 100], [100, 0]], [0, 0])
    >>> r.payments.tolist(), r.defaulted.tolist()
    ([100.0, 100.0], [False, False])
    >>> ring = eisenberg_noe([[0, 10, 0], [0, 0, 10], [10, 0, 0]], [5, 0, 0], external_liabilities=[0, 0, 0])
    >>> ring.payments.tolist()
    [10.0, 10.0, 10.0]
    """
    L, e, ext, single = _inputs(liabilities, external_assets, external_liabilities)
    result = _solve(L, e, ext, seniority, 1.0, 1.0, "eisenberg_noe")
    return _squeeze(result) if single else result


def rogers_veraart(liabilities, external_assets, alpha: float, beta: float, external_liabilities=None) -> Clearing:
    """The greatest clearing vector with default costs (Rogers & Veraart 2013).

    A firm that cannot pay in full pays only ``alpha`` of its external assets and ``beta`` of what
    it is paid: ``p_i = p̄_i`` if ``e_i + (Πᵀp)_i ≥ p̄_i``, else ``alpha·e_i + beta·(Πᵀp)_i``.  With
    ``alpha = beta = 1`` this is Eisenberg-Noe.  Outside creditors rank pro rata.

    Notes
    -----
    The greatest clearing vector algorithm of Rogers & Veraart (2013, Algorithm 1): the fictitious
    default algorithm with the defaulting firms' payments ``alpha·e + beta·Πᵀp``.  Default costs make
    clearing vectors multiple even with outside cash; the greatest is returned.

    References
    ----------
    .. [1] L. C. G. Rogers, L. A. M. Veraart, "Failure and Rescue in an Interbank Network",
       Management Science 59(4):882-898, 2013.
    """
    if not (0 <= alpha <= 1 and 0 <= beta <= 1):
        raise ValueError(f"alpha and beta must lie in [0, 1], got {alpha}, {beta}")
    L, e, ext, single = _inputs(liabilities, external_assets, external_liabilities)
    result = _solve(L, e, ext, "pro_rata", float(alpha), float(beta), "rogers_veraart")
    return _squeeze(result) if single else result


def _squeeze(result: Clearing) -> Clearing:
    return Clearing(result.model, *(getattr(result, f)[0] for f in _FIELDS))
