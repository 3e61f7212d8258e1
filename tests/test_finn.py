"""Finn's cycling index, checked against the published Cone Spring values, closed-form small networks
and a plain dense computation of (I - G)^-1 over the whole network."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import loopscope
from loopscope.analysis.finn import finn_cycling_index

CONE_NAMES = ["PLANTS", "BACTERIA", "DETRITUS FEEDERS", "CARNIVORES", "DETRITUS"]
CONE_F = np.array([
    [0, 0, 0, 0, 8881],
    [0, 0, 75, 0, 1600],
    [0, 0, 0, 370, 200],
    [0, 0, 0, 0, 167],
    [0, 5205, 2309, 0, 0],
], dtype=float)
CONE_Z = [11184, 0, 0, 0, 635]


def dense_fci(F: np.ndarray, z: np.ndarray | None = None, *, inside_hypothesis: bool = True) -> float:
    """Reference: enaR's enaFlow formulas on the whole matrix, with one dense inverse.

    F[i, j] is the flow from i to j.  T_i = sum_j F[j, i] + z_i; G[i, j] = F[i, j] / T_i;
    N = (I - G)^-1; FCI = sum_i (N_ii - 1) / N_ii * T_i / sum_i T_i.
    Without z, the open-network boundary rule z_i = max(out_i - in_i, 0).
    """
    F = np.array(F, dtype=float)
    np.fill_diagonal(F, 0.0)
    out_flow, in_flow = F.sum(axis=1), F.sum(axis=0)
    if z is None:
        z = np.clip(out_flow - in_flow, 0, None)
    T = in_flow + np.asarray(z, dtype=float)
    if T.sum() == 0:
        return math.nan
    G = np.divide(F, T[:, None], out=np.zeros_like(F), where=T[:, None] > 0)
    I_G = np.eye(len(T)) - G
    # a closed loop (no money ever leaves) makes I - G singular: no reference value; tested separately
    well_posed = np.linalg.cond(I_G) < 1e10
    if inside_hypothesis:
        assume(well_posed)
    assert well_posed
    d = np.diag(np.linalg.inv(I_G))
    return float(((d - 1) / d * T).sum() / T.sum())


def test_cone_spring_as_published_for_enar():
    result = finn_cycling_index(CONE_F, inputs=CONE_Z, labels=CONE_NAMES)
    assert result.tst == pytest.approx(30626.0, abs=1e-9)
    assert result.fci == pytest.approx(0.09193899, abs=5e-9)
    assert result.tst_cycled == pytest.approx(0.09193899 * 30626, rel=1e-6)
    # throughflows: everything entering each compartment
    assert result.throughflow.to_dict() == pytest.approx(
        {"PLANTS": 11184, "BACTERIA": 5205, "DETRITUS FEEDERS": 2384, "CARNIVORES": 370, "DETRITUS": 11483})
    # outputs balance the model: T - out
    assert result.outputs.to_dict() == pytest.approx(
        {"PLANTS": 11184 - 8881, "BACTERIA": 5205 - 1675, "DETRITUS FEEDERS": 2384 - 570, "CARNIVORES": 370 - 167,
         "DETRITUS": 11483 - 7514})
    assert result.inputs["DETRITUS"] == 635.0
    # the same inputs given by label, and the same network as a flows table
    by_label = finn_cycling_index(CONE_F, inputs={"PLANTS": 11184, "DETRITUS": 635}, labels=CONE_NAMES)
    assert by_label.fci == pytest.approx(result.fci, rel=1e-14)
    rows, cols = np.nonzero(CONE_F)
    frame = pd.DataFrame({"src": [CONE_NAMES[i] for i in rows], "dst": [CONE_NAMES[j] for j in cols],
                          "amount": CONE_F[rows, cols]})
    assert finn_cycling_index(frame, inputs=pd.Series({"PLANTS": 11184.0, "DETRITUS": 635.0})).fci == pytest.approx(
        result.fci, rel=1e-14)
    json.dumps(result.to_dict())


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 0.99), st.floats(0.01, 1e6))
def test_two_node_loop_returning_fraction_r(r, z):
    # z enters A; A passes all it has to B; B returns a fraction r of its throughflow to A, the rest
    # leaves.  Steady state: T_A = z + r T_B and T_B = T_A, so T_A = T_B = z / (1 - r),
    # flows A->B = z / (1 - r), B->A = r z / (1 - r), output of B = z.  A dollar leaving A comes back
    # with probability 1 * r, so (N_AA - 1) / N_AA = r, likewise for B: FCI = r.
    T = z / (1 - r)
    F = [[0, T], [r * T, 0]]
    result = finn_cycling_index(F, inputs=[z, 0])
    assert result.fci == pytest.approx(r, abs=1e-9)
    assert result.outputs.to_numpy() == pytest.approx([0, z], abs=1e-9 * T)
    # here the boundary rule finds exactly the same boundary flows (z at A, z out of B)
    assert finn_cycling_index(F).fci == pytest.approx(r, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.01, 0.99), st.floats(0.01, 1e6))
def test_three_node_ring_forwarding_p(p, z):
    # ring A -> B -> C -> A; every node forwards a fraction p of its throughflow and the rest leaves;
    # z enters A.  T_A = z / (1 - p^3), T_B = p T_A, T_C = p^2 T_A; the return probability of every
    # node is p^3, so FCI = p^3.
    TA = z / (1 - p**3)
    F = [[0, p * TA, 0], [0, 0, p * p * TA], [p**3 * TA, 0, 0]]
    result = finn_cycling_index(F, inputs=[z, 0, 0])
    assert result.fci == pytest.approx(p**3, abs=1e-9)
    # the boundary rule nets A's input against its return flow: z_A = T_A (p - p^3), T_A' = p T_A, so
    # A forwards everything (G_AB = 1), B and C forward p: return probability p^2 for every node.
    assert finn_cycling_index(F).fci == pytest.approx(p**2, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7), st.floats(0.01, 1e4)), max_size=25))
def test_acyclic_network_cycles_nothing(edges):
    F = np.zeros((8, 8))
    for i, j, w in edges:
        if i < j:
            F[i, j] += w
    result = finn_cycling_index(F)
    assert result.tst_cycled == 0.0
    assert (result.fci == 0.0) or (math.isnan(result.fci) and not F.any())


@st.composite
def random_networks(draw):
    n = draw(st.integers(1, 9))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0.01, 1e4)),
                          min_size=1, max_size=30))
    F = np.zeros((n, n))
    for i, j, w in edges:
        F[i, j] += w
    return F


@settings(max_examples=80, deadline=None)
@given(random_networks(), st.booleans())
def test_per_component_equals_dense_inverse(F, sparse_path):
    dense_max = 0 if sparse_path else 2000  # force the sparse LU path for every component
    result = finn_cycling_index(F, _dense_max=dense_max)
    expected = dense_fci(F)
    if math.isnan(expected):
        assert math.isnan(result.fci)
    else:
        assert result.fci == pytest.approx(expected, rel=1e-7, abs=1e-10)


@settings(max_examples=60, deadline=None)
@given(random_networks(), st.data())
def test_given_inputs_equal_dense_inverse(F, data):
    # inputs that keep every node balanced: at least what it pays out beyond what it receives, plus extra
    Fo = F - np.diag(np.diag(F))
    n = len(F)
    need = np.clip(Fo.sum(axis=1) - Fo.sum(axis=0), 0, None)
    extra = np.array(data.draw(st.lists(st.floats(0, 1e3), min_size=n, max_size=n)))
    z = need + extra
    result = finn_cycling_index(F, inputs=z)
    expected = dense_fci(F, z)
    if math.isnan(expected):
        assert math.isnan(result.fci)
    else:
        assert result.fci == pytest.approx(expected, rel=1e-7, abs=1e-10)
    assert (result.outputs >= 0).all()


def test_unbalanced_inputs_name_the_party():
    with pytest.raises(ValueError, match="'B'"):
        finn_cycling_index([[0, 5, 0], [0, 0, 9], [0, 0, 0]], inputs=[5, 0, 0], labels=["A", "B", "C"])
    with pytest.raises(ValueError, match="unknown party"):
        finn_cycling_index([[0, 1], [1, 0]], inputs={"X": 1.0})
    with pytest.raises(ValueError, match="not negative"):
        finn_cycling_index([[0, 1], [1, 0]], inputs=[-1, 0])


def test_closed_loop_counts_as_fully_cycled():
    # a pure circulation with no boundary flow never lets money out: the limit of a vanishing leak
    ring = [[0, 1, 0], [0, 0, 1], [1, 0, 0]]
    assert finn_cycling_index(ring).fci == 1.0
    leak = 1e-6
    nearly = finn_cycling_index([[0, 1, 0], [0, 0, 1 - leak], [1 - leak, 0, 0]], inputs=[leak, 0, 0])
    assert nearly.fci == pytest.approx(1.0, abs=1e-5)
    assert math.isnan(finn_cycling_index(np.zeros((2, 2))).fci)


def test_bundled_dataset():
    ledger = loopscope.load()
    result = finn_cycling_index(ledger)
    flows = ledger.flows()
    parties = [p.id for p in ledger.parties]
    labels = sorted(parties)
    index = {p: i for i, p in enumerate(labels)}
    F = np.zeros((len(labels), len(labels)))
    for src, dst, amount in zip(flows["src"], flows["dst"], flows["amount_usd"].fillna(0.0)):
        F[index[src], index[dst]] += amount
    assert 0 < result.fci < 1
    assert result.fci == pytest.approx(dense_fci(F, inside_hypothesis=False), rel=1e-9)
    assert list(result.throughflow.index) == labels


@pytest.mark.parametrize("k", [3, 40, 300])
@pytest.mark.parametrize("dense_max", [0, 5000])
def test_long_ring_every_solver_path(k, dense_max):
    # ring of k nodes, each forwarding p of its throughflow to the next; z enters node 0:
    # T_0 = z / (1 - p^k), T_i = p^i T_0, flow i -> i+1 = p T_i; return probability p^k everywhere.
    # k = 3 uses the batched small inverses, 40 and 300 the dense one, dense_max=0 the sparse LU.
    p, z = 0.995, 7.0
    T = z / (1 - p**k) * p ** np.arange(k)
    F = np.zeros((k, k))
    F[np.arange(k), (np.arange(k) + 1) % k] = p * T
    inputs = np.zeros(k)
    inputs[0] = z
    result = finn_cycling_index(F, inputs=inputs, _dense_max=dense_max)
    assert result.fci == pytest.approx(p**k, rel=1e-9)
    assert result.tst == pytest.approx(T.sum(), rel=1e-12)
