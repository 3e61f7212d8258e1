"""Maximum circulation and reciprocity, checked against independent references.

References used here: an LP over *all* edges written independently of the implementation (no strongly
connected component restriction), brute-force enumeration of integer circulations on tiny graphs
(integer capacities have an integer optimum), hand-computed small cases, and networkx for acyclicity.
"""

from __future__ import annotations

import itertools
import json
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import loopscope
from loopscope.analysis.circulation import max_circulation, reciprocity

# ---------------------------------------------------------------------------------------------
# strategies and references


@st.composite
def flow_matrices(draw, max_nodes: int = 8, max_edges: int = 24, integer: bool = False):
    """A dense n x n matrix of non-negative flows (self-loops allowed; they must be ignored)."""
    n = draw(st.integers(min_value=1, max_value=max_nodes))
    amount = st.integers(min_value=1, max_value=1000).map(float) if integer else st.floats(
        min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), amount), max_size=max_edges))
    W = np.zeros((n, n))
    for i, j, w in edges:
        W[i, j] += w
    return W


def lp_max_circulation(W: np.ndarray) -> float:
    """Independent reference: maximise sum c over every off-diagonal edge, c in [0, w], B c = 0."""
    W = np.array(W, dtype=float)
    np.fill_diagonal(W, 0.0)
    rows, cols = np.nonzero(W)
    m = len(rows)
    if m == 0:
        return 0.0
    n = W.shape[0]
    B = np.zeros((n, m))
    B[rows, np.arange(m)] += 1.0
    B[cols, np.arange(m)] -= 1.0
    res = linprog(-np.ones(m), A_eq=B, b_eq=np.zeros(n), bounds=list(zip(np.zeros(m), W[rows, cols])),
                  method="highs")
    assert res.status == 0
    return -res.fun


def brute_force_max_circulation(W: np.ndarray) -> float:
    """Enumerate every integer flow 0..w_e on every edge; keep the largest that is a circulation."""
    rows, cols = np.nonzero(W - np.diag(np.diag(W)))
    caps = [int(W[i, j]) for i, j in zip(rows, cols)]
    best = 0
    for flow in itertools.product(*(range(c + 1) for c in caps)):
        balance = np.zeros(W.shape[0])
        for f, i, j in zip(flow, rows, cols):
            balance[i] += f
            balance[j] -= f
        if not balance.any():
            best = max(best, sum(flow))
    return float(best)


def networkx_max_circulation(W: np.ndarray) -> int:
    """Exact reference for integer amounts: networkx's network simplex on the one-way part D.

    Minimise sum D with 0 <= D <= W keeping every net position (networkx demand = inflow - outflow);
    the maximum circulation is sum W - min sum D.  Python integers, so no rounding at all.
    """
    W = offdiag(W).astype(np.int64)
    graph = nx.DiGraph()
    n = len(W)
    for i in range(n):
        graph.add_node(i, demand=int(W[:, i].sum() - W[i, :].sum()))
    for i, j in zip(*np.nonzero(W)):
        graph.add_edge(int(i), int(j), capacity=int(W[i, j]), weight=1)
    cost, _ = nx.network_simplex(graph)
    return int(W.sum()) - cost


def offdiag(W: np.ndarray) -> np.ndarray:
    W = np.array(W, dtype=float)
    np.fill_diagonal(W, 0.0)
    return W


# ---------------------------------------------------------------------------------------------
# hand-checked cases


def test_reciprocal_pair():
    r = max_circulation([[0, 100], [80, 0]], labels=["A", "B"])
    assert r.gross == 180.0
    assert r.circulated == pytest.approx(160.0)
    assert r.one_way == pytest.approx(20.0)
    assert r.outside_money == pytest.approx(20.0)
    assert r.circularity == pytest.approx(160 / 180)
    assert r.residual.toarray() == pytest.approx(np.array([[0, 20], [0, 0]]))
    assert r.net_positions.to_dict() == {"A": 20.0, "B": -20.0}


def test_triangle_with_bottleneck():
    # A -> B 50, B -> C 10, C -> A 30: the 10 limits the loop
    r = max_circulation([[0, 50, 0], [0, 0, 10], [30, 0, 0]], labels=["A", "B", "C"])
    assert r.circulated == pytest.approx(30.0)
    assert r.circular.toarray() == pytest.approx(np.array([[0, 10, 0], [0, 0, 10], [10, 0, 0]]))
    assert r.one_way == pytest.approx(60.0)
    # A pays 50, receives 30: net payer of 20; B receives 50, pays 10: net receiver of 40; C +20
    assert r.outside_money == pytest.approx(40.0)


def test_two_loops_sharing_an_edge():
    # A->B 10, B->C 6, C->A 6, B->D 5, D->A 5: loops ABC and ABD share A->B (capacity 10 < 6 + 5)
    W = np.zeros((4, 4))
    W[0, 1], W[1, 2], W[2, 0], W[1, 3], W[3, 0] = 10, 6, 6, 5, 5
    assert max_circulation(W).circulated == pytest.approx(30.0)  # 10 through A->B, split 6/4 or 5/5


def test_intermediated_one_way_money_exceeds_outside_money():
    # A -> B -> C, 10 each: 20 of one-way payments carry 10 of outside money
    r = max_circulation([[0, 10, 0], [0, 0, 10], [0, 0, 0]])
    assert r.circulated == 0.0
    assert r.one_way == 20.0
    assert r.outside_money == 10.0


def test_empty_and_self_loops():
    r = max_circulation(np.zeros((3, 3)))
    assert r.gross == 0.0 and r.circulated == 0.0
    assert math.isnan(r.circularity)
    assert r.to_dict()["circularity"] is None
    json.dumps(r.to_dict())
    # a self-loop is no circle and is not counted
    s = max_circulation([[5, 1], [0, 0]])
    assert s.gross == 1.0 and s.circulated == 0.0
    assert math.isnan(reciprocity(np.zeros((2, 2))))
    assert math.isnan(reciprocity([[7]]))


def test_reciprocity_hand_values():
    assert reciprocity([[0, 100], [80, 0]]) == pytest.approx(160 / 180)
    assert reciprocity([[0, 1, 0], [0, 0, 1], [1, 0, 0]]) == 0.0
    assert reciprocity([[0, 3], [3, 0]]) == pytest.approx(1.0)
    # 1 -> 2: 4, 2 -> 1: 1, 2 -> 3: 5; matched 2 * 1 of 10
    assert reciprocity([[0, 4, 0], [1, 0, 5], [0, 0, 0]]) == pytest.approx(0.2)


# ---------------------------------------------------------------------------------------------
# against independent references


@settings(max_examples=80, deadline=None)
@given(flow_matrices())
def test_matches_independent_lp_over_all_edges(W):
    expected = lp_max_circulation(W)
    got = max_circulation(W).circulated
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-9 * max(1.0, W.max()))


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 10).flatmap(lambda n: st.lists(
    st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(1, 10**12)), max_size=30).map(
    lambda edges: (n, edges))))
def test_matches_exact_network_simplex_on_widely_spread_amounts(case):
    # integer amounts from 1 to 10^12 in one network: the LP must still find the exact optimum
    n, edges = case
    W = np.zeros((n, n))
    for i, j, w in edges:
        W[i, j] += w
    expected = networkx_max_circulation(W)
    result = max_circulation(W)
    assert result.circulated == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert result.max_imbalance <= 1e-9 * max(1.0, W.max())


@settings(max_examples=60, deadline=None)
@given(flow_matrices(max_nodes=4, max_edges=6, integer=True).map(lambda W: np.minimum(W, 3.0)))
def test_matches_brute_force_on_tiny_graphs(W):
    assert max_circulation(W).circulated == pytest.approx(brute_force_max_circulation(W), abs=1e-9)


@settings(max_examples=80, deadline=None)
@given(flow_matrices())
def test_decomposition_properties(W):
    r = max_circulation(W)
    Wo = offdiag(W)
    C, D = r.circular.toarray(), r.residual.toarray()
    tol = 1e-7 * max(1.0, Wo.max())
    # circular + residual == W, 0 <= C <= W, C only on existing edges
    assert np.allclose(C + D, Wo, rtol=1e-12, atol=tol)
    assert (C >= 0).all() and (D >= 0).all()
    assert (C <= Wo + tol).all()
    assert not C[Wo == 0].any()
    # C is a circulation: what each party receives equals what it pays
    assert np.allclose(C.sum(axis=1), C.sum(axis=0), atol=tol)
    assert r.max_imbalance <= tol
    # every net position is preserved by the residual
    net = Wo.sum(axis=1) - Wo.sum(axis=0)
    assert np.allclose(D.sum(axis=1) - D.sum(axis=0), net, atol=tol)
    assert np.allclose(r.net_positions.to_numpy(), net, atol=tol)
    # headline arithmetic
    assert r.gross == pytest.approx(Wo.sum())
    assert r.one_way == pytest.approx(r.gross - r.circulated, abs=tol)
    assert r.outside_money == pytest.approx(np.clip(net, 0, None).sum(), abs=tol)
    assert r.outside_money <= r.one_way + tol
    # the residual is acyclic (else more could circulate)
    significant = np.argwhere(D > tol)
    assert nx.is_directed_acyclic_graph(nx.DiGraph([tuple(e) for e in significant]))
    # and the frame agrees with the matrices
    frame = r.to_frame()
    assert frame["amount"].sum() == pytest.approx(Wo.sum())
    json.dumps(r.to_dict())


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 9).flatmap(lambda n: st.lists(
    st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0.01, 1e4)), max_size=25)))
def test_acyclic_graph_circulates_nothing(edges):
    n = 10
    W = np.zeros((n, n))
    for i, j, w in edges:
        if i < j:  # only forward edges: a DAG
            W[i, j] += w
    r = max_circulation(W)
    assert r.circulated == 0.0
    assert r.residual.toarray() == pytest.approx(W)


@settings(max_examples=80, deadline=None)
@given(flow_matrices())
def test_reciprocity_never_exceeds_circularity(W):
    r = max_circulation(W)
    rho = reciprocity(W)
    if r.gross == 0:
        assert math.isnan(rho) and math.isnan(r.circularity)
    else:
        # min(W, W^T) is itself a circulation below W
        Wo = offdiag(W)
        assert rho == pytest.approx(np.minimum(Wo, Wo.T).sum() / Wo.sum())
        assert rho <= r.circularity + 1e-9


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 7).flatmap(lambda n: st.lists(
    st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0.0, 1e3), st.floats(0.01, 1e3),
              st.floats(0.0, 1e3)),
    min_size=1, max_size=20)))
def test_low_central_high_bounds(rows):
    frame = pd.DataFrame(
        [{"src": f"p{i}", "dst": f"p{j}", "low": a, "amount": a + b, "high": a + b + c} for i, j, a, b, c in rows])
    r = max_circulation(frame)
    slack = 1e-7 * max(1.0, frame["high"].max())
    assert r.circulated_low <= r.circulated + slack
    assert r.circulated <= r.circulated_high + slack
    assert r.gross_low <= r.gross <= r.gross_high
    # each bound is the maximum circulation of that column
    for column, got in (("low", r.circulated_low), ("high", r.circulated_high)):
        alone = frame.assign(amount=frame[column], low=frame[column], high=frame[column])
        assert got == pytest.approx(max_circulation(alone).circulated, rel=1e-9, abs=slack)
    if r.gross_low > 0:
        assert r.circularity_low == pytest.approx(r.circulated_low / r.gross_low)


# ---------------------------------------------------------------------------------------------
# every input form gives the same answer


@settings(max_examples=40, deadline=None)
@given(flow_matrices())
def test_numpy_scipy_and_dataframe_agree(W):
    n = W.shape[0]
    labels = [f"n{i:02d}" for i in range(n)]
    rows, cols = np.nonzero(W)
    frame = pd.DataFrame({"src": [labels[i] for i in rows], "dst": [labels[j] for j in cols], "amount": W[rows, cols]})
    dense = max_circulation(W, labels=labels)
    for other in (max_circulation(sp.csr_matrix(W), labels=labels), max_circulation(frame)):
        assert other.circulated == pytest.approx(dense.circulated, rel=1e-9, abs=1e-9)
        assert other.gross == pytest.approx(dense.gross)
        # the frame only knows parties that appear in a flow
        assert other.net_positions.reindex(dense.net_positions.index, fill_value=0.0).to_numpy() == pytest.approx(
            dense.net_positions.to_numpy())


def test_ledger_dataframe_and_matrix_agree():
    ledger = loopscope.load()
    from_ledger = max_circulation(ledger)
    flows = ledger.flows()
    from_frame = max_circulation(flows)
    # the matrix of summed amounts, built here by hand from the flows table
    parties = sorted(set(flows["src"]) | set(flows["dst"]))
    index = {p: i for i, p in enumerate(parties)}
    W = np.zeros((len(parties), len(parties)))
    for src, dst, amount in zip(flows["src"], flows["dst"], flows["amount_usd"].fillna(0.0)):
        if src != dst:
            W[index[src], index[dst]] += amount
    from_matrix = max_circulation(W, labels=parties)
    assert from_ledger.gross == pytest.approx(W.sum())
    assert from_ledger.circulated > 0
    assert from_ledger.circulated == pytest.approx(lp_max_circulation(W), rel=1e-9)
    for other in (from_frame, from_matrix):
        assert other.circulated == pytest.approx(from_ledger.circulated, rel=1e-9)
        assert other.gross == pytest.approx(from_ledger.gross, rel=1e-12)
    assert from_ledger.circulated_low <= from_ledger.circulated <= from_ledger.circulated_high * (1 + 1e-9)
    assert from_ledger.outside_money <= from_ledger.one_way * (1 + 1e-12)
    assert reciprocity(ledger) <= from_ledger.circularity
    assert reciprocity(ledger) == pytest.approx(reciprocity(W, labels=parties))
    data = json.loads(json.dumps(from_ledger.to_dict()))
    assert data["circulated"] == pytest.approx(from_ledger.circulated)
    assert len(data["edges"]) == len(from_ledger.to_frame())
