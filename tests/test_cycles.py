"""Round trips: find_cycles checked against networkx, igraph and brute force."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import loopscope
from loopscope.analysis.cycles import _in_time_order, find_cycles


def canonical(cycle) -> tuple:
    """A cycle rotated to start at its smallest vertex."""
    cycle = list(cycle)
    i = cycle.index(min(cycle))
    return tuple(cycle[i:] + cycle[:i])


def networkx_cycles(matrix: np.ndarray, k: int | None) -> set[tuple]:
    graph = nx.DiGraph(matrix)
    graph.remove_edges_from(list(nx.selfloop_edges(graph)))
    return {canonical(c) for c in nx.simple_cycles(graph, length_bound=k)}


@st.composite
def digraphs(draw, max_nodes=10):
    n = draw(st.integers(1, max_nodes))
    density = draw(st.sampled_from([0.05, 0.2, 0.4, 0.7, 1.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    weights = rng.integers(1, 100, size=(n, n)).astype(float)
    return np.where(rng.random((n, n)) < density, weights, 0.0)


@settings(max_examples=300, deadline=None)
@given(digraphs(), st.one_of(st.none(), st.integers(1, 8)))
def test_static_cycles_equal_networkx(matrix, k):
    """Exactly networkx's simple cycles, each once, from its smallest party; dense, sparse,
    self-loops (left out) and tiny graphs included."""
    found = find_cycles(matrix, max_length=k)
    parties = found.parties()
    assert len(parties) == len(set(parties))
    assert all(p[0] == min(p) for p in parties)
    assert set(parties) == networkx_cycles(matrix, k)
    assert found.self_loops == int(np.count_nonzero(np.diag(matrix)))


@settings(max_examples=100, deadline=None)
@given(digraphs(max_nodes=8), st.integers(2, 6))
def test_circulated_amount_is_the_bottleneck(matrix, k):
    found = find_cycles(matrix, max_length=k)
    amounts = [c.amount_usd for c in found]
    for cycle in found:
        steps = list(zip(cycle.parties, cycle.parties[1:] + cycle.parties[:1]))
        assert cycle.amount_usd == min(matrix[i, j] for i, j in steps)
        assert [(s.src, s.dst) for s in cycle.steps] == steps
        assert cycle.low_usd == cycle.amount_usd == cycle.high_usd
    assert amounts == sorted(amounts, reverse=True)


@settings(max_examples=60, deadline=None)
@given(digraphs(max_nodes=8), st.integers(2, 5), st.integers(1, 100))
def test_min_amount_keeps_the_cycles_that_carry_it(matrix, k, threshold):
    everything = find_cycles(matrix, max_length=k)
    expected = {c.parties for c in everything if c.amount_usd >= threshold}
    assert set(find_cycles(matrix, max_length=k, min_amount=threshold).parties()) == expected


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_static_cycles_equal_igraph_on_larger_graphs(seed, k):
    rng = np.random.default_rng(seed)
    n, m = 300, 1500
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    matrix = sp.csr_matrix((np.ones(m), (src, dst)), shape=(n, n))
    graph = ig.Graph(n=n, edges=list(zip(*matrix.nonzero())), directed=True)
    graph.simplify(loops=True, multiple=True)
    reference = {canonical(c) for c in graph.simple_cycles(min=2, max=k)}
    found = find_cycles(matrix, max_length=k).parties()
    assert len(found) == len(reference) > 0
    assert set(found) == reference


def test_labels_give_the_canonical_start_and_names():
    W = np.array([[0, 5, 0], [0, 0, 7], [9, 0, 0]])
    (cycle,) = find_cycles(W, labels=["zeta", "alpha", "mid"])
    # zeta → alpha → mid → zeta, written from the smallest label
    assert cycle.parties == ("alpha", "mid", "zeta")
    assert cycle.amount_usd == 5.0
    assert cycle.narrative["en"].startswith("alpha pays mid $7")


def test_the_same_answer_from_every_input_shape():
    ledger = loopscope.load()
    flows = ledger.flows()
    from_ledger = find_cycles(ledger, max_length=4)
    from_frame = find_cycles(flows, max_length=4)
    assert from_ledger.parties() == from_frame.parties()
    assert [c.amount_usd for c in from_ledger] == pytest.approx([c.amount_usd for c in from_frame], nan_ok=True)
    matrix, index = ledger.matrix()
    from_matrix = find_cycles(matrix, labels=index, max_length=4)
    # a matrix only has pairs with a disclosed amount
    disclosed = {c.parties for c in from_ledger if not any(np.isnan(s.amount_usd) for s in c.steps)}
    assert set(from_matrix.parties()) == disclosed


def test_bundled_dataset_round_trips():
    cycles = find_cycles(loopscope.load())
    by_parties = {c.parties: c for c in cycles}
    stargate = by_parties[("nvidia", "openai", "oracle")]
    assert [list(s.deals)[:1] for s in stargate.steps] == [
        ["nvidia-openai-equity-2026"], ["openai-oracle-compute-2025"], ["oracle-nvidia-abilene-2025"]
    ]
    assert stargate.amount_usd == min(s.amount_usd for s in stargate.steps)
    assert "openai-oracle-compute-2025" in stargate.narrative["en"]
    assert "2025-07-22" in stargate.narrative["en"] and "22.07.2025" in stargate.narrative["de"]
    assert "Mrd. $" in stargate.narrative["de"] and "$300bn" in stargate.narrative["en"]
    # every step's deals really run between its parties, and are active
    deals = {d.id: d for d in loopscope.load().deals}
    for cycle in cycles:
        for step in cycle.steps:
            for deal in step.deals:
                assert (deals[deal].src, deals[deal].dst) == (step.src, step.dst)
                assert deals[deal].status not in ("superseded", "cancelled")
    # unknown amounts rank last and say so
    unknown = [c for c in cycles if np.isnan(c.amount_usd)]
    assert unknown and all(np.isnan(c.amount_usd) for c in cycles[len(cycles) - len(unknown):])
    assert all("undisclosed" in c.narrative["en"] and "nicht genannt" in c.narrative["de"] for c in unknown)


def test_undisclosed_and_up_to_amounts_carry_their_uncertainty():
    flows = pd.DataFrame({
        "src": ["a", "b", "b", "c"], "dst": ["b", "c", "c", "a"],
        "amount": [100.0, 50.0, np.nan, 80.0], "low": [0.0, 50.0, np.nan, 80.0], "high": [100.0, 50.0, np.nan, 80.0],
        "deal_id": ["ab", "bc1", "bc2", "ca"], "kind": ["equity", "purchase", "purchase", "purchase"],
    })
    (cycle,) = find_cycles(flows)
    b_to_c = cycle.steps[1]
    assert b_to_c.deals == ("bc1", "bc2") and b_to_c.undisclosed == 1
    assert (b_to_c.amount_usd, b_to_c.low_usd, b_to_c.high_usd) == (50.0, 50.0, np.inf)
    assert (cycle.amount_usd, cycle.low_usd, cycle.high_usd) == (50.0, 0.0, 80.0)
    assert "up to $100" in cycle.narrative["en"] and "at least $50" in cycle.narrative["en"]
    record = cycle.to_dict()
    assert record["steps"][1]["high_usd"] is None  # unbounded, not infinity, in JSON
    json.dumps(record, allow_nan=False)
    only_unknown = flows.drop(index=1)
    (cycle,) = find_cycles(only_unknown)
    assert np.isnan(cycle.amount_usd) and cycle.to_dict()["amount_usd"] is None


# ------------------------------------------------------------------------------------------ temporal
def brute_force_temporal(src, dst, day, k, window):
    """Every set of flows that forms a simple cycle with non-decreasing dates from some start."""
    found = set()
    m = len(src)
    for length in range(2, k + 1):
        for seq in itertools.permutations(range(m), length):
            nodes = [src[e] for e in seq]
            if len(set(nodes)) != length:
                continue
            if any(dst[seq[i]] != src[seq[(i + 1) % length]] for i in range(length)):
                continue
            times = [day[e] for e in seq]
            if times != sorted(times):
                continue
            if window is not None and times[-1] - times[0] > window:
                continue
            found.add(frozenset(seq))
    return found


@st.composite
def dated_flows(draw):
    n = draw(st.integers(2, 5))
    m = draw(st.integers(1, 8))
    src = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    dst = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    day = draw(st.lists(st.integers(0, 6), min_size=m, max_size=m))  # few dates: many ties
    return src, dst, day


@settings(max_examples=300, deadline=None)
@given(dated_flows(), st.integers(2, 5), st.one_of(st.none(), st.integers(0, 6)))
def test_temporal_cycles_equal_brute_force(flows, k, window):
    src, dst, day = flows
    frame = pd.DataFrame({
        "src": [f"p{s}" for s in src], "dst": [f"p{d}" for d in dst], "amount": np.arange(1.0, len(src) + 1),
        "date": [date(2025, 1, 1) + timedelta(days=d) for d in day], "deal_id": [f"e{i}" for i in range(len(src))],
    })
    found = find_cycles(frame, max_length=k, temporal=True, window=window)
    keep = [i for i in range(len(src)) if src[i] != dst[i]]
    expected = brute_force_temporal(
        [src[i] for i in keep], [dst[i] for i in keep], [day[i] for i in keep], k, window
    )
    expected = {frozenset(f"e{keep[e]}" for e in cycle) for cycle in expected}
    got = [frozenset(d for step in c.steps for d in step.deals) for c in found]
    assert len(got) == len(set(got))
    assert set(got) == expected
    for cycle in found:
        dates = [step.dates[0] for step in cycle.steps]
        assert cycle.temporal
        if len(set(dates)) > 1:
            assert dates == sorted(dates)  # listed from the first step in time
        else:
            assert cycle.parties[0] == min(cycle.parties)
        assert cycle.amount_usd == min(step.amount_usd for step in cycle.steps)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 5), min_size=0, max_size=3), min_size=2, max_size=4))
def test_time_order_check_equals_brute_force(step_days):
    step_dates = [sorted({date(2025, 1, 1) + timedelta(days=d) for d in days}) for days in step_days]
    expected = False
    if all(step_dates):
        k = len(step_dates)
        for choice in itertools.product(*step_dates):
            if any(all(choice[(s + i) % k] <= choice[(s + i + 1) % k] for i in range(k - 1)) for s in range(k)):
                expected = True
                break
    assert _in_time_order(step_dates) == expected


def test_temporal_round_trip_in_the_dataset():
    ledger = loopscope.load()
    within_a_year = find_cycles(ledger, temporal=True, window="365d")
    assert len(within_a_year) > 0
    for cycle in within_a_year:
        dates = [step.dates[0] for step in cycle.steps]
        assert dates[-1] - dates[0] <= timedelta(days=365)
        assert "the money is back with" in cycle.narrative["en"]
    same_day = find_cycles(ledger, temporal=True, window=0)
    assert {c.parties for c in same_day} <= {c.parties for c in within_a_year}
    assert len(find_cycles(ledger, temporal=True)) >= len(within_a_year)


# ------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: find_cycles(np.eye(2), max_length=0), "max_length"),
        (lambda: find_cycles(np.eye(2), max_length=2.5), "max_length"),
        (lambda: find_cycles(np.eye(2), window="365d"), "temporal=True"),
        (lambda: find_cycles(np.eye(2), temporal=True, window="soon"), "cannot read 'soon'"),
        (lambda: find_cycles(np.eye(2), min_amount=-1), "min_amount"),
        (lambda: find_cycles(np.array([[0, -1], [1, 0]])), "not negative"),
        (lambda: find_cycles(np.ones((2, 3))), "square"),
        (lambda: find_cycles(np.array([[0, np.nan], [1, 0]])), "NaN"),
        (lambda: find_cycles(np.eye(2), labels=["a"]), "1 labels for a 2 × 2 matrix"),
        (lambda: find_cycles(pd.DataFrame({"src": ["a"], "dst": ["b"]})), "missing column"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_integer_labels_and_blank_text_cells_stay_plain():
    frame = pd.DataFrame({"src": [1, 2], "dst": [2, 1], "amount": [3.0, 4.0], "deal_id": ["d1", None],
                          "kind": pd.Series(["purchase", None], dtype="str")})
    (cycle,) = find_cycles(frame)
    json.dumps(cycle.to_dict(), allow_nan=False)
    assert cycle.parties == (1, 2) and type(cycle.parties[0]) is int
    assert "nan" not in cycle.narrative["en"]


def test_a_partly_undisclosed_bottleneck_is_not_called_a_maximum():
    frame = pd.DataFrame({"src": ["a", "a", "b"], "dst": ["b", "b", "a"], "amount": [10.0, np.nan, 100.0],
                          "deal_id": ["d1", "d2", "d3"]})
    (cycle,) = find_cycles(frame)
    assert (cycle.amount_usd, cycle.low_usd, cycle.high_usd) == (10.0, 10.0, 100.0)
    assert "at most" not in cycle.narrative["en"] and "$10 to $100" in cycle.narrative["en"]
    both_open = pd.DataFrame({"src": ["a", "a", "b", "b"], "dst": ["b", "b", "a", "a"],
                              "amount": [10.0, np.nan, 20.0, np.nan], "deal_id": ["d1", "d2", "d3", "d4"]})
    (cycle,) = find_cycles(both_open)
    assert (cycle.amount_usd, cycle.high_usd) == (10.0, np.inf)
    assert "$10 or more can go round this loop" in cycle.narrative["en"]
    with pytest.raises(ValueError, match="cannot read 'NaT'"):
        find_cycles(frame, temporal=True, window="NaT")
