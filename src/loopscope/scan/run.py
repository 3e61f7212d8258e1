"""The scan driver: a prepared ledger, chunk by chunk, through one engine, into Parquet or CSV.

The ledger is processed in chunks of start transactions ``[lo, hi)``; an engine searches from
those starts over the transactions up to the end of the last start's window.  A round trip is found
in the chunk of its first transaction, and a transaction can take part only in round trips that
start no later than it, so after chunk ``[lo, hi)`` the cycle features of every transaction before
``hi`` are final and are written out.  Memory therefore holds one chunk plus one window, never the
whole ledger.
"""

from __future__ import annotations

import heapq
import json
import os
import time as clock
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .prepared import PreparedLedger
from .spec import Cycles, ScanSpec, cycle_features

ENGINES = ("auto", "memory", "duckdb", "spark")
TOP = 10


@dataclass(frozen=True)
class RoundTripView:
    """One round trip as shown to a person: ids, accounts, amounts and times in order of the money."""

    transactions: tuple[str, ...]
    accounts: tuple[str, ...]
    amounts: tuple[float, ...]
    first_time: int
    last_time: int
    circulated: float


@dataclass(frozen=True)
class ScanSummary:
    """What a scan found (the round trips themselves are in the output files)."""

    spec: ScanSpec
    engine: str
    transactions: int
    round_trips: int
    by_length: dict[int, int]
    transactions_on_round_trips: int
    circulated_total: float
    currency: str | None
    seconds: float
    chunks: int
    largest: tuple[RoundTripView, ...] = field(default=())
    round_trips_path: str | None = None
    features_path: str | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["spec"] = asdict(self.spec)
        data["by_length"] = {str(k): v for k, v in self.by_length.items()}
        return data


def available_memory() -> int:
    """Bytes of memory this machine has (physical), or 0 when unknown."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def choose_engine(prepared: PreparedLedger) -> str:
    """``auto``: the memory engine when a chunk and its window fit easily (the prepared file is under a
    quarter of the machine's memory), otherwise DuckDB, which spills to disk."""
    size = prepared.transactions_path.stat().st_size
    memory = available_memory()
    return "memory" if memory and size * 8 < memory else "duckdb"


def open_engine(name: str, prepared: PreparedLedger, spec: ScanSpec, *, spark_master: str | None = None,
                threads: int | None = None, work: Path | None = None):
    """An engine object with ``find(lo, hi) -> Cycles`` and ``close()``."""
    if name == "memory":
        from .memory import MemoryEngine

        return MemoryEngine(prepared, spec, threads=threads)
    if name == "duckdb":
        from ..backends.duckdb_engine import DuckDBEngine

        return DuckDBEngine(prepared, spec, threads=threads, temp_directory=work)
    if name == "spark":
        from ..backends.spark_engine import SparkEngine

        return SparkEngine(prepared, spec, master=spark_master or "local[2]")
    raise ValueError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")


class _Writer:
    """Streams a table to Parquet or CSV (chosen by the file's suffix)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in (".parquet", ".csv"):
            raise ValueError(f"{self.path}: write .parquet or .csv")
        self.csv = suffix == ".csv"
        self._writer = None

    def write(self, table) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.csv:
                import pyarrow.csv as pcsv

                self._writer = pcsv.CSVWriter(self.path, table.schema)
            else:
                import pyarrow.parquet as pq

                self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self._writer.write_table(table)

    def close(self, empty_schema) -> None:
        if self._writer is None:
            self.write(empty_schema.empty_table())
        self._writer.close()


def _round_trip_schema(csv: bool):
    import pyarrow as pa

    text_list = pa.string() if csv else pa.list_(pa.string())
    return pa.schema([
        ("round_trip", pa.int64()), ("length", pa.int32()),
        ("transactions", text_list), ("accounts", text_list),
        ("amounts", pa.string() if csv else pa.list_(pa.float64())),
        ("first_time", pa.timestamp("us", tz="UTC")), ("last_time", pa.timestamp("us", tz="UTC")),
        ("circulated_amount", pa.float64()), ("currency", pa.string()),
    ])


def _lists(list_type, offsets, values, csv: bool):
    """One list per round trip (Parquet), or its JSON text (CSV)."""
    import pyarrow as pa

    lists = list_type.from_arrays(offsets, values)
    if not csv:
        return lists
    return pa.array([json.dumps(v, ensure_ascii=False) for v in lists.to_pylist()], type=pa.string())


def _feature_schema(max_length: int):
    import pyarrow as pa

    return pa.schema([("id", pa.string()), ("source", pa.string()), ("row", pa.int64())]
                     + [(f"cycles_{k}", pa.int32()) for k in range(2, max_length + 1)]
                     + [("cycles_total", pa.int32())])


def scan_prepared(prepared: PreparedLedger, spec: ScanSpec, *, engine: str = "auto", round_trips_path=None,
                  features_path=None, chunk_size: int | None = None, progress: Callable[[int, int], None] | None = None,
                  spark_master: str | None = None, threads: int | None = None, work: Path | None = None,
                  engine_object=None) -> ScanSummary:
    """Scan a prepared ledger for round trips (``scan.spec``), writing them and the per-transaction cycle
    features as they are found; returns the summary.  ``progress(done, total)`` is called after each chunk."""
    import pyarrow as pa

    started = clock.perf_counter()
    n = len(prepared)
    meta = prepared.meta
    currency = meta.get("currency")
    name = choose_engine(prepared) if engine == "auto" else engine
    if chunk_size is None:
        chunk_size = 2_000_000 if name == "memory" else 1_000_000
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    names = prepared.account_names()
    trips = _Writer(round_trips_path) if round_trips_path else None
    feats = _Writer(features_path) if features_path else None
    trip_schema = _round_trip_schema(trips.csv if trips else False)
    feature_schema = _feature_schema(spec.max_length)
    by_length = np.zeros(spec.max_length + 1, dtype=np.int64)
    on_trips = 0
    circulated_total = 0.0
    counted = 0
    largest: list[tuple[float, int, RoundTripView]] = []
    timeline = prepared.timeline()
    pending = np.zeros((0, spec.max_length - 1), dtype=np.int64)  # features of [flushed, end)
    flushed = 0
    chunks = 0
    own = engine_object is None
    eng = open_engine(name, prepared, spec, spark_master=spark_master, threads=threads, work=work) if own else engine_object
    try:
        lo = 0
        while lo < n:
            hi = min(lo + chunk_size, n)
            end = timeline.first_after(timeline.time_of(hi - 1) + spec.window)
            cycles = eng.find(lo, hi)
            chunks += 1
            if len(cycles) and (cycles.edges.min() < lo or cycles.edges.max() >= end):
                raise RuntimeError(f"engine {name} returned transactions outside [{lo}, {end})")
            # features: grow the pending block to cover [flushed, end), add, flush [flushed, hi)
            if flushed + len(pending) < end:
                pending = np.concatenate([pending, np.zeros((end - flushed - len(pending), spec.max_length - 1),
                                                            dtype=np.int64)])
            if len(cycles):
                local = Cycles(cycles.offsets, cycles.edges - flushed)
                pending += cycle_features(local, len(pending), spec.max_length)
            table = prepared.read_columns(lo, end, ["id", "source", "row", "src", "amount", "ts"])
            if len(cycles):
                lengths = cycles.lengths()
                by_length += np.bincount(lengths, minlength=spec.max_length + 1)
                rel = cycles.edges - lo
                ids = table.column("id").combine_chunks().take(pa.array(rel))
                srcs = table.column("src").to_numpy()[rel]
                amounts = table.column("amount").to_numpy()[rel]
                times = table.column("ts").to_numpy()[rel]
                starts = cycles.offsets[:-1]
                circulated = np.minimum.reduceat(amounts, starts)
                first_time = times[starts]
                last_time = np.maximum.reduceat(times, starts)
                circulated_total += float(circulated.sum())
                account_text = pa.array(names[srcs], type=pa.string())
                numbers = np.arange(counted + 1, counted + len(cycles) + 1, dtype=np.int64)
                for j in np.argsort(-circulated, kind="stable")[:TOP]:
                    a, b = cycles.offsets[j], cycles.offsets[j + 1]
                    view = RoundTripView(tuple(ids[a:b].to_pylist()), tuple(names[srcs[a:b]].tolist()),
                                         tuple(float(x) for x in amounts[a:b]), int(first_time[j]), int(last_time[j]),
                                         float(circulated[j]))
                    item = (float(circulated[j]), -int(numbers[j]), view)
                    if len(largest) < TOP:
                        heapq.heappush(largest, item)
                    elif item > largest[0]:
                        heapq.heapreplace(largest, item)
                if trips:
                    offsets = pa.array(cycles.offsets.astype(np.int32) if cycles.offsets[-1] < 2**31
                                       else cycles.offsets, type=pa.int32() if cycles.offsets[-1] < 2**31 else pa.int64())
                    list_type = pa.ListArray if offsets.type == pa.int32() else pa.LargeListArray
                    tx_col, acc_col, amt_col = (_lists(list_type, offsets, values, trips.csv)
                                                for values in (ids, account_text, pa.array(amounts)))
                    schema = trip_schema
                    if not trips.csv and offsets.type != pa.int32():
                        schema = pa.schema([f.with_type(pa.large_list(f.type.value_type))
                                            if pa.types.is_list(f.type) else f for f in trip_schema])
                    trips.write(pa.table([
                        pa.array(numbers), pa.array(lengths.astype(np.int32)), tx_col, acc_col, amt_col,
                        pa.array(first_time, type=pa.timestamp("us", tz="UTC")),
                        pa.array(last_time, type=pa.timestamp("us", tz="UTC")),
                        pa.array(circulated), pa.array([currency] * len(cycles), type=pa.string()),
                    ], schema=schema))
                counted += len(cycles)
            done = hi - flushed
            final = pending[:done]
            on_trips += int(np.count_nonzero(final.sum(axis=1)))
            if feats:
                part = table.slice(flushed - lo, done) if flushed >= lo else None
                if part is None:  # cannot happen: flushed == lo after every chunk
                    raise RuntimeError("features out of step")
                columns = [part.column("id"), part.column("source"), part.column("row")]
                columns += [pa.array(final[:, k].astype(np.int32)) for k in range(spec.max_length - 1)]
                columns.append(pa.array(final.sum(axis=1).astype(np.int32)))
                feats.write(pa.table(columns, schema=feature_schema))
            pending = pending[done:]
            flushed = hi
            if progress:
                progress(hi, n)
            lo = hi
    finally:
        if own:
            eng.close()
        if trips:
            trips.close(trip_schema)
        if feats:
            feats.close(feature_schema)
    ordered = tuple(view for _, _, view in sorted(largest, reverse=True))
    return ScanSummary(spec=spec, engine=name, transactions=n, round_trips=counted,
                       by_length={k: int(by_length[k]) for k in range(2, spec.max_length + 1)},
                       transactions_on_round_trips=on_trips, circulated_total=circulated_total, currency=currency,
                       seconds=clock.perf_counter() - started, chunks=chunks, largest=ordered,
                       round_trips_path=str(round_trips_path) if round_trips_path else None,
                       features_path=str(features_path) if features_path else None)
