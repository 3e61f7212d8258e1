"""DebtRank and linear DebtRank: hand-derived cases, a closed form and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopscope.stress import debtrank


@st.composite
def exposed(draw, max_firms=7):
    n = draw(st.integers(2, max_firms))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    A = np.where(rng.random((n, n)) < 0.5, rng.uniform(0, 80, (n, n)), 0.0)
    np.fill_diagonal(A, 0)
    E = rng.uniform(10, 100, n)
    h0 = np.where(rng.random(n) < 0.3, rng.uniform(0, 1, n), 0.0)
    return A, E, h0


def test_chain_by_hand():
    # B has 50 in A (equity 100: impact 0.5); C has 200 in B (equity 100: impact capped at 1)
    r = debtrank([[0, 0, 0], [50, 0, 0], [0, 200, 0]], [100, 100, 100], [0])
    assert r.h.tolist() == [1.0, 0.5, 0.5]
    assert r.losses.tolist() == [100.0, 50.0, 50.0]
    assert r.distress_round.tolist() == [1, 2, 3] and r.defaulted.tolist() == [True, False, False]
    assert r.debtrank == pytest.approx(1 / 3)  # (0.5·100 + 0.5·100) / 300


def test_original_debtrank_is_not_monotone_in_who_is_hit():
    # A has 100 in B, B has 100 in C (equity 100 each). Hitting C alone: C → B → A, A ends at 1.
    A, E = [[0, 100, 0], [0, 0, 100], [0, 0, 0]], [100, 100, 100]
    assert debtrank(A, E, [0, 0, 1.0]).h.tolist() == [1.0, 1.0, 1.0]
    # also nudging B by 0.01 makes B distressed at once: it passes on 0.01 and is then spent
    assert debtrank(A, E, [0, 0.01, 1.0]).h.tolist() == [0.01, 1.0, 1.0]


def test_original_debtrank_does_not_reverberate_but_the_linear_one_does():
    A, E = [[0, 100], [100, 0]], [100, 100]
    original = debtrank(A, E, [0.5, 0.0])
    assert original.h.tolist() == [1.0, 0.5]  # B's distress reaches A, A does not pass it on again
    assert debtrank(A, E, [0.5, 0.0], linear=True).h.tolist() == [1.0, 1.0]


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_linear_debtrank_without_saturation_is_the_leontief_sum(n, seed):
    """With spectral radius of Λ below 1 and no firm reaching h = 1, h = (I − Λ)⁻¹ h0."""
    rng = np.random.default_rng(seed)
    E = rng.uniform(50, 100, n)
    A = rng.uniform(0, 1, (n, n)) * E[:, None]
    np.fill_diagonal(A, 0)
    Lam = A / E[:, None]
    Lam *= 0.5 / max(np.abs(np.linalg.eigvals(Lam)).max(), 1e-9)
    A = Lam * E[:, None]
    h0 = rng.uniform(0, 1, n)
    expected = np.linalg.solve(np.eye(n) - Lam, h0)
    h0 *= 0.9 / expected.max()  # scale the shock so that nobody saturates
    r = debtrank(A, E, h0, linear=True)
    assert r.h == pytest.approx(np.linalg.solve(np.eye(n) - Lam, h0), rel=1e-9)


@settings(max_examples=150, deadline=None)
@given(exposed(), st.booleans())
def test_invariants(net, linear):
    A, E, h0 = net
    r = debtrank(A, E, h0, linear=linear)
    assert (r.h >= h0 - 1e-15).all() and (r.h <= 1).all()
    assert ((r.distress_round > 0) == (r.h > 0)).all()
    bigger = debtrank(A, E, np.minimum(1, h0 * 1.5), linear=linear)  # the same firms hit harder
    assert (bigger.h >= r.h - 1e-12).all()
    if linear:  # more firms hit: never less distress (the original DebtRank can give less, see its docs)
        wider = debtrank(A, E, np.minimum(1, h0 * 1.5 + 0.05), linear=True)
        assert (wider.h >= r.h - 1e-12).all()
    assert not debtrank(A, E, np.zeros(len(E)), linear=linear).h.any()
    if not linear:
        assert (r.h <= debtrank(A, E, h0, linear=True).h + 1e-12).all()  # one pass never exceeds every pass


@settings(max_examples=40, deadline=None)
@given(exposed(), st.integers(2, 5))
def test_many_scenarios_at_once_equal_one_at_a_time(net, count):
    A, E, _ = net
    shocks = np.random.default_rng(count).uniform(0, 1, (count, len(E))) * (np.arange(len(E)) % 2)
    together = debtrank(A, E, shocks)
    for s in range(count):
        alone = debtrank(A, E, shocks[s])
        assert together.h[s] == pytest.approx(alone.h, rel=1e-12, abs=1e-15)
        assert together.debtrank[s] == pytest.approx(alone.debtrank)


def test_shock_forms_and_bad_input():
    A, E = [[0, 10], [10, 0]], [100, 100]
    assert debtrank(A, E, [1]).h0.tolist() == [0.0, 1.0]  # indices
    assert debtrank(A, E, [False, True]).h0.tolist() == [0.0, 1.0]  # a mask
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        debtrank(A, E, [1.5, 0.0])
    with pytest.raises(ValueError, match="equity"):
        debtrank(A, [100, 0], [0])
    with pytest.raises(ValueError, match="indices"):
        debtrank(A, E, [2])
