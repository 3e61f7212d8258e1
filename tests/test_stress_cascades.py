"""Furfine and Elliott-Golub-Jackson cascades: by hand and against a plain simulation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopscope.stress import elliott_golub_jackson, furfine


def plain_furfine(A, K, start, recovery):
    """The textbook loop, one firm at a time."""
    n = len(K)
    round_of = {i: 1 for i in range(n) if start[i]}
    loss = [0.0] * n
    current = [i for i in range(n) if start[i]]
    r = 1
    while current:
        r += 1
        for j in current:
            for i in range(n):
                if i != j:
                    loss[i] += (1 - recovery) * A[i][j]
        current = [i for i in range(n) if i not in round_of and loss[i] > 0 and loss[i] >= K[i]]
        for i in current:
            round_of[i] = r
    return [round_of.get(i, 0) for i in range(n)]


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 7), st.integers(0, 2**32 - 1), st.floats(0, 1))
def test_furfine_equals_the_plain_simulation(n, seed, recovery):
    rng = np.random.default_rng(seed)
    A = np.where(rng.random((n, n)) < 0.5, rng.uniform(0, 100, (n, n)), 0.0)
    np.fill_diagonal(A, 0)
    K = rng.uniform(10, 120, n)
    start = rng.random(n) < 0.3
    r = furfine(A, K, start, recovery=recovery)
    assert r.default_round.tolist() == plain_furfine(A, K, start, recovery)
    assert (r.value_after <= r.value_before).all() and (r.value_after[r.defaulted] == 0).all()
    worse = furfine(A, K, start, recovery=recovery / 2)
    assert (worse.defaulted >= r.defaulted).all()  # recovering less never saves a firm


def test_furfine_by_hand():
    r = furfine([[0, 0, 0], [80, 0, 0], [0, 50, 0]], [100, 60, 40], [0], recovery=0.25)
    assert r.default_round.tolist() == [1, 2, 0]
    assert r.value_after.tolist() == [0.0, 0.0, 2.5]


def test_egj_two_firms_by_hand():
    """Each holds 20% of the other: Ĉ(I − C)⁻¹ = [[5/6, 1/6], [1/6, 5/6]], so values start at 100.
    Firm 0's assets fall to 70: its value is 75 < 0.9·100, it fails and loses 31 more; firm 1's value
    falls to 1/6·39 + 5/6·100 = 89.83 < 90: it fails in round 2; in the end [44, 64]."""
    C = [[0, 0.2], [0.2, 0]]
    r = elliott_golub_jackson(C, [100, 100], [0.9, 0.9], [31, 31], shocked_assets=[70, 100])
    assert r.value_before == pytest.approx([100, 100])
    assert r.default_round.tolist() == [1, 2]
    assert r.value_after == pytest.approx([44, 64])
    spared = elliott_golub_jackson(C, [100, 100], [0.9, 0.9], [30, 30], shocked_assets=[70, 100])
    assert spared.default_round.tolist() == [1, 0]  # 1/6·40 + 5/6·100 = 90: not below the threshold


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_egj_result_is_an_equilibrium(n, seed):
    rng = np.random.default_rng(seed)
    C = np.where(rng.random((n, n)) < 0.6, rng.uniform(0, 1, (n, n)), 0.0)
    np.fill_diagonal(C, 0)
    C *= rng.uniform(0.1, 0.8) / np.maximum(C.sum(axis=0), 1e-9)
    p = rng.uniform(50, 150, n)
    theta, beta = rng.uniform(0.5, 0.95, n), rng.uniform(0, 60, n)
    shocked = p * rng.uniform(0.3, 1.0, n)
    r = elliott_golub_jackson(C, p, theta, beta, shocked_assets=shocked)
    dependency = np.diag(1 - C.sum(axis=0)) @ np.linalg.inv(np.eye(n) - C)
    values = dependency @ (shocked - beta * r.defaulted)
    assert r.value_after == pytest.approx(values)
    v0 = dependency @ p
    assert (r.defaulted == (values < theta * v0 - 1e-12 * np.maximum(np.abs(v0), 1))).all()
    # batched equals one at a time
    both = elliott_golub_jackson(C, p, theta, beta, shocked_assets=np.vstack([shocked, p]))
    assert (both.defaulted[0] == r.defaulted).all() and not both.defaulted[1].any()


def test_bad_input():
    with pytest.raises(ValueError, match="cross_holdings"):
        elliott_golub_jackson([[0, 0.6], [0.6, 0.5]], [1, 1], [0.5, 0.5], [0, 0])
    with pytest.raises(ValueError, match="recovery"):
        furfine([[0, 1], [1, 0]], [1, 1], [0], recovery=2)
    with pytest.raises(ValueError, match="indices"):
        furfine([[0, 1], [1, 0]], [1, 1], [5])
