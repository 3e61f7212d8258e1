"""The JSON shapes of the dashboard's API (they make its OpenAPI schema, which schemathesis checks)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, field_validator

Lang = Literal["en", "de"]


def _iso_day(value: Any) -> Any:
    """Only YYYY-MM-DD, as the schema says ("format": "date"); pydantic alone would also take a number
    (seconds since 1970: as_of=0 would be 1 January 1970) or 20250601."""
    if isinstance(value, str) and len(value) == 10 and value[4] == value[7] == "-":
        return value
    if isinstance(value, date):
        return value
    raise ValueError(f"expected a day as YYYY-MM-DD, got {value!r}")


#: A day in requests: YYYY-MM-DD only.
Day = Annotated[date, BeforeValidator(_iso_day)]
#: An integer in a request body: not true/false, not "5", not 5.5 (the schema says "integer").
Int = Annotated[int, Strict()]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemOut(Out):
    file: str
    line: int | None
    entity: str | None
    id: str | None
    field: str | None
    message: str


class ErrorOut(Out):
    """An error: what went wrong; for 422 every problem (as ``loopscope validate`` reports it); for 409
    the entry's current record and version."""

    detail: str
    problems: list[ProblemOut] = []
    current: dict[str, Any] | None = None
    version: str | None = None


class Meta(Out):
    name: str
    read_only: bool
    read_only_reason: str | None
    generation: int = Field(description="increases with every change of the ledger")
    first_date: date | None
    last_date: date | None
    parties: int
    deals: int
    figures: int
    deal_kinds: list[str]
    statuses: list[str]
    metrics: list[str]
    party_kinds: list[str]
    amount_kinds: list[str]
    files: list[str]
    problems: list[ProblemOut] = Field(description="problems of the files on disk (a hand edit that broke them)")


class PartyOut(Out):
    id: str
    name: str
    kind: str
    ticker: str | None
    country: str | None
    deals: int
    inflow_usd: float
    outflow_usd: float


class DealOut(Out):
    id: str
    kind: str
    kind_name: str
    src: str = Field(description="the party value moves from (the YAML field 'from')")
    dst: str = Field(description="the party value moves to (the YAML field 'to')")
    src_name: str
    dst_name: str
    title: str
    announced: date
    status: str
    amount: str = Field(description="the amount as text, with its uncertainty ('up to', '≈', ranges)")
    amount_kind: str
    amount_usd: float | None
    low_usd: float | None
    high_usd: float | None
    sources: int
    file: str | None


class Entry(Out):
    """One entry of the ledger as stored: its canonical record, version (for edits) and file."""

    section: str
    id: str
    record: dict[str, Any]
    version: str
    file: str | None


class Node(Out):
    id: str
    name: str
    x: float
    y: float
    size: float
    sized: bool
    size_text: str


class Edge(Out):
    id: str
    source: str
    target: str
    kind: str
    kind_name: str
    colour: str
    width: float
    amount: str
    amount_kind: str
    amount_usd: float | None
    announced: str
    status: str
    title: str
    source_url: str
    source_name: str


class LegendItem(Out):
    kind: str
    name: str
    colour: str


class SizeItem(Out):
    size: float
    text: str


class Network(Out):
    as_of: date | None
    nodes: list[Node]
    edges: list[Edge]
    legend: list[LegendItem]
    sizes: list[SizeItem]


class CycleOut(Out):
    rank: int
    parties: list[str]
    names: list[str]
    deals: list[str]
    amount: str
    amount_usd: float | None
    range: str
    in_time_order: bool
    narrative: str


class Cycles(Out):
    total: int
    max_length: int
    cycles: list[CycleOut]


class Circulation(Out):
    gross_usd: float
    gross_low_usd: float
    gross_high_usd: float
    circulated_usd: float
    circulated_low_usd: float
    circulated_high_usd: float
    circularity: float | None
    one_way_usd: float
    outside_money_usd: float
    hodge_loop_ratio: float | None
    cards: list[dict[str, str]] = Field(description="the report's headline figures as texts")


class ExposureRow(Out):
    id: str
    party: str
    inflow: str
    inflow_usd: float
    outflow: str
    undisclosed_in: int
    undisclosed_out: int
    round_tripped: str
    round_tripped_usd: float
    round_tripped_share: str
    top_customer: str
    hhi: str
    backlog: str
    commitments: str
    revenue: str
    years: float | None


class Exposure(Out):
    rows: list[ExposureRow]
    notes: list[dict[str, Any]]


class PartyPage(Out):
    party: Entry
    deals: list[DealOut]
    figures: list[Entry]
    exposure: ExposureRow | None
    cycles: list[CycleOut]
    changes: list[dict[str, Any]]


class ScenarioInfo(Out):
    name: str
    title: str
    description: str
    quote: dict[str, Any] | None
    scenario: dict[str, Any]


class StressRequest(BaseModel):
    """A stress test: a built-in scenario's name, or a scenario (the YAML file's fields as JSON)."""

    model_config = ConfigDict(extra="forbid")
    scenario: str | dict[str, Any] = "openai-cannot-pay"
    model: Literal["en", "rv", "egj", "debtrank", "furfine"] | None = None
    samples: Int = Field(default=0, ge=0, le=20000)
    seed: Int = Field(default=0, ge=0, le=2**31 - 1)
    lang: Lang = "en"


class StressOut(Out):
    view: dict[str, Any] = Field(description="as the report shows it: texts in the chosen language")
    result: dict[str, Any] = Field(description="the numbers (StressResult.to_dict())")


class Job(Out):
    id: str
    state: Literal["queued", "running", "done", "failed"]
    done: int
    total: int
    result: StressOut | None = None
    error: ErrorOut | None = None


class EditIn(BaseModel):
    """A change: the entry's fields (as in the YAML file), why, and the version it starts from."""

    model_config = ConfigDict(extra="forbid")
    record: dict[str, Any]
    reason: str = Field(max_length=2000)
    version: str | None = Field(default=None, max_length=64, description="the version the edit starts from (required to update)")
    file: str | None = Field(default=None, max_length=300, description="for a new entry: the ledger file to add it to")

    @field_validator("record")
    @classmethod
    def _unicode(cls, record: dict[str, Any]) -> dict[str, Any]:
        """JSON can carry lone surrogates (``"\\ud800"``) that no UTF-8 file can hold: refuse them here,
        with where they are, rather than let the file fail to read back (which reported every other
        entry of the ledger as broken)."""
        _check_unicode(record, "")
        return record


def _check_unicode(value: Any, where: str) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{where or 'text'}: not valid Unicode text (a lone surrogate)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_unicode(key, where)
            _check_unicode(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_unicode(item, f"{where}.{i}" if where else str(i))


class RetireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=2000)
    version: str = Field(max_length=64)
    date: Day | None = Field(default=None, description="the day it was cancelled (default: today)")


class ChangeOut(Out):
    time: str
    action: str
    section: str
    id: str
    file: str
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    version: str | None


class Saved(Out):
    change: ChangeOut
    entry: Entry | None
