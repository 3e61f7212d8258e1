"""Worked examples with published numbers, each cited, reproduced to their stated precision.

Where a source publishes only inputs (no results), the example is checked against an independent
computation instead (fixed-point iteration, closed forms) and the test says so.
"""

from __future__ import annotations

import numpy as np
import pytest

from loopscope.stress import eisenberg_noe, elliott_golub_jackson, rogers_veraart


def test_four_node_network_with_and_without_a_cash_injection():
    """Thesis chapter, section 2.4.1 "Example 1: A Four-Node Network" (the set-up of Li, Lin,
    Peleato-Inarrea & Pollak, arXiv:1410.2570), read at
    https://1library.net/article/example-a-four-node-network-numerical-results.zwonv8vy:
    "Node A owes $50 to B and C, node B owes $20 to C, node C owes $80 to A, and node D owes $10 to
    C. Each node has $1 on hand. … nodes A, C, and D are in default, and the total amount of unpaid
    liability is $98."  With the injection [0, 0, 6, 9]: "The payment vector converges to
    [pA, pB, pC, pD] = [76, 20, 75, 10] … Now the total unpaid liability is $29." """
    L = np.array([[0, 50, 50, 0], [0, 0, 20, 0], [80, 0, 0, 0], [0, 0, 10, 0]], dtype=float)
    before = eisenberg_noe(L, [1, 1, 1, 1])
    assert before.defaulted.tolist() == [True, False, True, True]
    assert (before.obligations - before.payments).sum() == pytest.approx(98)
    after = eisenberg_noe(L, [1, 1, 1 + 6, 1 + 9])
    assert after.payments == pytest.approx([76, 20, 75, 10])
    assert (after.obligations - after.payments).sum() == pytest.approx(29)
    assert after.defaulted.tolist() == [True, False, True, False]


@pytest.mark.parametrize(("L", "defaults"), [
    ([[0.0, 0.0, 1.0], [0.4, 0.0, 2.1], [0.3, 2.7, 0.0]], [True, False, True]),
    ([[0.0, 0.09298631, 0.9070137], [0.3070137, 0.0, 2.1929863], [0.3929863, 2.60701369, 0.0]], [True, False, True]),
    ([[0.0, 0.4, 0.6], [0.0, 0.0, 2.5], [0.7, 2.3, 0.0]], [True, False, False]),
])
def test_systemicrisk_vignette_defaults_with_outside_creditors_ranked_alongside(L, defaults):
    """R package systemicrisk (Gandy & Veraart), vignette "Some Introductory Examples": external
    assets ea = (1, 1, 1) and external liabilities el = (1, 1, 1), ranked pari passu with the
    network's (p̄ = rowSums(L) + el); ``default(L, ea, el)$defaultind`` is printed as 1 0 1 for the
    matrices of the CRAN build (https://cran.icts.res.in/web/packages/systemicrisk/vignettes/
    Introduction.html) and 1 0 0 for the third matrix, from another build of the same vignette."""
    r = eisenberg_noe(L, [1, 1, 1], external_liabilities=[1, 1, 1], seniority="pro_rata")
    assert r.defaulted.tolist() == defaults


def test_elliott_golub_jackson_dependency_matrix_of_two_firms_holding_half_of_each_other():
    """M. O. Jackson, "Social and Economic Networks" (Coursera), lecture 5.8b on Elliott, Golub &
    Jackson (2014): with C = [[0, 1/2], [1/2, 0]], Ĉ = diag(1/2, 1/2) and the dependency matrix
    A = Ĉ(I − C)⁻¹ = [[2/3, 1/3], [1/3, 2/3]]: the market value of firm i is Σ_j A_ij p_j."""
    C = [[0, 0.5], [0.5, 0]]
    for assets, values in (([1, 0], [2 / 3, 1 / 3]), ([0, 1], [1 / 3, 2 / 3]), ([3, 6], [4, 5])):
        r = elliott_golub_jackson(C, assets, thresholds=[0, 0], failure_costs=[0, 0])
        assert r.value_before == pytest.approx(values, rel=1e-12)


def test_rogers_veraart_asymmetric_example_default_costs_widen_the_cascade():
    """The six-bank "asymmetric example" of Rogers & Veraart (2013, Figure 4), as transcribed in
    FinNetValu's test/models/test_rv.jl (bertschi/FinNetValu), with outside assets halved.  The
    sources give the inputs only; the clearing vectors are checked against monotone fixed-point
    iteration from full payment, which converges to the greatest clearing vector (Rogers &
    Veraart 2013, Theorem 3.7) — an independent method."""
    L = np.array([[0, 4.94, 2.47, 5.59, 0, 0], [6, 0, 0, 2, 0, 0], [0, 13, 0, 0, 0, 0],
                  [0, 0, 0, 0, 0, 8], [12, 0, 0, 0, 0, 0], [2.79, 6.21, 0, 0, 0, 0]])
    e = 0.5 * np.array([1, 1, 11.51, 1.4, 12.5, 2])
    owed = L.sum(axis=1)
    assert owed.tolist() == pytest.approx([13, 8, 13, 8, 12, 9])
    pi = L / owed[:, None]

    def picard(alpha, beta):
        p = owed.copy()
        for _ in range(100_000):
            inflow = p @ pi
            nxt = np.where(e + inflow >= owed, owed, alpha * e + beta * inflow)
            if np.abs(nxt - p).max() < 1e-14:
                break
            p = nxt
        return p

    en = eisenberg_noe(L, e)
    assert np.flatnonzero(en.defaulted).tolist() == [2, 4]  # banks 3 and 5
    assert en.payments == pytest.approx(picard(1, 1), rel=1e-10)
    assert en.payments[[2, 4]] == pytest.approx([8.225, 6.25])
    rv = rogers_veraart(L, e, alpha=0.5, beta=0.9)
    assert np.flatnonzero(rv.defaulted).tolist() == [0, 2, 3, 4, 5]  # default costs pull in 1, 4 and 6
    assert rv.payments == pytest.approx(picard(0.5, 0.9), rel=1e-10)
    mild = rogers_veraart(L, e, alpha=0.9, beta=0.9)
    assert np.flatnonzero(mild.defaulted).tolist() == [2, 4]
    assert mild.payments == pytest.approx(picard(0.9, 0.9), rel=1e-10)
