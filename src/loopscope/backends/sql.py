"""The round-trip search written once as SQL (DuckDB's dialect), staged, for the DuckDB and Spark engines.

``scan_plan`` turns a ``ScanSpec`` and a chunk of start transactions into a list of ``Stage`` statements
(each a plain ``SELECT``, materialised by the engine as a temporary table or view under the stage's
name) and a final ``SELECT`` of the round trips in canonical order.  The DuckDB engine runs the
statements as written; the Spark engine runs ``to_spark(statement)`` (sqlglot's translation) — there
is no second search.

Method (meet in the middle, with time buckets)
----------------------------------------------
*Edges* are the transactions of the slice a chunk needs — ``idx >= lo`` and ``ts <= ts[hi-1] + window``
— that can take part at all (``src <> dst``, ``amount >= min_amount``), each with a *bucket*
``(ts - ts[lo]) // window``: a transaction within the window after another is in the same bucket or
the next, so "the next hop leaves from this account, within the window" becomes an equi-join on
(account, bucket) instead of a join on the account alone, which hub accounts blow up.  The *keyed*
edges list each edge once per bucket it can follow from (``kb = b - o``).

A *path* of ``j`` hops (``path{j}``) is a simple path (its ``j + 1`` accounts distinct) that could be
part of a round trip: with ``order="time"``, strictly increasing times within the window of its
first hop (and each hop ``>= amount_ratio`` × the previous); with ``order="any"``, all hops within
one window of each other.  Paths grow one hop per stage.  The *forward* paths ``fwd{j}`` are those
whose first transaction is one of the chunk's starts (with ``order="any"``: whose other transactions
all come later in ``idx``, within the window of the first; with ``order="time"`` they are simply
``path{j}`` from the chunk's starts).

A round trip of ``k`` hops is a forward path of ``a = min(k - 1, ceil(max_length / 2))`` hops followed
by a path of ``b = k - a`` hops from where it ends back to where it began (``splits``), joined on both
accounts (junction, home), with the time (and amount ratio) condition at the junction and the two
halves' inner accounts distinct.  Each round trip splits so in exactly one way, so it is found exactly
once, and no path longer than half a round trip is ever built.  The longest forward paths (the
closing join's build side, which grows with the chunk, not the slice) are kept only if their home
account receives something in time to close them (``inbox``, per account and bucket); the longest
second halves are streamed, never stored, and only those ending at a home of the chunk in time
(``homes``).  An engine can ask for ``estimate`` first and split a chunk whose build side would not
fit in memory: the parts' results concatenate to the chunk's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loopscope.scan.spec import Cycles, ScanSpec

COLUMN = "c"
"""The result's columns are ``c1 … c{max_length}``: the round trip's transactions, NULL-padded."""


@dataclass(frozen=True)
class Stage:
    """One step of the search: ``sql`` (a ``SELECT``) kept under ``name`` as a table or a view."""

    name: str
    sql: str
    materialise: bool


@dataclass(frozen=True)
class ScanPlan:
    stages: tuple[Stage, ...]
    result: str
    """``SELECT c1 … cK`` of every round trip, in canonical order (shorter first on a common prefix)."""
    max_length: int
    build: str
    """The longest forward halves (a ``SELECT``, part of ``result``): what the closing join holds in
    memory (its build side), the rows that grow with the chunk."""
    estimate: str
    """A quick estimate of the number of rows of ``build`` (one row, one column): half the number of
    hops that leave the end of a next-to-longest forward half within the bucket pair."""

    def names(self) -> list[str]:
        return [s.name for s in self.stages]


def _double(value: float) -> str:
    """A float64 literal that both dialects read back exactly (a plain ``0.9`` would be a DECIMAL)."""
    text = repr(float(value))
    return f"CAST({text} AS DOUBLE)"


def chunk_times(prepared, lo: int, hi: int) -> tuple[int, int]:
    """The times of transactions ``lo`` and ``hi - 1`` of a prepared ledger (``lo < hi``), read from the
    Parquet file (only the row groups that hold them): the chunk's first start and last start."""
    import pyarrow.parquet as pq

    file = pq.ParquetFile(prepared.transactions_path)
    found = {}
    start = 0
    for g in range(file.num_row_groups):
        size = file.metadata.row_group(g).num_rows
        wanted = [i for i in (lo, hi - 1) if start <= i < start + size and i not in found]
        if wanted:
            ts = file.read_row_group(g, columns=["ts"]).column("ts").to_numpy()
            for i in wanted:
                found[i] = int(ts[i - start])
        start += size
        if len(found) == len({lo, hi - 1}):
            break
    return found[lo], found[hi - 1]


def _cols(alias: str, stem: str, j: int, start: int = 1, rename: str | None = None, shift: int = 0) -> list[str]:
    out = []
    for i in range(start, j + 1):
        expr = f"{alias}.{stem}{i}"
        if rename is not None:
            expr += f" AS {rename}{i + shift}"
        out.append(expr)
    return out


def splits(max_length: int) -> dict[int, tuple[int, int]]:
    """How a round trip of ``k`` hops splits: a forward half of ``a`` hops, then ``b`` back home.

    Forward halves are anchored at the chunk's starts (bounded by the chunk); the second halves run
    over the whole slice, so they are kept short: ``a = min(k - 1, ceil(max_length / 2))``.  Each
    length of second half above 1 is used once, by ``k = a + b``.

    >>> splits(6)
    {2: (1, 1), 3: (2, 1), 4: (3, 1), 5: (3, 2), 6: (3, 3)}
    """
    top = max_length - max_length // 2
    return {k: (min(k - 1, top), k - min(k - 1, top)) for k in range(2, max_length + 1)}


def scan_plan(spec: ScanSpec, *, source: str, lo: int, hi: int | None, ts_base: int, ts_bound: int | None,
              prefix: str = "ls_") -> ScanPlan:
    """The statements that find every round trip whose first transaction is ``lo <= idx < hi``.

    ``source`` names a table or view with the prepared ledger's columns (``idx, src, dst, amount, ts``);
    ``ts_base`` is the time of transaction ``lo`` (buckets count from it), ``ts_bound`` the time of
    transaction ``hi - 1`` plus the window (the last time a round trip from the chunk can reach), or
    ``None`` with ``hi=None`` for the whole ledger.  Stage names start with ``prefix``.

    >>> plan = scan_plan(ScanSpec(window=100, max_length=6), source="t", lo=0, hi=None, ts_base=0, ts_bound=None)
    >>> [(s.name, s.materialise) for s in plan.stages]  # doctest: +NORMALIZE_WHITESPACE
    [('ls_edges', True), ('ls_keyed', True), ('ls_path1', False), ('ls_fwd1', False), ('ls_homes', True),
     ('ls_inbox', True), ('ls_path2', True), ('ls_fwd2', False)]
    """
    k_max = spec.max_length
    w = int(spec.window)
    width = max(w, 1)
    ratio = spec.amount_ratio
    any_order = spec.order == "any"
    split = splits(k_max)
    top_forward = max(a for a, _ in split.values())
    top_back = max(b for _, b in split.values())
    def n(stem: str) -> str:
        return f"{prefix}{stem}"

    stages: list[Stage] = []

    # -- the slice: transactions that can take part in a round trip from the chunk
    where = [f"idx >= {int(lo)}", "src <> dst"]
    if ts_bound is not None:
        where.append(f"ts <= {int(ts_bound)}")
    if spec.min_amount > 0:
        where.append(f"amount >= {_double(spec.min_amount)}")
    stages.append(Stage(n("edges"), (
        f"SELECT idx, src, dst, amount, ts, (ts - {int(ts_base)}) // {width} AS b "
        f"FROM {source} WHERE {' AND '.join(where)}"), True))
    # -- each edge under every bucket it can follow from: kb = b - o
    offsets = "(-1), (0), (1)" if any_order else "(0), (1)"
    stages.append(Stage(n("keyed"), (
        f"SELECT e.idx, e.src, e.dst, e.amount, e.ts, e.b - o.o AS kb, o.o AS o "
        f"FROM {n('edges')} AS e CROSS JOIN (VALUES {offsets}) AS o(o)"), True))
    chunk = "" if hi is None else f" WHERE i1 < {int(hi)}"

    def extend_time(base: str, j: int, keyed: str = n("keyed"), extra: tuple = ()) -> str:
        """Paths of ``j + 1`` hops, time order: i1.., s1.., d, t1, tl, b1, a1, al."""
        conditions = ["e.ts > p.tl", f"e.ts <= p.t1 + {w}", *extra]
        conditions += [f"e.dst <> p.s{i}" for i in range(1, j + 1)]
        if ratio is not None:
            conditions.append(f"e.amount >= {_double(ratio)} * p.al")
        select = ", ".join(
            _cols("p", "i", j) + [f"e.idx AS i{j + 1}"] + _cols("p", "s", j)
            + [f"e.src AS s{j + 1}", "e.dst AS d", "p.t1", "e.ts AS tl", "p.b1", "p.a1", "e.amount AS al"])
        return (f"SELECT {select} FROM {base} AS p JOIN {keyed} AS e ON e.src = p.d AND e.kb = p.b1 "
                f"WHERE {' AND '.join(conditions)}")

    def extend_any(base: str, j: int, keyed: str = n("keyed"), extra: tuple = ()) -> str:
        """Paths of ``j + 1`` hops, any order, all within one window: i1.., s1.., d, tmin, tmax, imin, bm."""
        conditions = [f"e.ts >= p.tmax - {w}", f"e.ts <= p.tmin + {w}", *extra]
        conditions += [f"e.dst <> p.s{i}" for i in range(1, j + 1)]
        select = ", ".join(
            _cols("p", "i", j) + [f"e.idx AS i{j + 1}"] + _cols("p", "s", j)
            + [f"e.src AS s{j + 1}", "e.dst AS d", "LEAST(p.tmin, e.ts) AS tmin", "GREATEST(p.tmax, e.ts) AS tmax",
               "LEAST(p.imin, e.idx) AS imin", "p.bm"])
        return (f"SELECT {select} FROM {base} AS p JOIN {keyed} AS e ON e.src = p.d AND e.kb = p.bm "
                f"WHERE {' AND '.join(conditions)}")

    def extend_forward_any(base: str, j: int) -> str:
        """Forward paths, any order: the first hop is the earliest in idx, the others within its window."""
        conditions = ["e.o >= 0", "e.idx > p.i1", f"e.ts <= p.t1 + {w}"]
        conditions += [f"e.dst <> p.s{i}" for i in range(1, j + 1)]
        select = ", ".join(
            _cols("p", "i", j) + [f"e.idx AS i{j + 1}"] + _cols("p", "s", j)
            + [f"e.src AS s{j + 1}", "e.dst AS d", "p.t1", "p.b1"])
        return (f"SELECT {select} FROM {base} AS p JOIN {n('keyed')} AS e ON e.src = p.d AND e.kb = p.b1 "
                f"WHERE {' AND '.join(conditions)}")

    extend = extend_any if any_order else extend_time
    if any_order:
        stages.append(Stage(n("path1"), (
            "SELECT idx AS i1, src AS s1, dst AS d, ts AS tmin, ts AS tmax, idx AS imin, b AS bm "
            f"FROM {n('edges')}"), False))
        stages.append(Stage(n("fwd1"), (
            f"SELECT idx AS i1, src AS s1, dst AS d, ts AS t1, b AS b1 FROM {n('edges')}"
            f"{'' if hi is None else f' WHERE idx < {int(hi)}'}"), False))
    else:
        stages.append(Stage(n("path1"), (
            "SELECT idx AS i1, src AS s1, dst AS d, ts AS t1, ts AS tl, b AS b1, amount AS a1, amount AS al "
            f"FROM {n('edges')}"), False))
        stages.append(Stage(n("fwd1"), f"SELECT * FROM {n('path1')}{chunk}", False))
    # the chunk's home accounts, with the span of their starts: the second halves must end there
    stages.append(Stage(n("homes"), (
        f"SELECT s1 AS h, MIN(i1) AS i0, MIN(t1) AS t0, MAX(t1) AS t9 FROM {n('fwd1')} GROUP BY s1"), True))
    # when each account receives, per bucket: a forward half is only worth keeping if its home does
    stages.append(Stage(n("inbox"), (
        f"SELECT dst AS h, b, MIN(ts) AS tmin, MAX(ts) AS tmax FROM {n('edges')} GROUP BY dst, b"), True))
    # second halves over the whole slice (the longest, used once, is computed inside the result)
    for j in range(2, top_back):
        stages.append(Stage(n(f"path{j}"), extend(n(f"path{j - 1}"), j - 1), True))
        if not any_order and j < top_forward:
            stages.append(Stage(n(f"fwd{j}"), f"SELECT * FROM {n(f'path{j}')}{chunk}", False))
    # forward halves from the chunk's starts (the longest is computed inside the result)
    first_forward = 2 if any_order else max(top_back, 2)
    forward_sql = {}
    for j in range(first_forward, top_forward + 1):
        base = n(f"fwd{j - 1}")
        forward_sql[j] = extend_forward_any(base, j - 1) if any_order else extend_time(base, j - 1)
        if j < top_forward:
            stages.append(Stage(n(f"fwd{j}"), forward_sql[j], True))

    # -- the longest forward half, kept only if its home receives something in time to close
    if top_forward == 1:
        build = f"SELECT * FROM {n('fwd1')}"
    else:
        if any_order:
            arrive = f"(x.tmax >= f.t1 OR y.tmin <= f.t1 + {w})"
        else:
            arrive = f"(x.tmax > f.tl OR (y.tmin <= f.t1 + {w} AND y.tmax > f.tl))"
        build = (f"SELECT f.* FROM ({forward_sql[top_forward]}) AS f "
                 f"LEFT JOIN {n('inbox')} AS x ON x.h = f.s1 AND x.b = f.b1 "
                 f"LEFT JOIN {n('inbox')} AS y ON y.h = f.s1 AND y.b = f.b1 + 1 WHERE {arrive}")

    # -- the second halves that close it, one union: shorter ones padded (idx NULL, accounts -1)
    backs = []
    for b in range(1, top_back + 1):
        if b == top_back and b > 1:
            # ... whose last hop reaches one of the chunk's homes, after its first start, in time
            into_home = (f"(SELECT e.*, m.i0, m.t0, m.t9 FROM {n('keyed')} AS e JOIN {n('homes')} AS m ON m.h = e.dst "
                         f"WHERE e.idx > m.i0 AND e.ts <= m.t9 + {w})")
            if any_order:
                extra = ("e.i0 < p.imin", f"p.tmax <= e.t9 + {w}")
            else:
                extra = ("e.t0 < p.t1",)
            source_b = f"({extend(n(f'path{b - 1}'), b - 1, into_home, extra)})"
        else:
            source_b = n(f"path{b}")
        columns = (_cols("q", "i", b) + [f"CAST(NULL AS BIGINT) AS i{y}" for y in range(b + 1, top_back + 1)]
                   + _cols("q", "s", b) + [f"-1 AS s{y}" for y in range(b + 1, top_back + 1)]
                   + (["q.d", "q.tmax", "q.imin"] if any_order else ["q.d", "q.t1", "q.tl", "q.a1"]))
        backs.append(f"SELECT {', '.join(columns)} FROM {source_b} AS q")
    conditions = []
    if any_order:
        conditions += ["q.imin > f.i1", f"q.tmax <= f.t1 + {w}"]
    else:
        conditions += ["q.t1 > f.tl", f"q.tl <= f.t1 + {w}"]
        if ratio is not None:
            conditions.append(f"q.a1 >= {_double(ratio)} * f.al")
    cross = [f"f.s{x} <> q.s{y}" for x in range(2, top_forward + 1) for y in range(2, top_back + 1)]
    columns = (_cols("f", "i", top_forward, rename=COLUMN) + _cols("q", "i", top_back, rename=COLUMN, shift=top_forward))
    parts = [(f"SELECT {', '.join(columns)} FROM ({' UNION ALL '.join(backs)}) AS q JOIN ({build}) AS f "
              f"ON q.s1 = f.d AND q.d = f.s1 WHERE {' AND '.join(conditions + cross)}")]
    # -- and the shorter forward halves, closed by one hop
    for a in range(1, top_forward):
        columns = (_cols("f", "i", a, rename=COLUMN) + [f"q.i1 AS {COLUMN}{a + 1}"]
                   + [f"CAST(NULL AS BIGINT) AS {COLUMN}{i}" for i in range(a + 2, k_max + 1)])
        parts.append(f"SELECT {', '.join(columns)} FROM {n('path1')} AS q JOIN {n(f'fwd{a}')} AS f "
                     f"ON q.s1 = f.d AND q.d = f.s1 WHERE {' AND '.join(conditions)}")
    order = ", ".join(f"{COLUMN}{i} NULLS FIRST" for i in range(1, k_max + 1))
    result = " UNION ALL ".join(parts) + f" ORDER BY {order}"
    if top_forward == 1:
        estimate = f"SELECT COUNT(*) FROM {n('fwd1')}"
    else:
        estimate = (f"SELECT SUM(g.c) / 2 FROM {n(f'fwd{top_forward - 1}')} AS p JOIN (SELECT src, kb, COUNT(*) AS c "
                    f"FROM {n('keyed')} WHERE o >= 0 GROUP BY src, kb) AS g ON g.src = p.d AND g.kb = p.b1")
    return ScanPlan(tuple(stages), result, k_max, build, estimate)


def to_spark(sql: str) -> str:
    """A statement of this module in Spark SQL (sqlglot's translation from DuckDB's dialect)."""
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


def empty_cycles() -> Cycles:
    return Cycles(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64))


def cycles_from_arrow(table, max_length: int) -> Cycles:
    """The result table (``c1 … cK``, NULL-padded rows, already in canonical order) as ``Cycles``.

    >>> import pyarrow as pa
    >>> t = pa.table({"c1": [0, 1], "c2": [3, 2], "c3": [None, 4]})
    >>> cycles_from_arrow(t, 3).to_lists()
    [(0, 3), (1, 2, 4)]
    """
    import pyarrow.compute as pc

    rows = table.num_rows
    if rows == 0:
        return empty_cycles()
    matrix = np.empty((rows, max_length), dtype=np.int64)
    for i in range(max_length):
        column = table.column(f"{COLUMN}{i + 1}")
        matrix[:, i] = pc.fill_null(column, -1).to_numpy()
    present = matrix >= 0
    offsets = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(present.sum(axis=1), out=offsets[1:])
    return Cycles(offsets, matrix[present])
