"""IBM Snap ML's ``GraphFeaturePreprocessor`` as an independent reference for the cycle features.

Snap ML (PyPI ``snapml``) computes, per transaction, a histogram of the temporal cycles (``temp-cycle``:
strictly increasing times, like ``order="time"``) or the cycles in any order within a window
(``lc-cycle``, like ``order="any"``) it lies on, by length: exactly ``spec.cycle_features``.  It is a
separate C++ implementation, so agreement on many random ledgers is evidence that both follow the
published definitions (see ``scan.spec`` and the notes in ``../shared/REFERENCES.md``).

What is observed and asserted here:

- with distinct sender→receiver pairs, the counts agree exactly, per transaction and length, for both
  orders, with the window inclusive at both ends (``ScanSpec(window=W)`` is ``*_tw = W``), also when
  timestamps tie;
- Snap ML reads times as 32-bit integers: microseconds since 1970 (about 1.7e15) silently give no cycles
  there, so it is compared in seconds (or small integers);
- ``temp-cycle``'s last bin holds every longer cycle; ``lc-cycle``'s stays empty (``lc-cycle_len``
  bounds the length);
- with repeated sender→receiver pairs Snap ML counts low and never high (the truth is the plain-Python
  reference search), and with distinct timestamps it still flags exactly the transactions that lie on
  a round trip of each length.
"""

from __future__ import annotations

import importlib.util
import multiprocessing

import numpy as np
import pytest

from loopscope.scan.memory import find_round_trips
from loopscope.scan.reference import brute_force, depth_first
from loopscope.scan.spec import MAX_LENGTH_LIMIT, ScanSpec, Transactions, cycle_features

if importlib.util.find_spec("snapml") is None:
    pytest.skip("snapml is not installed (the test extra installs it)", allow_module_level=True)

# Importing snapml flushes subnormal floats to zero in the whole process (it is built with fast-math),
# which breaks other libraries (hypothesis refuses to run).  So it runs in a child process only.
_POOL = None


def _transform_in_child(X: np.ndarray, params: dict) -> np.ndarray:
    import snapml

    preprocessor = snapml.GraphFeaturePreprocessor()  # a fresh object: batch mode, nothing remembered
    preprocessor.set_params(params)
    return preprocessor.transform(X)


def _snap_transform(X: np.ndarray, params: dict) -> np.ndarray:
    global _POOL
    if _POOL is None:
        _POOL = multiprocessing.get_context("spawn").Pool(1)
    return _POOL.apply(_transform_in_child, (X, params))


@pytest.fixture(scope="module", autouse=True)
def _stop_the_child():
    yield
    global _POOL
    if _POOL is not None:
        _POOL.terminate()
        _POOL = None


def test_this_process_keeps_subnormal_floats():
    assert np.float64(5e-324) > 0


def snap_histogram(tx: Transactions, window: int, max_length: int, order: str, bins: list[int]) -> np.ndarray:
    """Snap ML's cycle histogram per transaction (columns: ``bins``; the last one is "that length or more")."""
    X = np.column_stack([np.arange(len(tx)), tx.src, tx.dst, tx.time]).astype(np.float64)
    params = {"num_threads": 2, "time_window": window, "vertex_stats": False, "fan": False, "degree": False,
              "scatter-gather": False,
              "temp-cycle": order == "time", "temp-cycle_tw": window, "temp-cycle_bins": bins,
              "lc-cycle": order == "any", "lc-cycle_tw": window, "lc-cycle_bins": bins, "lc-cycle_len": max_length}
    out = _snap_transform(X, params)
    assert out.shape == (len(tx), 4 + len(bins))
    np.testing.assert_array_equal(out[:, :4], X)  # the input columns come back unchanged
    histogram = out[:, 4:]
    assert np.array_equal(histogram, np.round(histogram)) and histogram.min() >= 0
    return histogram.astype(np.int64)


def ours(tx: Transactions, spec: ScanSpec) -> np.ndarray:
    return cycle_features(find_round_trips(tx, spec), len(tx), spec.max_length)


def distinct_pairs_ledger(rng: np.random.Generator, accounts: int, transactions: int, times: np.ndarray,
                          *, self_transfers: bool = False) -> Transactions:
    """Transactions with pairwise distinct (src, dst) pairs at the given times."""
    pairs = [(s, d) for s in range(accounts) for d in range(accounts) if s != d or self_transfers]
    chosen = rng.choice(len(pairs), transactions, replace=False)
    src = np.array([pairs[i][0] for i in chosen])
    dst = np.array([pairs[i][1] for i in chosen])
    amount = np.round(rng.lognormal(4, 0.5, transactions), 2)
    return Transactions.from_arrays(src, dst, amount, times)


def random_case(seed: int, *, tied_times: bool = False):
    rng = np.random.default_rng(seed)
    accounts = int(rng.integers(12, 31))
    transactions = min(int(rng.integers(40, 301)), accounts * (accounts - 1))
    span = 100_000
    if tied_times:  # few distinct times, so that many transactions share one
        times = rng.integers(0, 400, transactions) * 250
    else:  # distinct times on a grid of 10, so that spans of exactly the window are common
        times = rng.choice(span // 10, transactions, replace=False) * 10
    tx = distinct_pairs_ledger(rng, accounts, transactions, times, self_transfers=seed % 3 == 0)
    window = int(rng.integers(span // 200, span * 3 // 100)) * 10
    max_length = int(rng.integers(3, 7))
    return tx, window, max_length


@pytest.mark.parametrize("order", ["time", "any"])
def test_counts_equal_snapml_with_distinct_pairs(order):
    totals = np.zeros(MAX_LENGTH_LIMIT + 1, dtype=np.int64)
    on_the_edge = 0
    for seed in range(40):
        tx, window, max_length = random_case(seed)
        spec = ScanSpec(window=window, max_length=max_length, order=order)
        mine = ours(tx, spec)
        theirs = snap_histogram(tx, window, max_length, order, list(range(2, max_length + 2)))
        np.testing.assert_array_equal(mine, theirs[:, :-1], err_msg=f"seed {seed}, {spec.describe()}")
        if order == "any":
            assert not theirs[:, -1].any()  # lc-cycle_len bounds the length: the open bin stays empty
        totals[2:max_length + 1] += mine.sum(axis=0)
        # round trips that span exactly the window: the inclusive end is exercised, not just passed
        cycles = find_round_trips(tx, spec)
        spans = [int(tx.time[list(c)].max() - tx.time[list(c)].min()) for c in cycles.to_lists()]
        on_the_edge += spans.count(window)
    assert all(totals[k] > 20 for k in range(2, 7)), totals  # every length is tested, not only zeros
    assert on_the_edge > 0


def test_the_window_is_inclusive_as_in_snapml():
    """A two-hop and a three-hop round trip spanning exactly 60: found with window 60, not with 59."""
    tx = Transactions.from_arrays([0, 1, 2, 3, 4], [1, 0, 3, 4, 2], [1.0] * 5, [0, 60, 100, 130, 160])
    for order in ("time", "any"):
        for window, expected in ((60, [1, 1, 1, 1, 1]), (59, [0, 0, 0, 0, 0])):
            mine = ours(tx, ScanSpec(window=window, max_length=3, order=order))
            theirs = snap_histogram(tx, window, 3, order, [2, 3, 4])
            assert mine.sum(axis=1).tolist() == expected
            np.testing.assert_array_equal(mine, theirs[:, :2])


@pytest.mark.parametrize("order", ["time", "any"])
def test_counts_equal_snapml_with_tied_timestamps(order):
    """Equal timestamps (a time-ordered trip needs strictly increasing ones) are treated alike."""
    ties = 0
    for seed in range(100, 125):
        tx, window, max_length = random_case(seed, tied_times=True)
        ties += len(tx) - len(np.unique(tx.time))
        spec = ScanSpec(window=window, max_length=max_length, order=order)
        theirs = snap_histogram(tx, window, max_length, order, list(range(2, max_length + 2)))
        np.testing.assert_array_equal(ours(tx, spec), theirs[:, :-1], err_msg=f"seed {seed}")
    assert ties > 100


def test_counts_equal_snapml_in_epoch_seconds():
    """Real ledgers' times as seconds since 1970 (about 1.76e9) are exact in Snap ML."""
    rng = np.random.default_rng(5)
    seconds = rng.choice(30 * 86_400, 200, replace=False)
    tx = distinct_pairs_ledger(rng, 20, 200, 1_756_684_800 + seconds)
    window = 3 * 86_400
    for order in ("time", "any"):
        mine = ours(tx, ScanSpec(window=window, max_length=5, order=order))
        assert mine.sum() > 0
        np.testing.assert_array_equal(mine, snap_histogram(tx, window, 5, order, [2, 3, 4, 5, 6])[:, :-1])


def test_snapml_times_must_stay_below_2_to_the_31():
    """Snap ML reads times as 32-bit integers: from 2**31 on (e.g. our microseconds since 1970) it silently
    finds nothing, so compare with it in seconds.  The same ledger shifted is fine for us either way."""
    rng = np.random.default_rng(5)
    seconds = rng.choice(30 * 86_400, 200, replace=False)
    window = 3 * 86_400
    below = distinct_pairs_ledger(rng, 20, 200, 2**31 - 1 - 30 * 86_400 + seconds)
    above = Transactions(below.src, below.dst, below.amount, below.time + 30 * 86_400 + 1)
    assert below.time.max() < 2**31 <= above.time.min()
    mine = ours(below, ScanSpec(window=window, max_length=5))
    assert mine.sum() > 0
    np.testing.assert_array_equal(ours(above, ScanSpec(window=window, max_length=5)), mine)
    np.testing.assert_array_equal(snap_histogram(below, window, 5, "time", [2, 3, 4, 5, 6])[:, :-1], mine)
    assert not snap_histogram(above, window, 5, "time", [2, 3, 4, 5, 6]).any()


def test_temp_cycle_last_bin_holds_every_longer_cycle():
    """With at most 12 accounts no simple cycle is longer than 12 hops, so a scan with ``max_length=12``
    finds all of them and Snap ML's open last bin is the sum of our longer lengths."""
    longer_seen = 0
    for seed in range(200, 215):
        rng = np.random.default_rng(seed)
        accounts = int(rng.integers(6, 13))
        n = min(int(rng.integers(30, 90)), accounts * (accounts - 1))
        tx = distinct_pairs_ledger(rng, accounts, n, rng.choice(10_000, n, replace=False))
        window = int(rng.integers(1_000, 5_000))
        everything = ours(tx, ScanSpec(window=window, max_length=MAX_LENGTH_LIMIT))
        for max_length in (3, 4, 5):
            theirs = snap_histogram(tx, window, max_length, "time", list(range(2, max_length + 2)))
            np.testing.assert_array_equal(theirs[:, :-1], everything[:, :max_length - 1])
            np.testing.assert_array_equal(theirs[:, -1], everything[:, max_length - 1:].sum(axis=1))
            longer_seen += int(theirs[:, -1].sum())
    assert longer_seen > 0


def test_snapml_undercounts_parallel_transactions_minimal_case():
    """A→B twice, then B→A: two round trips, both through the B→A payment; Snap ML credits it with one."""
    tx = Transactions.from_arrays([0, 0, 1], [1, 1, 0], [5.0, 5.0, 5.0], [0, 1, 2])
    truth = cycle_features(brute_force(tx, ScanSpec(window=10, max_length=3)), 3, 3)
    assert truth.tolist() == [[1, 0], [1, 0], [2, 0]]
    for order in ("time", "any"):
        assert ours(tx, ScanSpec(window=10, max_length=3, order=order)).tolist() == truth.tolist()
        assert snap_histogram(tx, 10, 3, order, [2, 3, 4]).tolist() == [[1, 0, 0], [1, 0, 0], [1, 0, 0]]


@pytest.mark.parametrize("order", ["time", "any"])
def test_snapml_never_counts_more_than_the_truth_with_repeated_pairs(order):
    """Repeated sender→receiver pairs: Snap ML's counts are at most the reference search's, per transaction
    and length (a few percent low in total), and it flags the same transactions."""
    truth_total = snap_total = 0
    for seed in range(300, 340):
        rng = np.random.default_rng(seed)
        accounts = int(rng.integers(5, 15))
        n = int(rng.integers(30, 120))
        tied = seed % 2 == 1
        times = rng.integers(0, 100, n) * 30 if tied else rng.choice(3_000, n, replace=False)
        tx = Transactions.from_arrays(rng.integers(0, accounts, n), rng.integers(0, accounts, n), np.ones(n), times)
        window = int(rng.integers(150, 600))
        max_length = int(rng.integers(3, 6))
        spec = ScanSpec(window=window, max_length=max_length, order=order)
        truth = cycle_features(depth_first(tx, spec), n, max_length)
        np.testing.assert_array_equal(ours(tx, spec), truth)
        theirs = snap_histogram(tx, window, max_length, order, list(range(2, max_length + 2)))[:, :-1]
        assert np.all(theirs <= truth), f"seed {seed}: Snap ML counts more than the truth"
        if not tied:
            np.testing.assert_array_equal(theirs > 0, truth > 0, err_msg=f"seed {seed}")
        truth_total += int(truth.sum())
        snap_total += int(theirs.sum())
    assert truth_total > 1_000
    assert 0.5 * truth_total < snap_total < truth_total  # low, but not by much
