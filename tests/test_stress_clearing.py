"""Clearing models: closed forms, linear programming, fixed points and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from loopscope.stress import eisenberg_noe, rogers_veraart
from loopscope.stress.clearing import _solve, _solve_numpy


@st.composite
def networks(draw, max_firms=7):
    n = draw(st.integers(2, max_firms))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    density = draw(st.sampled_from([0.3, 0.6, 1.0]))
    L = np.where(rng.random((n, n)) < density, rng.uniform(1, 100, (n, n)), 0.0)
    np.fill_diagonal(L, 0)
    e = np.where(rng.random(n) < 0.5, rng.uniform(0, 80, n), 0.0)
    ext = np.where(rng.random(n) < 0.5, rng.uniform(0, 50, n), 0.0)
    return L, e, ext


def lp_greatest_clearing(L, e, ext):
    """Eisenberg & Noe (2001), Lemma 4: the greatest clearing vector maximises Σp subject to
    0 ≤ p ≤ p̄ and p ≤ e + Πᵀp."""
    owed = L.sum(1) + ext
    pi = np.divide(L, owed[:, None], out=np.zeros_like(L), where=owed[:, None] > 0)
    n = len(owed)
    result = linprog(-np.ones(n), A_ub=np.eye(n) - pi.T, b_ub=e, bounds=list(zip(np.zeros(n), owed, strict=True)),
                     method="highs", options={"primal_feasibility_tolerance": 1e-10})
    return result.x


@settings(max_examples=200, deadline=None)
@given(networks())
def test_equals_the_linear_programme(net):
    L, e, ext = net
    result = eisenberg_noe(L, e, ext)
    assert result.payments == pytest.approx(lp_greatest_clearing(L, e, ext), rel=1e-7, abs=1e-7)


@settings(max_examples=200, deadline=None)
@given(networks(), st.sampled_from(["pro_rata", "external_senior"]))
def test_clearing_vector_is_a_fixed_point_and_respects_limits(net, seniority):
    L, e, ext = net
    r = eisenberg_noe(L, e, ext, seniority=seniority)
    senior = seniority == "external_senior"
    owed = L.sum(1) + (0 if senior else ext)
    pi = np.divide(L, owed[:, None], out=np.zeros_like(L), where=owed[:, None] > 0)
    assets = e + r.payments @ pi
    expected = np.minimum(owed, np.maximum(assets - ext, 0)) if senior else np.minimum(owed, assets)
    assert r.payments == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert (r.payments <= owed + 1e-9).all() and (r.payments >= 0).all()
    assert (r.payments <= assets + 1e-9).all()  # nobody pays more than it has
    assert ((r.default_round > 0) == r.defaulted).all()


@settings(max_examples=100, deadline=None)
@given(networks(), st.floats(0.0, 1.0))
def test_a_bigger_shock_never_helps(net, cut):
    L, e, ext = net
    mild, severe = eisenberg_noe(L, e, ext), eisenberg_noe(L, e * cut, ext)
    assert (severe.payments <= mild.payments + 1e-9).all()
    assert (severe.equity <= mild.equity + 1e-9).all()
    assert (mild.defaulted <= severe.defaulted).all()


@settings(max_examples=50, deadline=None)
@given(networks())
def test_no_shock_no_defaults(net):
    L, _, ext = net
    rich = L.sum(1) + ext  # enough outside assets to pay everything
    r = eisenberg_noe(L, rich, ext)
    assert not r.defaulted.any() and (r.losses == 0).all()
    assert r.payments == pytest.approx(L.sum(1) + ext)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 12), st.floats(0.01, 1.0), st.floats(0.0, 1.0))
def test_ring_leaking_delta_outside_has_the_closed_form(n, delta, fraction):
    """Each firm owes 1 onward and δ outside and has outside assets e < δ: by symmetry
    p = e + p/(1+δ), so every firm pays e(1+δ)/δ."""
    e = fraction * delta * 0.999
    L = np.zeros((n, n))
    L[np.arange(n), (np.arange(n) + 1) % n] = 1.0
    r = eisenberg_noe(L, np.full(n, e), np.full(n, delta))
    assert r.payments == pytest.approx(np.full(n, e * (1 + delta) / delta), rel=1e-9, abs=1e-12)
    assert r.defaulted.all()  # e < δ: nobody can pay in full


@pytest.mark.parametrize("delta", [1e-6, 1e-9, 1e-11])
def test_a_ring_leaking_almost_nothing_is_still_solved(delta):
    """Near-singular systems (I − Πᵀ nearly singular): fixed-point iteration would need about 1/δ
    steps; the exact solve (or its monotone fallback) still lands on the closed form."""
    n, e = 6, 0.5 * delta
    L = np.zeros((n, n))
    L[np.arange(n), (np.arange(n) + 1) % n] = 1.0
    r = eisenberg_noe(L, np.full(n, e), np.full(n, delta))
    assert r.payments == pytest.approx(np.full(n, e * (1 + delta) / delta), rel=1e-6)


def test_mutual_debts_without_outside_cash_clear_at_the_greatest_vector():
    r = eisenberg_noe([[0, 100], [100, 0]], [0, 0])
    assert r.payments.tolist() == [100.0, 100.0] and not r.defaulted.any()


def test_default_rounds_follow_the_cascade():
    # 0 owes 1 100 and has 50; 1 owes 2 100 and has 40; 2 owes outside 100 and has 100
    L = np.array([[0, 100, 0], [0, 0, 100], [0, 0, 0.0]])
    r = eisenberg_noe(L, [50, 40, 100], [0, 0, 100])
    assert r.payments.tolist() == [50, 90, 100]
    assert r.default_round.tolist() == [1, 2, 0]
    assert r.losses.tolist() == [0, 50, 10]


def test_seniority_changes_who_gets_paid():
    # firm 0 owes firm 1 60 and outsiders 40, and has 50
    L = np.array([[0, 60.0], [0, 0]])
    pro_rata = eisenberg_noe(L, [50, 0], [40, 0])
    senior = eisenberg_noe(L, [50, 0], [40, 0], seniority="external_senior")
    assert pro_rata.payments[0] == 50 and pro_rata.equity[1] == pytest.approx(30)  # 60% of 50
    assert senior.payments[0] == 10 and senior.equity[1] == pytest.approx(10)  # outsiders take 40 first


@settings(max_examples=60, deadline=None)
@given(networks(), st.integers(2, 6))
def test_many_scenarios_at_once_equal_one_at_a_time(net, count):
    L, e, ext = net
    rng = np.random.default_rng(count)
    many = e * rng.uniform(0, 1.5, (count, len(e)))
    together = eisenberg_noe(L, many, ext)
    for s in range(count):
        alone = eisenberg_noe(L, many[s], ext)
        assert together.payments[s] == pytest.approx(alone.payments, rel=1e-12, abs=1e-12)
        assert (together.default_round[s] == alone.default_round).all()


@settings(max_examples=100, deadline=None)
@given(networks(), st.floats(0, 1), st.floats(0, 1), st.integers(1, 5))
def test_compiled_kernel_equals_the_numpy_reference(net, alpha, beta, count):
    """The parallel kernel against the straightforward numpy loop it replaced, scenario by scenario."""
    L, e, ext = net
    many = e * np.random.default_rng(count).uniform(0, 1.5, (count, len(e)))
    fast = _solve(L, many, ext, "pro_rata", alpha, beta, "m")
    slow = _solve_numpy(L, many, ext, "pro_rata", alpha, beta, "m")
    for field in ("payments", "equity_book", "equity", "losses"):
        assert getattr(fast, field) == pytest.approx(getattr(slow, field), rel=1e-9, abs=1e-9), field
    assert (fast.defaulted == slow.defaulted).all() and (fast.default_round == slow.default_round).all()
    assert (fast.rounds == slow.rounds).all()


@settings(max_examples=60, deadline=None)
@given(networks(), st.integers(1, 4), st.sampled_from(["pro_rata", "external_senior"]))
def test_a_network_per_scenario_equals_each_network_alone(net, count, seniority):
    """Monte Carlo samples bring their own liabilities: a stack (S, n, n) clears like S single runs."""
    L, e, ext = net
    rng = np.random.default_rng(count)
    stack = L * rng.uniform(0.5, 1.5, (count, *L.shape))
    together = eisenberg_noe(stack, e, ext, seniority=seniority)
    assert together.payments.shape == (count, len(e))
    for s in range(count):
        alone = eisenberg_noe(stack[s], e, ext, seniority=seniority)
        assert together.payments[s] == pytest.approx(alone.payments, rel=1e-12, abs=1e-12)
        assert together.obligations[s] == pytest.approx(alone.obligations)
        assert (together.default_round[s] == alone.default_round).all()


@settings(max_examples=100, deadline=None)
@given(networks(), st.floats(0, 1), st.floats(0, 1))
def test_rogers_veraart_fixed_point_and_costs(net, alpha, beta):
    L, e, ext = net
    r = rogers_veraart(L, e, alpha, beta, external_liabilities=ext)
    owed = L.sum(1) + ext
    pi = np.divide(L, owed[:, None], out=np.zeros_like(L), where=owed[:, None] > 0)
    inflow = r.payments @ pi
    solvent = e + inflow >= owed - 1e-9
    expected = np.where(solvent, owed, alpha * e + beta * inflow)
    assert r.payments == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert (r.payments <= eisenberg_noe(L, e, ext).payments + 1e-9).all()  # default costs only take away
    assert rogers_veraart(L, e, 1, 1, external_liabilities=ext).payments == pytest.approx(
        eisenberg_noe(L, e, ext).payments, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: eisenberg_noe([[0, 1], [1, 0]], [1, 1, 1]), "2 entries per scenario"),
    (lambda: eisenberg_noe([[1, 1], [1, 0]], [1, 1]), "cannot owe itself"),
    (lambda: eisenberg_noe([[0, -1], [1, 0]], [1, 1]), "not negative"),
    (lambda: eisenberg_noe([[0, 1], [1, 0]], [1, 1], seniority="junior"), "seniority"),
    (lambda: rogers_veraart([[0, 1], [1, 0]], [1, 1], 1.5, 1), "alpha and beta"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
