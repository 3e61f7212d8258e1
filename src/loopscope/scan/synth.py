"""Labelled synthetic transaction ledgers, to test and benchmark ``loopscope scan`` (``loopscope synth``).

A synthetic ledger is ordinary payments between accounts (the *background*) with a small share of
planted, labelled laundering *patterns*.  The design follows two published generators, simplified:

- **AMLworld** (Altman, Blanuša, von Niederhäusern, Egressy, Anghel & Atasu, "Realistic Synthetic
  Financial Transactions for Anti-Money Laundering Models", NeurIPS 2023 Datasets and Benchmarks):
  its eight laundering typologies (fan-in, fan-out, gather-scatter, scatter-gather, simple cycle,
  random, bipartite, stack), a per-transaction ``is_laundering`` label, a low laundering share
  (about 0.1 % of transactions in its "LI" sets, the default here) and its evaluation, minority-class
  F1 per transaction (``scan.evaluate``).  Patterns are carried out by laundering accounts drawn from
  the population, which also make ordinary payments.
- **AMLSim** (IBM, github.com/IBM/AMLSim): cycles planted either in time order or with all
  transactions inside a window in any order (here ``'cycle'`` and ``'cycle-any-order'``).

Simplified, or not modelled: AMLworld simulates a whole virtual economy (people and companies with
salaries, rent, purchases and loans, banks, currencies, payment formats); here the background is
statistical, with the properties that matter for round-trip search:

- heavy-tailed activity: payers and payees are drawn by rank from truncated power laws (the top 1 %
  of payers send about 16 % of the payments; the top payees, the "merchants", are hubs receiving
  from very many);
- repeated counterparties: every account has 1–8 preferred payees (mostly popular ones) that take
  70 % of its payments, some of them recurring at the same amount, and one account in ten has a payee
  that pays it back (friends and family: legitimate two-hop round trips, so that flagging every round
  trip has false positives, as on real ledgers);
- a daily and weekly rhythm: few payments at night, fewer at weekends (hours are UTC);
- amounts log-normal per payment, scaled per payer, with a bias to round numbers;
- timestamps at whole seconds, so equal timestamps are common;
- no self-transfers, one currency, no banks or payment formats; laundering amounts are not hidden
  among the background amounts (a detector on amounts alone would do better than on real data).

Planted patterns (each pattern's accounts are distinct; its times are whole, distinct seconds within
``cycle_window``, or one second apart when the window is too short for all its transactions):

``cycle``
    ``k`` accounts pay each other round, ``k = 2 … max_cycle_length`` spread evenly, at strictly
    increasing times, each hop passing on 90–99 % of the previous one (so they are round trips for
    ``order="time"`` and any ``amount_ratio <= 0.9``); every seventh spans exactly the window.
``cycle-any-order``
    the same, ``k = 3 … max_cycle_length``, but the times are shuffled so that no rotation is in time
    order (round trips for ``order="any"`` only; a two-hop cycle at distinct times is always in time
    order, hence ``k >= 3``).
``fan-out`` / ``fan-in``
    one account pays 3–8 others / 3–8 accounts pay one.
``scatter-gather``
    a source pays 2–5 intermediaries, which later each pass 90–99 % on to one sink.
``gather-scatter``
    2–4 accounts pay a hub, which then pays 2–4 others.
``bipartite``
    a set of 2–4 accounts pays a set of 2–4 (a random 60 % of the pairs, every account taking part).
``stack``
    two bipartite layers on top of each other (2–3 accounts per layer, all pairs), the second later.
``random``
    a random walk of 2–6 hops through distinct accounts that does not return to its start.

The ledger has exactly the number of transactions asked for: patterns are added in a fixed schedule
(cycles most often) until about ``laundering_share`` of the transactions are planted, the first of
every typology always (so a small ledger may carry a larger share), and the background fills up the
rest.  Everything is drawn from one seed with numpy's PCG64: a seed gives the same ledger and the
same file bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from .spec import MAX_LENGTH_LIMIT, MICROSECONDS, Transactions

TYPOLOGIES = ("cycle", "cycle-any-order", "fan-in", "fan-out", "scatter-gather", "gather-scatter",
              "bipartite", "stack", "random")
"""The planted typologies, in the order of their codes 1 … 9 (0 is a normal transaction)."""

_SCHEDULE = TYPOLOGIES + ("cycle", "cycle", "cycle-any-order")
"""The order patterns are planted in: every typology once, then again, with more cycles."""

SECOND = MICROSECONDS["s"]
DAY = MICROSECONDS["d"]
COLUMNS = ("id", "src", "dst", "amount", "timestamp", "currency", "is_laundering", "typology", "pattern")
CHUNK = 1 << 20
"""Rows per Parquet row group (and per CSV batch) when writing."""

# relative activity per UTC hour 0 … 23: a trough at night, a peak around midday
HOURLY = np.array([0.12, 0.07, 0.05, 0.04, 0.05, 0.10, 0.25, 0.50, 0.80, 1.00, 1.10, 1.15,
                   1.20, 1.15, 1.10, 1.05, 1.05, 1.00, 0.95, 0.85, 0.70, 0.50, 0.35, 0.20])
# relative activity per weekday, Monday … Sunday
WEEKLY = np.array([1.00, 1.00, 1.00, 1.00, 1.10, 0.70, 0.45])

SEND_EXPONENT = 0.60
"""Payers by rank ``r`` (0 = most active) have density ∝ ``r ** -0.6``: the top 1 % send 0.01 ** 0.4 ≈ 16 %."""
RECEIVE_EXPONENT = 0.75
"""Payees: ∝ ``r ** -0.75``, the top 1 % (merchants and other hubs) receive 0.01 ** 0.25 ≈ 32 %."""
PREFERRED_SLOTS = 8
PREFERRED_SHARE = 0.7
RECURRING_SHARE = 0.4
ROUND_SHARE = 0.15
RECIPROCAL_SHARE = 0.1


@dataclass(frozen=True)
class Pattern:
    """One planted laundering pattern."""

    pattern: int
    """Its number (the ``pattern`` column), 0, 1, … in planting order."""
    typology: str
    transactions: tuple[int, ...]
    """Row positions in the ledger (0-based).  Cycles follow the money from their earliest
    transaction, as ``scan`` lists round trips; other typologies are in row order."""
    accounts: tuple[int, ...]
    """The accounts taking part (cycles: in the order the money flows, from the first payer)."""
    span: int
    """Microseconds from its first to its last transaction."""
    length: int | None
    """Hops of a cycle; ``None`` for the other typologies."""

    def to_dict(self) -> dict:
        return {"pattern": self.pattern, "typology": self.typology, "transactions": list(self.transactions),
                "accounts": list(self.accounts), "span": self.span, "length": self.length}


@dataclass(frozen=True, eq=False)
class SynthLedger:
    """A synthetic ledger in time order (row ``i`` is transaction ``i`` of ``transactions()``)."""

    src: np.ndarray
    """int32 account number of the payer."""
    dst: np.ndarray
    """int32 account number of the payee."""
    amount: np.ndarray
    """float64, in ``currency``, whole cents."""
    time: np.ndarray
    """int64 microseconds since 1970-01-01 UTC (whole seconds), non-decreasing."""
    is_laundering: np.ndarray
    """bool: part of a planted pattern."""
    pattern: np.ndarray
    """int32 number of the planted pattern, -1 for normal transactions."""
    currency: str
    patterns: tuple[Pattern, ...]
    accounts: int
    """Accounts in the population, numbered ``0 … accounts - 1`` (some may never transact)."""
    parameters: dict = field(default_factory=dict)
    """The arguments of ``synthesize`` (stored in the written file's metadata)."""

    def __len__(self) -> int:
        return len(self.src)

    @property
    def typology(self) -> np.ndarray:
        """Per transaction, the typology of its pattern, ``''`` for normal ones (an object array of str)."""
        return np.array(("",) + TYPOLOGIES, dtype=object)[self.typology_codes()]

    def typology_codes(self) -> np.ndarray:
        """Per transaction, 0 for normal or ``1 + TYPOLOGIES.index(typology)`` (int8)."""
        lookup = np.zeros(len(self.patterns) + 1, dtype=np.int8)
        lookup[1:] = [TYPOLOGIES.index(p.typology) + 1 for p in self.patterns]
        return lookup[self.pattern + 1]

    @property
    def ids(self) -> np.ndarray:
        """Transaction ids ``t0000001 …`` in row order (fixed width, so they sort as the rows)."""
        return _as_str(_fixed_width(b"t", np.arange(1, len(self) + 1), self._id_width))

    @property
    def _id_width(self) -> int:
        return max(7, len(str(len(self))))

    @property
    def _name_width(self) -> int:
        return max(8, len(str(self.accounts - 1)))

    def account_names(self) -> np.ndarray:
        """Account names ``ACC00000000 …`` by number (fixed width, so sorted names keep the numbering)."""
        return _as_str(_fixed_width(b"ACC", np.arange(self.accounts), self._name_width))

    def transactions(self) -> Transactions:
        """The arrays every engine reads (already in time order: row ``i`` is transaction ``i``)."""
        return Transactions(self.src, self.dst, self.amount, self.time)

    def laundering_accounts(self) -> np.ndarray:
        """Sorted accounts taking part in at least one planted pattern."""
        return np.unique(np.fromiter((a for p in self.patterns for a in p.accounts), dtype=np.int64))

    def write(self, path: Path | str, *, compression: str = "zstd") -> Path:
        """Write the ledger to ``path``: Parquet, or CSV when the name ends in ``.csv``.

        Columns ``id``, ``src``, ``dst`` (account names), ``amount``, ``timestamp`` (Parquet
        ``TIMESTAMP(us, UTC)``; CSV ISO 8601 such as ``2025-09-01T08:15:00Z``), ``currency``,
        ``is_laundering``, ``typology`` (empty for normal transactions) and ``pattern`` (-1 for normal).
        """
        path = Path(path)
        if path.suffix.lower() == ".csv":
            self._write_csv(path)
        else:
            self._write_parquet(path, compression)
        return path

    def prepare(self, folder: Path | str):
        """Write the ledger as a prepared folder (``scan.prepared``), the account names as the loader
        would number them when every account occurs."""
        from .prepared import write_prepared

        return write_prepared(self.transactions(), folder, ids=self.ids, accounts=self.account_names(),
                              currency=self.currency, source=f"synth seed {self.parameters.get('seed')}")

    # writing

    def _batches(self, csv: bool):
        import pyarrow as pa
        import pyarrow.compute as pc

        names = _fixed_width(b"ACC", np.arange(self.accounts), self._name_width)
        typologies = pa.array(("",) + TYPOLOGIES, type=pa.string())
        codes = self.typology_codes()
        currency = self.currency.encode()
        day_strings = None
        if csv and len(self):
            first_day = int(self.time[0] // DAY)
            last_day = int(self.time[-1] // DAY)
            epoch = datetime(1970, 1, 1, tzinfo=UTC)
            day_strings = np.frombuffer(b"".join((epoch + timedelta(days=d)).strftime("%Y-%m-%d").encode()
                                                 for d in range(first_day, last_day + 1)),
                                        dtype=np.uint8).reshape(-1, 10)
        for lo in range(0, max(len(self), 1), CHUNK):
            hi = min(lo + CHUNK, len(self))
            time = self.time[lo:hi]
            if csv:
                stamp = _string_array(_iso_seconds(time // SECOND, day_strings, first_day) if hi > lo
                                      else np.zeros((0, 20), np.uint8))
            else:
                stamp = pa.array(time, type=pa.timestamp("us", tz="UTC"))
            yield pa.record_batch([
                _string_array(_fixed_width(b"t", np.arange(lo + 1, hi + 1), self._id_width)),
                _string_array(names[self.src[lo:hi]]),
                _string_array(names[self.dst[lo:hi]]),
                pa.array(self.amount[lo:hi], type=pa.float64()),
                stamp,
                _string_array(np.frombuffer(currency * (hi - lo), dtype=np.uint8).reshape(hi - lo, len(currency))),
                pa.array(self.is_laundering[lo:hi], type=pa.bool_()),
                pc.take(typologies, pa.array(codes[lo:hi])),
                pa.array(self.pattern[lo:hi], type=pa.int32()),
            ], names=list(COLUMNS))

    def _schema(self, csv: bool):
        import pyarrow as pa

        stamp = pa.string() if csv else pa.timestamp("us", tz="UTC")
        return pa.schema([("id", pa.string()), ("src", pa.string()), ("dst", pa.string()), ("amount", pa.float64()),
                          ("timestamp", stamp), ("currency", pa.string()), ("is_laundering", pa.bool_()),
                          ("typology", pa.string()), ("pattern", pa.int32())],
                         metadata={"loopscope.synth": json.dumps(self.parameters, sort_keys=True)})

    def _write_parquet(self, path: Path, compression: str) -> None:
        import pyarrow.parquet as pq

        schema = self._schema(csv=False)
        with pq.ParquetWriter(path, schema, compression=compression) as writer:
            for batch in self._batches(csv=False):
                writer.write_batch(batch, row_group_size=CHUNK)

    def _write_csv(self, path: Path) -> None:
        import pyarrow.csv as pcsv

        schema = self._schema(csv=True)
        options = pcsv.WriteOptions(include_header=False, quoting_style="none")
        with open(path, "wb") as sink:
            sink.write((",".join(COLUMNS) + "\n").encode())
            with pcsv.CSVWriter(sink, schema, write_options=options) as writer:
                for batch in self._batches(csv=True):
                    writer.write_batch(batch)


# string columns built as fixed-width byte matrices (no Python string per row)

def _fixed_width(prefix: bytes, numbers: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` and ``numbers`` zero-padded to ``width`` digits, as an ``(n, len(prefix) + width)`` uint8 matrix."""
    numbers = np.asarray(numbers, dtype=np.int64)
    out = np.empty((len(numbers), len(prefix) + width), dtype=np.uint8)
    out[:, :len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    rest = numbers.copy()
    for j in range(width - 1, -1, -1):
        out[:, len(prefix) + j] = 48 + rest % 10
        rest //= 10
    return out


def _as_str(chars: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(chars).view(f"S{chars.shape[1]}").ravel().astype(f"U{chars.shape[1]}")


def _string_array(chars: np.ndarray):
    import pyarrow as pa

    chars = np.ascontiguousarray(chars)
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32) if width else np.zeros(n + 1, np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(chars)])


def _iso_seconds(seconds: np.ndarray, day_strings: np.ndarray, first_day: int) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SSZ`` for whole seconds since the epoch, as an ``(n, 20)`` uint8 matrix."""
    out = np.empty((len(seconds), 20), dtype=np.uint8)
    out[:, :10] = day_strings[seconds // 86_400 - first_day]
    of_day = seconds % 86_400
    for at, value in ((11, of_day // 3600), (14, of_day // 60 % 60), (17, of_day % 60)):
        out[:, at] = 48 + value // 10
        out[:, at + 1] = 48 + value % 10
    out[:, 10] = ord("T")
    out[:, 13] = out[:, 16] = ord(":")
    out[:, 19] = ord("Z")
    return out


# drawing

def _power_ranks(rng: np.random.Generator, size: int, n: int, exponent: float) -> np.ndarray:
    """Ranks ``0 … n-1`` drawn with density ∝ ``rank ** -exponent`` (a truncated power law, by inversion)."""
    ranks = (rng.random(size) ** (1.0 / (1.0 - exponent)) * n).astype(np.int64)
    return np.minimum(ranks, n - 1, out=ranks)


def _round_numbers(rng: np.random.Generator, amounts: np.ndarray) -> np.ndarray:
    """Amounts rounded to a round number: 347.12 → 350, 345 or 300 (the unit 10, 5 or 100 times a power of ten)."""
    unit = 10.0 ** np.maximum(np.floor(np.log10(np.maximum(amounts, 1.0))) - 1, 0)
    u = rng.random(len(amounts))
    unit *= np.where(u < 0.5, 1.0, np.where(u < 0.8, 5.0, 10.0))
    return np.maximum(np.round(amounts / unit), 1) * unit


def _cents(amounts: np.ndarray) -> np.ndarray:
    return np.maximum(np.round(amounts, 2), 0.01)


@dataclass
class _Population:
    send_rank: np.ndarray   # rank → account, for payers
    receive_rank: np.ndarray  # rank → account, for payees
    scale: np.ndarray       # per account, a factor on its amounts
    preferred: np.ndarray   # (accounts, PREFERRED_SLOTS) preferred payees
    preferred_count: np.ndarray
    preferred_amount: np.ndarray
    launderers: np.ndarray  # the pool patterns draw their accounts from


def _population(rng: np.random.Generator, n: int, pool_size: int) -> _Population:
    send_rank = rng.permutation(n).astype(np.int32)
    receive_rank = rng.permutation(n).astype(np.int32)
    scale = rng.lognormal(0.0, 0.6, n)
    count = np.minimum(1 + rng.binomial(PREFERRED_SLOTS - 1, 0.3, n), PREFERRED_SLOTS).astype(np.int64)
    preferred = receive_rank[_power_ranks(rng, n * PREFERRED_SLOTS, n, RECEIVE_EXPONENT)].reshape(n, PREFERRED_SLOTS)
    own = np.arange(n, dtype=np.int32)[:, None]
    preferred = np.where(preferred == own, (preferred + 1) % n, preferred).astype(np.int32)
    # friends and family: some accounts' first payee pays them back (its last used slot)
    payers = np.flatnonzero(rng.random(n) < RECIPROCAL_SHARE)
    friends = preferred[payers, 0]
    preferred[friends, count[friends] - 1] = payers
    amount = rng.lognormal(np.log(80.0), 1.0, (n, PREFERRED_SLOTS)) * scale[:, None]
    nice = rng.random((n, PREFERRED_SLOTS)) < 0.5
    amount[nice] = _round_numbers(rng, amount[nice])
    # launderers: not among the top 1 % of payees (merchants rarely launder through their tills)
    ordinary = np.ones(n, dtype=bool)
    ordinary[receive_rank[: max(1, n // 100)]] = False
    ordinary = np.flatnonzero(ordinary) if np.count_nonzero(ordinary) >= pool_size else np.arange(n)
    launderers = np.sort(rng.choice(ordinary, size=min(pool_size, len(ordinary)), replace=False))
    return _Population(send_rank, receive_rank, scale, preferred, count, _cents(amount), launderers)


def _background(rng: np.random.Generator, people: _Population, size: int, begin: int, days: int):
    """``size`` normal payments: (src, dst, amount, time in µs) sorted by time."""
    n = len(people.scale)
    src = people.send_rank[_power_ranks(rng, size, n, SEND_EXPONENT)]
    use_preferred = rng.random(size) < PREFERRED_SHARE
    slot = (people.preferred_count[src] * rng.random(size) ** 2).astype(np.int64)  # the first payees most
    dst = people.preferred[src, slot]
    fresh = np.flatnonzero(~use_preferred)
    dst[fresh] = people.receive_rank[_power_ranks(rng, len(fresh), n, RECEIVE_EXPONENT)]
    np.copyto(dst, ((dst.astype(np.int64) + 1) % n).astype(np.int32), where=dst == src)  # no self-transfers
    amount = rng.lognormal(np.log(40.0), 1.1, size) * people.scale[src]
    rounded = np.flatnonzero(rng.random(size) < ROUND_SHARE)
    amount[rounded] = _round_numbers(rng, amount[rounded])
    amount = _cents(amount)
    recurring = np.flatnonzero(use_preferred & (rng.random(size) < RECURRING_SHARE))
    amount[recurring] = people.preferred_amount[src[recurring], slot[recurring]]
    del slot, use_preferred, fresh, recurring, rounded
    # times: hours weighted by the daily and weekly rhythm, then a uniform second within the hour
    hours = np.arange(days * 24, dtype=np.int64)
    hour_of_day = (begin // MICROSECONDS["h"] + hours) % 24
    weekday = ((begin // DAY + hours // 24) + 3) % 7  # 1970-01-01 was a Thursday
    weight = HOURLY[hour_of_day] * WEEKLY[weekday]
    counts = rng.multinomial(size, weight / weight.sum())
    seconds = np.repeat(hours * 3600, counts) + rng.integers(0, 3600, size)
    seconds.sort()
    return src, dst, amount, begin + seconds * SECOND


class _Planter:
    """Builds planted patterns one by one, in seconds relative to the ledger's start."""

    def __init__(self, rng: np.random.Generator, pool: np.ndarray, window_s: int, total_s: int, max_cycle: int):
        self.rng, self.pool, self.window_s, self.total_s, self.max_cycle = rng, pool, window_s, total_s, max_cycle
        self.counts = dict.fromkeys(TYPOLOGIES, 0)

    # helpers

    def accounts(self, k: int) -> np.ndarray:
        return self.rng.choice(self.pool, size=k, replace=False).astype(np.int32)

    def size(self, lo: int, hi: int) -> int:
        return int(self.rng.integers(lo, hi + 1))

    def span(self, k: int, exact: bool = False) -> int:
        """Seconds from a pattern's first to its last of ``k`` transactions: log-uniform from an hour per
        hop up to the window, or the whole window."""
        top = max(min(self.window_s, self.total_s), k - 1)
        if exact:
            return top
        low = min(top, max(k - 1, 3600 * (k - 1)))
        drawn = round(float(np.exp(self.rng.uniform(np.log(max(low, 1)), np.log(max(top, 1))))))
        return min(max(drawn, low), top)

    def offsets(self, k: int, span: int) -> np.ndarray:
        """``k`` distinct sorted seconds in ``[0, span]``, the first 0 and the last ``span``."""
        if k == 1:
            return np.zeros(1, dtype=np.int64)
        inner = np.sort(self.rng.choice(span - 1, size=k - 2, replace=False) + 1) if k > 2 else np.zeros(0, np.int64)
        return np.concatenate([[0], inner, [span]]).astype(np.int64)

    def start_amount(self) -> float:
        return float(_cents(self.rng.lognormal(np.log(9000.0), 0.7, 1))[0])

    def pass_on(self, first: float, k: int) -> np.ndarray:
        """``first`` and ``k - 1`` more, each 90–99 % of the one before (rounded up to whole cents)."""
        amounts = np.empty(k)
        amounts[0] = first
        for i, ratio in enumerate(self.rng.uniform(0.90, 0.99, k - 1), start=1):
            amounts[i] = np.ceil(amounts[i - 1] * ratio * 100) / 100
        return amounts

    def split(self, total: float, k: int) -> np.ndarray:
        return _cents(total * self.rng.dirichlet(np.full(k, 2.0)))

    # typologies: each returns src, dst, amount, seconds (from 0), accounts, length

    def cycle(self, any_order: bool):
        typ = "cycle-any-order" if any_order else "cycle"
        count = self.counts[typ]
        lo = 3 if any_order else 2
        k = lo + count % (self.max_cycle - lo + 1)
        acc = self.accounts(k)
        seconds = self.offsets(k, self.span(k, exact=count % 7 == 3))
        if any_order:  # shuffle until no rotation is in time order (two or more cyclic descents)
            while True:
                shuffled = seconds[self.rng.permutation(k)]
                if int(np.sum(np.roll(shuffled, -1) < shuffled)) >= 2:
                    seconds = shuffled
                    break
        return acc, np.roll(acc, -1), self.pass_on(self.start_amount(), k), seconds, acc, k

    def fan(self, out: bool):
        k = self.size(3, 8)
        acc = self.accounts(k + 1)
        hub, others = np.full(k, acc[0]), acc[1:]
        amount = self.split(self.start_amount() * k / 2, k)
        seconds = self.offsets(k, self.span(k))
        return (hub, others, amount, seconds, acc, None) if out else (others, hub, amount, seconds, acc, None)

    def scatter_gather(self):
        k = self.size(2, 5)
        acc = self.accounts(k + 2)
        source, middle, sink = acc[0], acc[1:-1], acc[-1]
        scatter = self.split(self.start_amount() * k / 2, k)
        gather = np.ceil(scatter * self.rng.uniform(0.90, 0.99, k) * 100) / 100
        seconds = self.offsets(2 * k, self.span(2 * k))
        order = self.rng.permutation(k)  # the intermediaries receive in random order, all before passing on
        return (np.concatenate([np.full(k, source), middle]), np.concatenate([middle, np.full(k, sink)]),
                np.concatenate([scatter, gather]), np.concatenate([seconds[:k][order], seconds[k:]]), acc, None)

    def gather_scatter(self):
        k, m = self.size(2, 4), self.size(2, 4)
        acc = self.accounts(k + m + 1)
        sources, hub, targets = acc[:k], acc[k], acc[k + 1:]
        gather = self.split(self.start_amount() * k / 2, k)
        scatter = self.split(gather.sum() * self.rng.uniform(0.90, 0.99), m)
        seconds = self.offsets(k + m, self.span(k + m))
        return (np.concatenate([sources, np.full(m, hub)]), np.concatenate([np.full(k, hub), targets]),
                np.concatenate([gather, scatter]), seconds, acc, None)

    def bipartite(self):
        a, b = self.size(2, 4), self.size(2, 4)
        acc = self.accounts(a + b)
        pairs = self.rng.random((a, b)) < 0.6
        pairs[np.arange(a), self.rng.integers(0, b, a)] = True  # every payer pays someone
        for j in np.flatnonzero(~pairs.any(axis=0)):  # every payee is paid
            pairs[self.rng.integers(0, a), j] = True
        rows, cols = np.nonzero(pairs)
        e = len(rows)
        seconds = self.offsets(e, self.span(e))[self.rng.permutation(e)]
        amount = _cents(self.rng.lognormal(np.log(4000.0), 0.6, e))
        return acc[rows], acc[a + cols], amount, seconds, acc, None

    def stack(self):
        sizes = [self.size(2, 3) for _ in range(3)]
        acc = self.accounts(sum(sizes))
        first, middle, last = acc[:sizes[0]], acc[sizes[0]:sizes[0] + sizes[1]], acc[sizes[0] + sizes[1]:]
        up_src, up_dst = np.repeat(first, len(middle)), np.tile(middle, len(first))
        up = self.split(self.start_amount() * len(first), len(up_src))
        received = np.array([up[up_dst == m].sum() for m in middle])
        down_src, down_dst = np.repeat(middle, len(last)), np.tile(last, len(middle))
        down = np.concatenate([self.split(r * self.rng.uniform(0.90, 0.99), len(last)) for r in received])
        e1, e2 = len(up_src), len(down_src)
        seconds = self.offsets(e1 + e2, self.span(e1 + e2))
        seconds = np.concatenate([seconds[:e1][self.rng.permutation(e1)], seconds[e1:][self.rng.permutation(e2)]])
        return (np.concatenate([up_src, down_src]), np.concatenate([up_dst, down_dst]),
                np.concatenate([up, down]), seconds, acc, None)

    def random_walk(self):
        hops = self.size(2, 6)
        acc = self.accounts(hops + 1)  # distinct accounts: the walk never returns to its start
        return (acc[:-1], acc[1:], self.pass_on(self.start_amount(), hops), self.offsets(hops, self.span(hops)),
                acc, None)

    def build(self, typology: str):
        if typology in ("cycle", "cycle-any-order"):
            out = self.cycle(typology == "cycle-any-order")
        elif typology in ("fan-in", "fan-out"):
            out = self.fan(typology == "fan-out")
        else:
            out = {"scatter-gather": self.scatter_gather, "gather-scatter": self.gather_scatter,
                   "bipartite": self.bipartite, "stack": self.stack, "random": self.random_walk}[typology]()
        self.counts[typology] += 1
        src, dst, amount, seconds, acc, length = out
        # place it: a uniform start such that it ends within the ledger's time range
        begin = int(self.rng.integers(0, max(self.total_s - int(seconds.max()), 0) + 1))
        return (np.asarray(src, np.int32), np.asarray(dst, np.int32), np.asarray(amount, np.float64),
                begin + np.asarray(seconds, np.int64), tuple(int(a) for a in acc), length)


def _parse_start(start: str) -> int:
    """Microseconds since the epoch of ``start``, a date or date and time, read as UTC."""
    text = start.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"start {start!r} is not a date such as 2025-09-01") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if moment.microsecond:
        raise ValueError(f"start {start!r} must be a whole second")
    return (moment - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def synthesize(accounts: int, transactions: int, seed: int, *, days: int = 30, start: str = "2025-09-01",
               laundering_share: float = 0.001, currency: str = "USD", cycle_window: int = 7 * DAY,
               max_cycle_length: int = 6) -> SynthLedger:
    """A synthetic ledger of exactly ``transactions`` payments between ``accounts`` accounts over
    ``days`` days from ``start`` (UTC), about ``laundering_share`` of them planted laundering patterns
    (see the module docstring).  ``cycle_window`` (µs) bounds every pattern's span.

    >>> ledger = synthesize(200, 2_000, seed=1, laundering_share=0.02)
    >>> len(ledger), sorted({p.typology for p in ledger.patterns}) == sorted(TYPOLOGIES)
    (2000, True)
    >>> bool((ledger.src != ledger.dst).all() and (ledger.is_laundering == (ledger.pattern >= 0)).all())
    True
    """
    accounts, transactions, days = int(accounts), int(transactions), int(days)
    if not 2 <= accounts <= np.iinfo(np.int32).max:
        raise ValueError(f"accounts must be between 2 and {np.iinfo(np.int32).max}, not {accounts}")
    if transactions < 0:
        raise ValueError(f"transactions must not be negative, not {transactions}")
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    if not 0.0 <= laundering_share <= 0.5:
        raise ValueError(f"laundering_share must be between 0 and 0.5, not {laundering_share}")
    if not 2 <= max_cycle_length <= MAX_LENGTH_LIMIT:
        raise ValueError(f"max_cycle_length must be between 2 and {MAX_LENGTH_LIMIT}, not {max_cycle_length}")
    if not currency or not all(c.isalnum() and c.isascii() for c in currency):
        raise ValueError(f"currency must be a code of ASCII letters and digits such as USD, not {currency!r}")
    window_s = int(cycle_window) // SECOND
    if window_s < max_cycle_length - 1:
        raise ValueError(f"cycle_window must hold {max_cycle_length} distinct seconds, not {cycle_window} µs")
    planting = laundering_share > 0 and transactions > 0
    if planting and accounts < max(16, max_cycle_length):
        raise ValueError(f"planting patterns needs at least {max(16, max_cycle_length)} accounts, not {accounts}")
    begin = _parse_start(start)
    parameters = {"accounts": accounts, "transactions": transactions, "seed": int(seed), "days": days, "start": start,
                  "laundering_share": float(laundering_share), "currency": currency, "cycle_window": int(cycle_window),
                  "max_cycle_length": int(max_cycle_length)}

    population_seq, background_seq, pattern_seq = np.random.SeedSequence(int(seed)).spawn(3)
    pool_size = min(accounts, max(64, accounts // 200))
    people = _population(np.random.default_rng(population_seq), accounts, pool_size)

    # planted patterns (the first of every typology always, then up to the target share)
    total_s = days * 86_400 - 1
    planter = _Planter(np.random.default_rng(pattern_seq), people.launderers, window_s, total_s, max_cycle_length)
    target = round(laundering_share * transactions)
    raw, planted = [], 0
    while planting:
        typology = _SCHEDULE[len(raw) % len(_SCHEDULE)]
        if typology == "cycle-any-order" and max_cycle_length < 3:
            planter.counts[typology] += 1  # no any-order cycle exists below three hops: skip its turn
            raw.append(None)
            continue
        piece = planter.build(typology)
        size = len(piece[0])
        if planted + size > transactions or (len(raw) >= len(TYPOLOGIES) and planted + size > target):
            break
        raw.append((typology, piece))
        planted += size
    raw = [r for r in raw if r is not None]

    src, dst, amount, time = _background(np.random.default_rng(background_seq), people, transactions - planted,
                                         begin, days)
    if not raw:
        return SynthLedger(src, dst, amount, time, np.zeros(len(src), bool), np.full(len(src), -1, np.int32),
                           currency, (), accounts, parameters)

    # merge the planted transactions into the time-sorted background (after background ones at equal times)
    p_src = np.concatenate([p[0] for _, p in raw])
    p_dst = np.concatenate([p[1] for _, p in raw])
    p_amount = np.concatenate([p[2] for _, p in raw])
    p_time = begin + np.concatenate([p[3] for _, p in raw]) * SECOND
    p_pattern = np.repeat(np.arange(len(raw), dtype=np.int32), [len(p[0]) for _, p in raw])
    order = np.argsort(p_time, kind="stable")
    position = np.searchsorted(time, p_time[order], side="right") + np.arange(planted)
    planted_mask = np.zeros(transactions, dtype=bool)
    planted_mask[position] = True
    columns = []
    for background, extra, dtype in ((src, p_src, np.int32), (dst, p_dst, np.int32),
                                     (amount, p_amount, np.float64), (time, p_time, np.int64)):
        out = np.empty(transactions, dtype=dtype)
        out[~planted_mask] = background
        out[position] = extra[order]
        columns.append(out)
        del background
    src, dst, amount, time = columns
    pattern = np.full(transactions, -1, dtype=np.int32)
    pattern[position] = p_pattern[order]

    row_of = np.empty(planted, dtype=np.int64)
    row_of[order] = position
    patterns, at = [], 0
    for number, (typology, (s, _, _, seconds, acc, length)) in enumerate(raw):
        rows = row_of[at:at + len(s)]
        at += len(s)
        if length is None:
            listed = tuple(int(r) for r in np.sort(rows))
        else:  # follow the money from the earliest transaction, as round trips are listed
            listed = tuple(int(r) for r in np.roll(rows, -int(np.argmin(rows))))
        patterns.append(Pattern(number, typology, listed, acc, int(seconds.max() - seconds.min()) * SECOND, length))
    return SynthLedger(src, dst, amount, time, planted_mask, pattern, currency, tuple(patterns), accounts, parameters)
