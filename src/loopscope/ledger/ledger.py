"""The :class:`Ledger`: validated parties, deals, figures and rates, and what derives from them."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import csv_format, json_format, yaml_format
from .files import bundled_path, read, target_format, write_atomic
from .model import Amount, Deal, Figure, Party, Rate, entity_key
from .records import to_record
from .vocabulary import CLOSED_STATUSES, DEAL_KINDS

if TYPE_CHECKING:  # heavy imports only where used
    import pandas as pd
    import scipy.sparse as sp

FLOW_COLUMNS = [
    "src", "dst", "amount_usd", "low_usd", "high_usd", "date", "deal_id", "kind", "status",
    "amount_kind", "date_basis",
]


class Ledger:
    """A validated deal ledger.  Build one with :func:`loopscope.load`.

    The ledger is immutable: :meth:`as_of` and :meth:`between` return new ledgers.
    """

    def __init__(
        self,
        parties: Iterable[Party] = (),
        deals: Iterable[Deal] = (),
        figures: Iterable[Figure] = (),
        rates: Iterable[Rate] = (),
        *,
        origins: dict[tuple[str, str], str] | None = None,
        as_of_date: date | None = None,
    ):
        self.parties: tuple[Party, ...] = tuple(parties)
        self.deals: tuple[Deal, ...] = tuple(deals)
        self.figures: tuple[Figure, ...] = tuple(figures)
        self.rates: tuple[Rate, ...] = tuple(rates)
        #: (section, id) → the file (relative to a YAML folder) each entity was read from
        self.origins: dict[tuple[str, str], str] = dict(origins or {})
        #: the date this view of the ledger was cut at, if any
        self.as_of_date = as_of_date
        self._parties = {p.id: p for p in self.parties}
        self._deals = {d.id: d for d in self.deals}
        rates_by: dict[str, list[Rate]] = {}
        for rate in sorted(self.rates, key=lambda r: r.date):
            rates_by.setdefault(rate.currency, []).append(rate)
        self._rates = rates_by

    # ------------------------------------------------------------------ reading and writing
    @classmethod
    def read(cls, path: Path | str | None = None, *, texts: dict[Path, str] | None = None) -> Ledger:
        """Read and validate a ledger (the bundled ``ai-2025`` dataset when ``path`` is None).

        ``texts`` stands in for the contents of some YAML files (keys: resolved paths)."""
        source = Path(path) if path is not None else bundled_path()
        built, relative = read(source, str(path) if path is not None else "ai-2025", texts)
        # only entities of a YAML folder remember their file; other formats have no per-entity files
        origins = {key: relative[file] for key, file in built.origins.items() if file in relative}
        e = built.entities
        return cls(e["parties"], e["deals"], e["figures"], e["rates"], origins=origins)

    def sections(self) -> dict[str, list[dict[str, Any]]]:
        """All entities as records in canonical key order, per section."""
        return {
            "parties": [to_record(p) for p in self.parties],
            "deals": [to_record(d) for d in self.deals],
            "figures": [to_record(f) for f in self.figures],
            "rates": [to_record(r) for r in self.rates],
        }

    def save(self, path: Path | str, format: str | None = None) -> list[Path]:
        """Write the ledger; returns the files written.

        ``format`` is ``yaml``, ``json`` or ``csv``; by default it follows the suffix (``.yaml``,
        ``.json``) and a folder is written as YAML files: each entity goes back to the file it
        was read from, new ones to ``parties.yaml``, ``deals.yaml``, ``figures.yaml``, ``rates.yaml``.
        """
        path = Path(path)
        fmt = target_format(path, format)
        if fmt == "json":
            write_atomic(path, json_format.dump(self.sections()))
            return [path]
        if fmt == "csv":
            written = []
            for name, text in csv_format.dump(self.sections()).items():
                write_atomic(path / name, text)
                written.append(path / name)
            return written
        if path.suffix.lower() in (".yaml", ".yml"):
            write_atomic(path, yaml_format.dump(self.sections()))
            return [path]
        files: dict[str, dict[str, list[dict]]] = {}
        for section, entities in (("parties", self.parties), ("deals", self.deals),
                                  ("figures", self.figures), ("rates", self.rates)):
            for entity in entities:
                name = self.origins.get((section, entity_key(section, entity))) or f"{section}.yaml"
                files.setdefault(name, {s: [] for s in ("parties", "deals", "figures", "rates")})
                files[name][section].append(to_record(entity))
        written = []
        for name, sections in sorted(files.items()):
            write_atomic(path / name, yaml_format.dump(sections))
            written.append(path / name)
        return written

    # ------------------------------------------------------------------ lookup
    def party(self, party_id: str) -> Party:
        return self._parties[party_id]

    def deal(self, deal_id: str) -> Deal:
        return self._deals[deal_id]

    def figures_of(self, party_id: str, metric: str | None = None) -> list[Figure]:
        """The figures of one party (optionally of one metric), oldest first; of two on the same date,
        the one over the longer period comes later (a fiscal year after its last quarter)."""
        found = [f for f in self.figures if f.party == party_id and (metric is None or f.metric == metric)]
        return sorted(found, key=lambda f: (f.as_of, (f.period.end - f.period.start).days if f.period else 0, f.id))

    def latest_figure(self, party_id: str, metric: str) -> Figure | None:
        found = self.figures_of(party_id, metric)
        return found[-1] if found else None

    def __len__(self) -> int:
        return len(self.deals)

    def __repr__(self) -> str:
        cut = f", as of {self.as_of_date}" if self.as_of_date else ""
        return f"<Ledger: {len(self.parties)} parties, {len(self.deals)} deals, {len(self.figures)} figures{cut}>"

    # ------------------------------------------------------------------ views in time
    def as_of(self, day: date | str) -> Ledger:
        """The ledger as it stood at the end of ``day``: deals announced by then, each with the
        history known by then (so its status as of that day), and figures dated by then."""
        day = date.fromisoformat(day) if isinstance(day, str) else day
        deals = []
        for deal in self.deals:
            if deal.announced > day:
                continue
            history = [e for e in deal.history if e.date <= day]
            if len(history) != len(deal.history):
                update: dict[str, Any] = {"history": history}
                if not any(e.status == "superseded" for e in history):
                    update["superseded_by"] = None
                deal = deal.model_copy(update=update)
            deals.append(deal)
        figures = [f for f in self.figures if f.as_of <= day]
        return Ledger(self.parties, deals, figures, self.rates, origins=self.origins, as_of_date=day)

    def between(self, start: date, end: date) -> Ledger:
        """Only the deals announced from ``start`` to ``end`` (both included)."""
        deals = [d for d in self.deals if start <= d.announced <= end]
        return Ledger(self.parties, deals, self.figures, self.rates, origins=self.origins, as_of_date=self.as_of_date)

    # ------------------------------------------------------------------ money
    def rate(self, currency: str, on: date) -> float:
        """US dollars per unit of ``currency``: the latest rate on or before ``on``, else the earliest."""
        if currency == "USD":
            return 1.0
        rates = self._rates[currency]
        position = bisect.bisect_right([r.date for r in rates], on)
        return rates[max(position - 1, 0)].usd

    def to_usd(self, amount: Amount, on: date) -> tuple[float | None, float | None, float | None]:
        """(central, lower, upper) of an amount in US dollars; None where undisclosed."""
        if not amount.disclosed:
            return None, None, None
        factor = self.rate(amount.currency, on)
        return tuple(None if v is None else v * factor for v in (amount.central, amount.lower, amount.upper))  # type: ignore[return-value]

    def flows(self) -> pd.DataFrame:
        """One row per dated money movement, the shape of a bank's transaction ledger.

        Columns: ``src, dst, amount_usd, low_usd, high_usd, date, deal_id, kind, status,
        amount_kind, date_basis``.  Conventions:

        * superseded and cancelled deals move no money and are left out;
        * a deal with a horizon is spread over it: by its schedule, or evenly over time in
          calendar-year slices dated at each slice's first day; a deal without a horizon moves
          everything on its announcement date (``date_basis`` says which: ``horizon`` or ``announced``);
        * amounts are converted to US dollars at the rate of the announcement date;
        * 'up to' amounts have ``low_usd`` 0 unless a low is given; undisclosed amounts are NaN.
        """
        import pandas as pd

        rows: list[tuple] = []
        nan = float("nan")
        for deal in self.deals:
            if deal.status in CLOSED_STATUSES:
                continue
            central, lower, upper = self.to_usd(deal.amount, deal.announced)
            if deal.horizon is not None:
                slices, basis = deal.horizon.slices(deal.amount.central), "horizon"
            else:
                slices, basis = [(deal.announced, 1.0)], "announced"
            for day, share in slices:
                rows.append((
                    deal.src, deal.dst,
                    nan if central is None else central * share,
                    nan if lower is None else lower * share,
                    nan if upper is None else upper * share,
                    day, deal.id, deal.kind, deal.status, deal.amount.kind, basis,
                ))
        frame = pd.DataFrame.from_records(rows, columns=FLOW_COLUMNS)
        frame["date"] = pd.to_datetime(frame["date"])
        for column in ("amount_usd", "low_usd", "high_usd"):
            frame[column] = frame[column].astype("float64")
        return frame

    def matrix(self, kinds: Sequence[str] | None = None, column: str = "amount_usd") -> tuple[sp.csr_matrix, list[str]]:
        """The parties × parties matrix ``W[i][j]`` = US dollars flowing from party i to party j,
        summed over the flows of the given deal kinds (all by default; undisclosed amounts count 0).

        Returns the sparse matrix and the party ids in row/column order.
        """
        import numpy as np
        import scipy.sparse as sp

        if kinds is not None:
            unknown = sorted(set(kinds) - set(DEAL_KINDS))
            if unknown:
                raise ValueError(f"unknown deal kinds {unknown} (expected some of: {', '.join(DEAL_KINDS)})")
        index = [p.id for p in self.parties]
        position = {party: i for i, party in enumerate(index)}
        flows = self.flows()
        if kinds is not None:
            flows = flows[flows["kind"].isin(list(kinds))]
        flows = flows[flows[column].notna()]
        rows = flows["src"].map(position).to_numpy(dtype=np.int64)
        cols = flows["dst"].map(position).to_numpy(dtype=np.int64)
        values = flows[column].to_numpy(dtype=np.float64)
        matrix = sp.coo_matrix((values, (rows, cols)), shape=(len(index), len(index))).tocsr()
        matrix.sum_duplicates()
        return matrix, index
