"""The ledger's data model: parties, deals, figures, exchange rates and their parts.

Pydantic models, declared in the canonical key order of the YAML format (the writer follows the
declaration order).  The models never guess: a missing required field is an error, and values
are never coerced into something with another meaning (a number is not read as a date, a
boolean not as a number).  Text-based formats (CSV) pass ``context={"text": True}`` so that numbers
written as text are read as numbers.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .numbers import format_number as _n
from .vocabulary import (
    AMOUNT_KINDS,
    CURRENCIES,
    DEAL_KINDS,
    LINK_RELATIONS,
    METRICS,
    NON_MONEY_UNITS,
    PARTY_KINDS,
    STATUSES,
    UNITS,
)

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER_PATTERN = re.compile(r"^[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("loopscope", message)


class FieldProblem(ValueError):
    """A rule broken by one field of a model, raised from a model validator so messages can name it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _describe(value: Any) -> str:
    kind = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "a mapping",
            str: "text", date: "a date", datetime: "a date and time"}.get(type(value), type(value).__name__)
    shown = repr(value) if not isinstance(value, (list, dict)) else ""
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{kind} {shown}".strip()


# ---------------------------------------------------------------------------------------------
# scalar types
# ---------------------------------------------------------------------------------------------


def _parse_day(value: Any) -> date:
    if isinstance(value, datetime):
        raise _fail(f"expected a date (YYYY-MM-DD), got a date and time {value.isoformat()!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE_PATTERN.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise _fail(f"{value!r} is not a valid date ({exc})") from None
    raise _fail(f"expected a date (YYYY-MM-DD), got {_describe(value)}")


def _parse_number(value: Any, info: ValidationInfo) -> float:
    if isinstance(value, bool):
        raise _fail(f"expected a number, got {_describe(value)}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and info.context and info.context.get("text") and _NUMBER_PATTERN.fullmatch(value):
        number = float(value.replace("_", ""))
    else:
        raise _fail(f"expected a number, got {_describe(value)}")
    if not math.isfinite(number):
        raise _fail(f"expected a finite number, got {value!r}")
    return number


def _positive(number: float) -> float:
    if number <= 0:
        raise _fail(f"must be positive, got {_n(number)}")
    return number


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(f"expected text, got {_describe(value)}")
    if not value.strip():
        raise _fail("must not be empty")
    return value


def _identifier(value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(f"expected an id (lower-case letters, digits and '-'), got {_describe(value)}")
    if not ID_PATTERN.fullmatch(value):
        raise _fail(f"{value!r} is not a valid id (expected lower-case letters, digits and '-', e.g. 'nvidia')")
    return value


def _url(value: Any) -> str:
    value = _text(value)
    if not re.fullmatch(r"https?://[^\s/$.?#][^\s]*", value):
        raise _fail(f"{value!r} is not a web address (expected http:// or https://...)")
    return value


def _currency(value: Any) -> str:
    value = _text(value)
    if value not in CURRENCIES:
        raise _fail(f"unknown currency {value!r} (expected an ISO 4217 code such as USD, EUR, JPY)")
    return value


def _choice(options: tuple[str, ...] | dict, what: str):
    allowed = tuple(options)

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _fail(f"expected a {what}, got {_describe(value)} (expected one of: {', '.join(allowed)})")
        if value not in allowed:
            raise _fail(f"unknown {what} {value!r} (expected one of: {', '.join(allowed)})")
        return value

    return check


def _country(value: Any) -> str:
    value = _text(value)
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise _fail(f"{value!r} is not an ISO 3166 alpha-2 country code (e.g. US, JP)")
    return value


def _text_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _fail(f"expected a list of text, got {_describe(value)}")
    return value


def _enum(options) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(options)})


Day = Annotated[date, BeforeValidator(_parse_day), WithJsonSchema({"type": "string", "format": "date"})]
Number = Annotated[float, BeforeValidator(_parse_number), WithJsonSchema({"type": "number"})]
Positive = Annotated[
    float, BeforeValidator(_parse_number), AfterValidator(_positive), WithJsonSchema({"type": "number", "exclusiveMinimum": 0})
]
Text = Annotated[str, BeforeValidator(_text), WithJsonSchema({"type": "string", "minLength": 1})]
Id = Annotated[str, BeforeValidator(_identifier), WithJsonSchema({"type": "string", "pattern": ID_PATTERN.pattern})]
Country = Annotated[str, BeforeValidator(_country), WithJsonSchema({"type": "string", "pattern": "^[A-Z]{2}$"})]
Url = Annotated[str, BeforeValidator(_url), WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https?://"})]
Currency = Annotated[str, BeforeValidator(_currency), _enum(sorted(CURRENCIES))]
AmountKind = Annotated[str, BeforeValidator(_choice(AMOUNT_KINDS, "amount kind")), _enum(AMOUNT_KINDS)]
FigureKind = Annotated[str, BeforeValidator(_choice(AMOUNT_KINDS[:-1], "amount kind")), _enum(AMOUNT_KINDS[:-1])]
DealKindName = Annotated[str, BeforeValidator(_choice(DEAL_KINDS, "deal kind")), _enum(DEAL_KINDS)]
Status = Annotated[str, BeforeValidator(_choice(STATUSES, "status")), _enum(STATUSES)]
PartyKind = Annotated[str, BeforeValidator(_choice(PARTY_KINDS, "party kind")), _enum(PARTY_KINDS)]
Unit = Annotated[str, BeforeValidator(_choice(UNITS, "unit")), _enum(UNITS)]
Relation = Annotated[str, BeforeValidator(_choice(LINK_RELATIONS, "relation")), _enum(LINK_RELATIONS)]
Metric = Annotated[str, BeforeValidator(_choice(METRICS, "metric")), _enum(METRICS)]
TextList = Annotated[list[Text], BeforeValidator(_text_list)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# ---------------------------------------------------------------------------------------------
# parts
# ---------------------------------------------------------------------------------------------


class Source(Model):
    """Where a fact comes from: the page, who published it, when, and the sentence that states it."""

    url: Url
    publisher: Text
    title: Text | None = None
    date: Day | None = None
    quote: Text | None = None


def _check_bounds(value: float | None, low: float | None, high: float | None, kind: str) -> None:
    """The rules shared by amounts and figures for value, low and high under each kind."""
    if kind == "undisclosed":
        if value is not None or low is not None or high is not None:
            raise ValueError("an undisclosed amount has no value, low or high")
        return
    if kind == "range":
        if low is None or high is None:
            raise ValueError("a range needs both low and high")
    elif value is None:
        raise ValueError(f"an amount of kind {kind!r} needs a value")
    if kind == "exact" and (low is not None or high is not None):
        raise ValueError("an exact amount has no low or high (use kind 'estimate' or 'range')")
    if kind == "up_to" and high is not None:
        raise ValueError("an 'up to' amount has no high: its value is the upper bound")
    if low is not None and high is not None and low > high:
        raise ValueError(f"low ({_n(low)}) is greater than high ({_n(high)})")
    if value is not None and low is not None and low > value:
        raise ValueError(f"low ({_n(low)}) is greater than the value ({_n(value)})")
    if value is not None and high is not None and value > high:
        raise ValueError(f"the value ({_n(value)}) is greater than high ({_n(high)})")


class Amount(Model):
    """A sum of money in its original currency, with how certain it is.

    ``exact``: stated precisely; ``up_to``: a cap ("up to $100bn"; ``low`` optional);
    ``estimate``: approximate, optionally with ``low``/``high``; ``range``: between ``low`` and
    ``high`` (``value`` optional); ``undisclosed``: no value at all.
    """

    value: Positive | None = None
    currency: Currency
    kind: AmountKind
    low: Positive | None = None
    high: Positive | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Amount:
        _check_bounds(self.value, self.low, self.high, self.kind)
        return self

    @property
    def disclosed(self) -> bool:
        return self.kind != "undisclosed"

    @property
    def central(self) -> float | None:
        """The headline value: ``value``, or the middle of a range without one."""
        if self.value is not None:
            return self.value
        if self.low is not None and self.high is not None:
            return (self.low + self.high) / 2
        return None

    @property
    def lower(self) -> float | None:
        """The lowest the amount can be: ``low``, 0 for an 'up to' without low, else the value."""
        if self.low is not None:
            return self.low
        if self.kind == "up_to":
            return 0.0
        return self.value

    @property
    def upper(self) -> float | None:
        """The highest the amount can be: ``high``, else the value."""
        return self.high if self.high is not None else self.value


class Quantity(Model):
    """A physical quantity a source states for a deal (10 gigawatts, 160 million shares)."""

    value: Positive
    unit: Unit
    note: Text | None = None


class ScheduleItem(Model):
    date: Day
    share: Positive | None = None
    amount: Positive | None = None

    @model_validator(mode="after")
    def _one(self) -> ScheduleItem:
        if (self.share is None) == (self.amount is None):
            raise ValueError("a schedule entry needs exactly one of share or amount")
        if self.share is not None and self.share > 1:
            raise ValueError(f"share {self.share:g} is more than 1")
        return self


def _add_years(day: date, years: float) -> date:
    whole = int(years)
    try:
        shifted = day.replace(year=day.year + whole)
    except ValueError:  # 29 February
        shifted = day.replace(year=day.year + whole, day=28)
    return shifted + timedelta(days=round((years - whole) * 365.25))


class Horizon(Model):
    """When the money moves: on one ``date``; over a span (``start`` with ``end`` or ``years``);
    or by an explicit ``schedule`` of dated shares or amounts."""

    date: Day | None = None
    start: Day | None = None
    end: Day | None = None
    years: Positive | None = None
    schedule: list[ScheduleItem] | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _form(self) -> Horizon:
        forms = {
            "date": self.date is not None and self.start is None and self.end is None and self.years is None,
            "span": self.start is not None and (self.end is None) != (self.years is None) and self.date is None,
        }
        if self.schedule is not None:
            if self.date or self.start or self.end or self.years:
                raise ValueError("a horizon with a schedule has no date, start, end or years")
            if not self.schedule:
                raise ValueError("a schedule needs at least one entry")
            dates = [item.date for item in self.schedule]
            if dates != sorted(dates):
                raise ValueError("schedule entries are not in date order")
            kinds = {item.share is None for item in self.schedule}
            if len(kinds) > 1:
                raise ValueError("a schedule gives either shares or amounts, not both")
            if self.schedule[0].share is not None:
                total = sum(item.share for item in self.schedule)
                if abs(total - 1) > 1e-9:
                    raise ValueError(f"schedule shares add up to {total:g}, expected 1")
            return self
        if not any(forms.values()):
            raise ValueError(
                "expected one of {date: D}, {start: D, end: D}, {start: D, years: N} or {schedule: [...]}"
            )
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    @property
    def first(self) -> date:
        if self.schedule:
            return self.schedule[0].date
        return self.date or self.start  # type: ignore[return-value]

    @property
    def last(self) -> date:
        """The last day money moves (for a span given in years: start plus the years, less a day)."""
        if self.schedule:
            return self.schedule[-1].date
        if self.date is not None:
            return self.date
        if self.end is not None:
            return self.end
        return _add_years(self.start, self.years) - timedelta(days=1)  # type: ignore[arg-type]

    def slices(self, total: float | None) -> list[tuple[date, float]]:
        """Split the money over time: ``(date, fraction of the total)``.

        A schedule gives its own dates (amounts become fractions of ``total``); a span is split
        into calendar-year slices weighted by their days, each dated at its first day.
        """
        if self.schedule:
            if self.schedule[0].share is not None:
                return [(item.date, item.share) for item in self.schedule]  # type: ignore[misc]
            scheduled = sum(item.amount for item in self.schedule)  # type: ignore[misc]
            base = total if total else scheduled
            return [(item.date, item.amount / base) for item in self.schedule]  # type: ignore[operator]
        if self.date is not None:
            return [(self.date, 1.0)]
        first, last = self.start, self.last
        days = (last - first).days + 1  # type: ignore[operator]
        out = []
        for year in range(first.year, last.year + 1):  # type: ignore[union-attr]
            lo = max(first, date(year, 1, 1))  # type: ignore[type-var]
            hi = min(last, date(year, 12, 31))
            out.append((lo, ((hi - lo).days + 1) / days))
        return out


class StatusEvent(Model):
    """A dated step in a deal's life; may carry the amount as reported at that time and its source."""

    date: Day
    status: Status
    note: Text | None = None
    amount: Amount | None = None
    source: Url | None = None


class Link(Model):
    """A connection between two deals that a source states ("the investment funds the purchase")."""

    deal: Id
    relation: Relation
    note: Text | None = None


class Period(Model):
    start: Day
    end: Day

    @model_validator(mode="after")
    def _order(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


# ---------------------------------------------------------------------------------------------
# entities
# ---------------------------------------------------------------------------------------------


class Party(Model):
    """A company or other actor."""

    id: Id
    name: Text
    kind: PartyKind
    aliases: TextList = Field(default_factory=list)
    ticker: Text | None = None
    country: Country | None = None
    notes: Text | None = None


class Deal(Model):
    """An agreement between two parties; value moves ``from`` → ``to`` (see DEAL_KINDS)."""

    id: Id
    kind: DealKindName
    src: Id = Field(alias="from")
    dst: Id = Field(alias="to")
    title: Text
    announced: Day
    amount: Amount
    horizon: Horizon | None = None
    units: list[Quantity] = Field(default_factory=list)
    history: list[StatusEvent] = Field(min_length=1)
    superseded_by: Id | None = None
    links: list[Link] = Field(default_factory=list)
    notes: Text | None = None
    sources: list[Source] = Field(min_length=1)

    @field_validator("dst")
    @classmethod
    def _not_to_itself(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("src") == value:
            raise _fail(f"a deal from a party to itself ({value})")
        return value

    @model_validator(mode="after")
    def _rules(self) -> Deal:
        dates = [event.date for event in self.history]
        if dates != sorted(dates):
            raise FieldProblem("history", "entries are not in date order")
        if dates[0] != self.announced:
            raise FieldProblem("history", f"the first entry is dated {dates[0]}, expected the announcement date {self.announced}")
        superseded = any(event.status == "superseded" for event in self.history)
        if superseded and self.superseded_by is None:
            raise FieldProblem("superseded_by", "a superseded deal needs superseded_by (the deal that replaced it)")
        if self.superseded_by is not None and not superseded:
            raise FieldProblem("superseded_by", "is set but no history entry has status 'superseded'")
        if self.superseded_by == self.id:
            raise FieldProblem("superseded_by", "a deal cannot supersede itself")
        urls = {source.url for source in self.sources}
        for event in self.history:
            if event.source is not None and event.source not in urls:
                raise FieldProblem("history", f"the entry of {event.date} cites {event.source}, which is not among the sources")
        return self

    @property
    def status(self) -> str:
        """The current status: the last history entry's."""
        return self.history[-1].status

    @property
    def completed(self) -> date | None:
        for event in self.history:
            if event.status == "completed":
                return event.date
        return None


class Figure(Model):
    """A reported value of a party (revenue, RPO, market cap...) at a date or over a period."""

    id: Id
    party: Id
    metric: Metric
    value: Number
    unit: Text
    kind: FigureKind
    low: Number | None = None
    high: Number | None = None
    date: Day | None = None
    period: Period | None = None
    label: Text | None = None
    counterparty: Id | None = None
    of: Metric | None = None
    notes: Text | None = None
    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _rules(self) -> Figure:
        if self.unit not in NON_MONEY_UNITS and self.unit not in CURRENCIES:
            raise FieldProblem("unit", f"unknown unit {self.unit!r} (expected a currency code, 'shares' or 'ratio')")
        _check_bounds(self.value, self.low, self.high, self.kind)
        flow = METRICS[self.metric][0] == "flow"
        if flow and (self.period is None or self.date is not None):
            raise FieldProblem("period", f"{self.metric} is measured over a period: give period {{start, end}}, not date")
        if not flow and (self.date is None or self.period is not None):
            raise FieldProblem("date", f"{self.metric} is measured at a date: give date, not period")
        if self.metric == "customer_share":
            if self.unit != "ratio" or not 0 <= self.value <= 1:
                raise FieldProblem("value", f"customer_share is a ratio between 0 and 1 (unit: ratio), got {_n(self.value)} {self.unit}")
            if self.counterparty is None or self.of is None:
                raise FieldProblem("counterparty", "customer_share needs counterparty and of (the metric it is a share of)")
        elif self.metric == "holding":
            if self.counterparty is None or self.of is not None:
                raise FieldProblem("counterparty", "a holding needs counterparty (the company whose shares are held) and no of")
        elif self.counterparty is not None or self.of is not None:
            raise ValueError("counterparty and of belong to customer_share and holding figures only")
        return self

    @property
    def as_of(self) -> date:
        """The date the figure describes: its date, or the end of its period."""
        return self.date if self.date is not None else self.period.end  # type: ignore[union-attr]


class Rate(Model):
    """An exchange rate: how many US dollars one unit of ``currency`` bought on ``date``."""

    currency: Currency
    date: Day
    usd: Positive
    source: Source

    @model_validator(mode="after")
    def _not_usd(self) -> Rate:
        if self.currency == "USD":
            raise ValueError("a rate converts another currency into USD; USD needs none")
        return self


#: The entity sections of a ledger, their model and how an entity names itself in messages.
SECTIONS: dict[str, tuple[type[Model], str]] = {
    "parties": (Party, "party"),
    "deals": (Deal, "deal"),
    "figures": (Figure, "figure"),
    "rates": (Rate, "rate"),
}


def entity_key(section: str, entity: Model) -> str:
    """The id an entity is known by (rates, which have no id, by currency and date)."""
    if section == "rates":
        return f"{entity.currency}@{entity.date.isoformat()}"  # type: ignore[attr-defined]
    return entity.id  # type: ignore[attr-defined]


def record_key(section: str, record: Any) -> str | None:
    """The id of a raw record before validation, if it has a usable one (for messages)."""
    if not isinstance(record, dict):
        return None
    if section == "rates":
        currency, day = record.get("currency"), record.get("date")
        return f"{currency}@{day}" if currency is not None and day is not None else None
    value = record.get("id")
    return str(value) if value is not None else None

