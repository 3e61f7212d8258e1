"""How well round trips single out laundering in a labelled ledger (``scan.synth``, or AMLworld's).

Two measures, both pure functions of a scan's output and the labels:

``label_scores``
    the rule "a transaction is flagged when it lies on at least one round trip", scored per
    transaction against ``is_laundering`` as AMLworld does (Altman et al., NeurIPS 2023): precision,
    recall and F1 of the minority (laundering) class, with the recall of each typology.  Round trips
    only catch the circular typologies; the per-typology recall shows which ones.
``planted_cycle_recovery``
    whether every planted cycle that the scan's question admits was found exactly: its transaction set
    equals that of a round trip found.  A planted cycle is *admitted* when it is a round trip under
    ``ScanSpec`` (``scan.spec``): at most ``max_length`` hops, within ``window``, amounts at least
    ``min_amount`` and, with ``amount_ratio``, each hop at least that share of the one before, and in
    strictly increasing time for ``order="time"`` (the ``'cycle'`` patterns) or in any order for
    ``order="any"`` (``'cycle'`` and ``'cycle-any-order'``).  An exact engine finds all of them.

Ratios with nothing to divide by are 0 (as scikit-learn's ``zero_division=0``), except the recovery
of no admitted cycles, which is 1 (nothing was missed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .spec import Cycles, ScanSpec
from .synth import TYPOLOGIES, SynthLedger

CYCLE_TYPOLOGIES = ("cycle", "cycle-any-order")


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


@dataclass(frozen=True)
class TypologyRecall:
    """The laundering transactions of one typology and how many of them were flagged."""

    typology: str
    transactions: int
    flagged: int

    @property
    def recall(self) -> float:
        return _ratio(self.flagged, self.transactions)

    def to_dict(self) -> dict:
        return {"typology": self.typology, "transactions": self.transactions, "flagged": self.flagged,
                "recall": self.recall}


@dataclass(frozen=True)
class LabelScores:
    """Per-transaction scores of "flagged when on a round trip" against the laundering labels."""

    transactions: int
    flagged: int
    laundering: int
    tp: int
    """Laundering transactions flagged."""
    fp: int
    """Normal transactions flagged."""
    fn: int
    """Laundering transactions not flagged."""
    by_typology: tuple[TypologyRecall, ...]
    """Known typologies in ``synth.TYPOLOGIES`` order, then any others alphabetically."""

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        """Minority-class F1, ``2 tp / (2 tp + fp + fn)`` (the harmonic mean of precision and recall)."""
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    def recall_of(self, typology: str) -> float:
        for entry in self.by_typology:
            if entry.typology == typology:
                return entry.recall
        raise KeyError(typology)

    def to_dict(self) -> dict:
        return {"transactions": self.transactions, "flagged": self.flagged, "laundering": self.laundering,
                "tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": self.precision, "recall": self.recall,
                "f1": self.f1, "by_typology": [t.to_dict() for t in self.by_typology]}


def label_scores(features: np.ndarray, is_laundering: np.ndarray, typology: np.ndarray) -> LabelScores:
    """Score the rule "flagged when on at least one round trip" per transaction.

    ``features`` are per-transaction round-trip counts (``spec.cycle_features``: ``n × (max_length - 1)``,
    or one count per transaction); ``is_laundering`` the labels; ``typology`` per transaction the
    typology of laundering ones (other entries are ignored).

    >>> features = np.array([[1, 0], [0, 0], [0, 2], [0, 0]])
    >>> s = label_scores(features, np.array([True, True, False, False]), np.array(["cycle", "fan-in", "", ""]))
    >>> (s.tp, s.fp, s.fn, s.precision, s.recall, s.f1)
    (1, 1, 1, 0.5, 0.5, 0.5)
    >>> [(t.typology, t.recall) for t in s.by_typology]
    [('cycle', 1.0), ('fan-in', 0.0)]
    """
    features = np.asarray(features)
    labels = np.asarray(is_laundering, dtype=bool)
    typology = np.asarray(typology)
    n = len(labels)
    if features.shape[0] != n or len(typology) != n:
        raise ValueError(f"features ({features.shape[0]} rows), labels ({n}) and typologies ({len(typology)}) "
                         "must describe the same transactions")
    flagged = (features.reshape(n, -1) > 0).any(axis=1) if n else np.zeros(0, dtype=bool)
    tp = int(np.count_nonzero(flagged & labels))
    fp = int(np.count_nonzero(flagged & ~labels))
    fn = int(np.count_nonzero(~flagged & labels))
    names = typology[labels].astype(str)
    hits = flagged[labels]
    present, inverse = np.unique(names, return_inverse=True)
    totals = np.bincount(inverse, minlength=len(present))
    caught = np.bincount(inverse, weights=hits, minlength=len(present)).astype(np.int64)
    rank = {t: i for i, t in enumerate(TYPOLOGIES)}
    entries = sorted((TypologyRecall(str(t), int(totals[i]), int(caught[i])) for i, t in enumerate(present)),
                     key=lambda e: (rank.get(e.typology, len(rank)), e.typology))
    return LabelScores(n, int(np.count_nonzero(flagged)), int(np.count_nonzero(labels)), tp, fp, fn, tuple(entries))


@dataclass(frozen=True)
class Recovery:
    """Which admitted planted cycles a scan found exactly (see the module docstring)."""

    expected: int
    """Planted cycles the scan's question admits."""
    found: int
    missed: tuple[int, ...]
    """Pattern numbers of admitted cycles not found."""
    excluded: tuple[int, ...]
    """Pattern numbers of planted cycles the question does not admit (too long, too slow, out of order …)."""
    by_length: tuple[tuple[int, int, int], ...]
    """``(length, expected, found)`` per cycle length."""
    by_typology: tuple[tuple[str, int, int], ...]
    """``(typology, expected, found)`` for ``'cycle'`` and ``'cycle-any-order'``."""

    @property
    def recall(self) -> float:
        """Share of the admitted cycles found (1.0 when none is admitted: nothing was missed)."""
        return self.found / self.expected if self.expected else 1.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["missed"], out["excluded"] = list(self.missed), list(self.excluded)
        out["by_length"] = [{"length": k, "expected": e, "found": f} for k, e, f in self.by_length]
        out["by_typology"] = [{"typology": t, "expected": e, "found": f} for t, e, f in self.by_typology]
        out["recall"] = self.recall
        return out


def _admitted(ledger: SynthLedger, rows: tuple[int, ...], spec: ScanSpec) -> bool:
    """Whether the cycle ``rows`` (following the money) is a round trip under ``spec``."""
    if not 2 <= len(rows) <= spec.max_length:
        return False
    index = np.asarray(rows, dtype=np.int64)
    src, dst = ledger.src[index], ledger.dst[index]
    if np.any(dst != np.roll(src, -1)) or len(np.unique(src)) != len(rows):
        return False
    times, amounts = ledger.time[index], ledger.amount[index]
    if int(times.max() - times.min()) > spec.window or np.any(amounts < spec.min_amount):
        return False
    if spec.order == "time":
        first = int(np.argmin(times))  # listed from the first transaction, following the money
        times, amounts = np.roll(times, -first), np.roll(amounts, -first)
        if np.any(np.diff(times) <= 0):
            return False
        if spec.amount_ratio is not None and np.any(amounts[1:] < spec.amount_ratio * amounts[:-1]):
            return False
    return True


def planted_cycle_recovery(cycles: Cycles, ledger: SynthLedger, spec: ScanSpec) -> Recovery:
    """Which planted cycles admitted by ``spec`` are among ``cycles`` (numbered as the ledger's rows).

    >>> from loopscope.scan.synth import synthesize
    >>> from loopscope.scan.reference import depth_first
    >>> ledger = synthesize(100, 400, seed=2, laundering_share=0.1)
    >>> spec = ScanSpec(max_length=4)
    >>> r = planted_cycle_recovery(depth_first(ledger.transactions(), spec), ledger, spec)
    >>> r.recall, r.missed
    (1.0, ())
    >>> planted_cycle_recovery(Cycles.concatenate([]), ledger, spec).found
    0
    """
    admitted, excluded = [], []
    for p in ledger.patterns:
        if p.typology in CYCLE_TYPOLOGIES:
            (admitted if _admitted(ledger, p.transactions, spec) else excluded).append(p)
    # candidate round trips: those through the earliest transaction of an admitted cycle
    wanted = {min(p.transactions): [] for p in admitted}
    if admitted and len(cycles):
        starts = np.fromiter(wanted, dtype=np.int64, count=len(wanted))
        hits = np.flatnonzero(np.isin(cycles.edges, starts))
        owners = np.searchsorted(cycles.offsets, hits, side="right") - 1
        for hit, owner in zip(hits.tolist(), owners.tolist()):
            wanted[int(cycles.edges[hit])].append(owner)
    found, missed = set(), []
    for p in admitted:
        members = sorted(p.transactions)
        if any(sorted(cycles.edges[cycles.offsets[j]:cycles.offsets[j + 1]].tolist()) == members
               for j in wanted[members[0]]):
            found.add(p.pattern)
        else:
            missed.append(p.pattern)
    lengths = sorted({len(p.transactions) for p in admitted})
    by_length = tuple((k, sum(len(p.transactions) == k for p in admitted),
                       sum(len(p.transactions) == k and p.pattern in found for p in admitted)) for k in lengths)
    by_typology = tuple((t, sum(p.typology == t for p in admitted),
                         sum(p.typology == t and p.pattern in found for p in admitted)) for t in CYCLE_TYPOLOGIES)
    return Recovery(len(admitted), len(found), tuple(missed), tuple(p.pattern for p in excluded),
                    by_length, by_typology)
