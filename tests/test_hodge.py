"""Helmholtz-Hodge decomposition, checked against a dense weighted least-squares solution, planted
gradient and cycle flows, and the two solver paths against each other."""

from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import loopscope
from loopscope.analysis.hodge import hodge_decomposition


@st.composite
def flow_matrices(draw, max_nodes: int = 9, max_edges: int = 30):
    n = draw(st.integers(1, max_nodes))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0.01, 1e4)),
                          max_size=max_edges))
    W = np.zeros((n, n))
    for i, j, w in edges:
        W[i, j] += w
    return W


def lstsq_reference(W: np.ndarray):
    """Dense weighted least squares: min over phi of sum_e (F_e - w_e (phi_i - phi_j))^2 / w_e.

    Rows e = (i < j) with w_e = W_ij + W_ji > 0, F_e = W_ij - W_ji.  The system is
    sqrt(w) (phi_i - phi_j) = F / sqrt(w); numpy's minimum-norm solution has mean zero on each
    connected component (the null space is the constants per component) and 0 on isolated nodes.
    """
    W = np.array(W, dtype=float)
    np.fill_diagonal(W, 0.0)
    n = len(W)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if W[i, j] + W[j, i] > 0]
    if not pairs:
        return np.zeros(n), math.nan
    A = np.zeros((len(pairs), n))
    b = np.zeros(len(pairs))
    weights = np.zeros(len(pairs))
    nets = np.zeros(len(pairs))
    for e, (i, j) in enumerate(pairs):
        w = W[i, j] + W[j, i]
        weights[e], nets[e] = w, W[i, j] - W[j, i]
        A[e, i], A[e, j] = math.sqrt(w), -math.sqrt(w)
        b[e] = nets[e] / math.sqrt(w)
    phi = np.linalg.lstsq(A, b, rcond=None)[0]
    potential = np.array([weights[e] * (phi[i] - phi[j]) for e, (i, j) in enumerate(pairs)])
    loop = nets - potential
    denominator = (nets**2 / weights).sum()
    ratio = (loop**2 / weights).sum() / denominator if denominator > 0 else math.nan
    return phi, ratio


def divergence_of(edges: pd.DataFrame, column: str, labels) -> np.ndarray:
    """Net outflow of ``column`` at each party (edges oriented src -> dst)."""
    out = edges.groupby("src")[column].sum().reindex(labels, fill_value=0.0)
    into = edges.groupby("dst")[column].sum().reindex(labels, fill_value=0.0)
    return (out - into).to_numpy()


@settings(max_examples=80, deadline=None)
@given(flow_matrices())
def test_equals_dense_weighted_least_squares(W):
    result = hodge_decomposition(W)
    phi, ratio = lstsq_reference(W)
    scale = max(1.0, float(np.abs(phi).max()))
    assert result.potential.to_numpy() == pytest.approx(phi, abs=1e-8 * scale)
    if math.isnan(ratio):
        assert math.isnan(result.loop_ratio)
    else:
        assert result.loop_ratio == pytest.approx(ratio, abs=1e-8)
        assert result.potential_ratio == pytest.approx(1 - ratio, abs=1e-8)
    assert result.method == "direct"


@settings(max_examples=80, deadline=None)
@given(flow_matrices())
def test_parts_add_up_and_loop_is_divergence_free(W):
    result = hodge_decomposition(W)
    edges = result.edges
    Wo = W - np.diag(np.diag(W))
    tol = 1e-8 * max(1.0, Wo.max())
    # one row per unordered pair with a flow, src < dst, and the right weight and net flow
    expected = {(i, j): (Wo[i, j] + Wo[j, i], Wo[i, j] - Wo[j, i])
                for i in range(len(W)) for j in range(i + 1, len(W)) if Wo[i, j] or Wo[j, i]}
    assert sorted(zip(edges["src"], edges["dst"])) == sorted(expected)
    for src, dst, weight, net in zip(edges["src"], edges["dst"], edges["weight"], edges["net"]):
        assert (weight, net) == pytest.approx(expected[(src, dst)])
    assert (edges["potential_flow"] + edges["loop_flow"]).to_numpy() == pytest.approx(edges["net"].to_numpy(), abs=tol)
    labels = list(result.potential.index)
    assert divergence_of(edges, "loop_flow", labels) == pytest.approx(np.zeros(len(labels)), abs=tol)
    # the potential part carries all the net positions
    net_position = Wo.sum(axis=1) - Wo.sum(axis=0)
    assert divergence_of(edges, "potential_flow", labels) == pytest.approx(net_position, abs=tol)
    assert 0.0 <= result.loop_ratio <= 1.0 or math.isnan(result.loop_ratio)
    json.dumps(result.to_dict())


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 12).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0.0, 0.99), min_size=n, max_size=n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0.1, 1e3)), min_size=1, max_size=30),
)))
def test_pure_gradient_flow_is_recovered(case):
    # plant a potential phi (spread < 1) and, for every pair, split a weight w as
    # W_ij = w (1 + d) / 2, W_ji = w (1 - d) / 2 with d = phi_i - phi_j: both flows positive,
    # net flow W_ij - W_ji = w d exactly a gradient flow.
    phi, pairs = case
    phi = np.array(phi)
    n = len(phi)
    W = np.zeros((n, n))
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for i, j, w in pairs:
        if i == j:
            continue
        d = phi[i] - phi[j]
        W[i, j] += w * (1 + d) / 2
        W[j, i] += w * (1 - d) / 2
        graph.add_edge(i, j)
    result = hodge_decomposition(W)
    assert float((result.edges["loop_flow"].abs()).max() if len(result.edges) else 0.0) <= 1e-8 * max(1.0, W.max())
    got = result.potential.to_numpy()
    for component in nx.connected_components(graph):
        nodes = sorted(component)
        if len(nodes) == 1:
            assert got[nodes[0]] == 0.0
            continue
        planted = phi[nodes] - phi[nodes].mean()
        assert got[nodes] == pytest.approx(planted, abs=1e-8)
    if result.edges["net"].abs().max() > 1e-6:
        assert result.loop_ratio == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("k", [2, 3, 4, 7, 50])
def test_pure_cycle_is_all_loop(k):
    amount = 3.5
    W = np.zeros((k, k))
    for i in range(k):
        W[i, (i + 1) % k] = amount
    result = hodge_decomposition(W)
    if k == 2:  # a 2-ring is a reciprocal pair: no net flow at all
        assert math.isnan(result.loop_ratio)
    else:
        assert result.loop_ratio == pytest.approx(1.0, abs=1e-12)
        assert result.edges["loop_flow"].abs().to_numpy() == pytest.approx(np.full(k, amount))
    assert result.potential.to_numpy() == pytest.approx(np.zeros(k), abs=1e-12)


def test_reciprocal_pair_blind_spot_and_sign():
    pair = hodge_decomposition([[0, 100], [80, 0]], labels=["A", "B"])
    assert pair.loop_ratio == pytest.approx(0.0, abs=1e-15)
    # A is the net payer: upstream, higher potential; w (phi_A - phi_B) = 20 with w = 180
    assert pair.potential["A"] > pair.potential["B"]
    assert pair.potential["A"] - pair.potential["B"] == pytest.approx(20 / 180)
    assert pair.components == 1


def test_components_and_isolated_parties():
    # two separate chains and an isolated party: potentials centred in each component
    W = np.zeros((6, 6))
    W[0, 1] = 4
    W[2, 3], W[3, 4] = 1, 1
    result = hodge_decomposition(W)
    assert result.components == 3
    phi = result.potential.to_numpy()
    assert phi[0] + phi[1] == pytest.approx(0, abs=1e-12)
    assert phi[2:5].sum() == pytest.approx(0, abs=1e-12)
    assert phi[5] == 0.0
    assert phi[0] == pytest.approx(0.5)
    assert phi[2] == pytest.approx(1.0) and phi[4] == pytest.approx(-1.0)


def test_iterative_and_direct_paths_agree():
    rng = np.random.default_rng(7)
    n, m = 3000, 12000
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n - 1, m)
    dst = dst + (dst >= src)
    W = sp.csr_matrix((rng.lognormal(0.0, 1.5, m), (src, dst)), shape=(n, n))
    direct = hodge_decomposition(W, _direct_max=10**9)
    iterative = hodge_decomposition(W, _direct_max=0)
    assert direct.method == "direct" and iterative.method == "cg"
    assert iterative.iterations > 0
    assert iterative.residual < 1e-9 and direct.residual < 1e-9
    scale = float(np.abs(direct.potential).max())
    assert iterative.potential.to_numpy() == pytest.approx(direct.potential.to_numpy(), abs=1e-7 * scale)
    assert iterative.loop_ratio == pytest.approx(direct.loop_ratio, abs=1e-9)
    assert iterative.components == direct.components
    # the iterative path also equals the dense least squares solution on a small graph
    small = np.zeros((6, 6))
    small[0, 1], small[1, 2], small[2, 0], small[2, 3], small[4, 5] = 5, 2, 1, 7, 3
    phi, ratio = lstsq_reference(small)
    forced = hodge_decomposition(small, _direct_max=0)
    assert forced.method == "cg"
    assert forced.potential.to_numpy() == pytest.approx(phi, abs=1e-8)
    assert forced.loop_ratio == pytest.approx(ratio, abs=1e-9)


def test_input_forms_agree():
    ledger = loopscope.load()
    from_ledger = hodge_decomposition(ledger)
    from_frame = hodge_decomposition(ledger.flows())
    assert from_frame.loop_ratio == pytest.approx(from_ledger.loop_ratio, rel=1e-9)
    common = from_frame.potential.index
    # the ledger also lists parties without flows (potential 0); the rest must match
    assert from_ledger.potential[common].to_numpy() == pytest.approx(from_frame.potential.to_numpy(), abs=1e-12)
    flows = ledger.flows()
    labels = sorted(from_ledger.potential.index)
    index = {p: i for i, p in enumerate(labels)}
    W = np.zeros((len(labels), len(labels)))
    for s, d, a in zip(flows["src"], flows["dst"], flows["amount_usd"].fillna(0.0)):
        if s != d:
            W[index[s], index[d]] += a
    from_matrix = hodge_decomposition(sp.coo_matrix(W), labels=labels)
    assert from_matrix.loop_ratio == pytest.approx(from_ledger.loop_ratio, rel=1e-9)
    phi, ratio = lstsq_reference(W / W.max())  # the decomposition is linear: scale for the dense solver
    assert from_ledger.loop_ratio == pytest.approx(ratio, abs=1e-9)
    assert from_ledger.potential.to_numpy() == pytest.approx(phi, abs=1e-9 * np.abs(phi).max())
    assert 0 < from_ledger.loop_ratio < 1
    json.dumps(from_ledger.to_dict())
