"""Stress scenarios: shocks, the horizon, the model and its parameters, as YAML or built in.

A scenario file::

    name: my-scenario
    title: OpenAI pays half
    shocks:
      - type: pays_fraction        # a party pays only this share of its commitments
        party: openai
        fraction: {value: 0.5, low: 0.2, high: 0.8}   # sampled with --samples
      - type: revenue_falls        # outside revenue of parties (or all) falls by a share
        parties: [oracle, coreweave]
        by: 0.3
      - type: equity_falls         # market values fall by a share: stakes are written down and
        parties: all               # the parties raise that much less outside funding
        by: 0.5
      - type: funding_freeze       # from this date (default: the start) no outside funding, no
        after: 2026-06-01          # equity investments or loans arrive (parties: who; default all)
    model: en                      # en, rv, egj, debtrank or furfine
    parameters: {alpha: 0.5, beta: 0.9}
    balance: {horizon: 5, revenue_growth: 0.0, backstop_share: 1.0, outside_funding: true}

A shock size is a number, or ``{value, low, high, distribution}`` (``triangular`` with its peak at
``value``, the default, or ``uniform``): the central run uses ``value``, Monte Carlo samples draw
from the distribution.  The built-in scenarios (:data:`BUILTIN`) each cite the sentence they model.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MODELS = ("en", "rv", "egj", "debtrank", "furfine")
MODEL_NAMES = {
    "en": "Eisenberg-Noe clearing", "rv": "Rogers-Veraart clearing with default costs",
    "egj": "Elliott-Golub-Jackson cross-holdings", "debtrank": "DebtRank", "furfine": "Furfine sequential defaults",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Size(_Model):
    """A shock size: ``value`` in the central run; drawn from ``distribution`` over [low, high]."""

    value: float = Field(ge=0, le=1)
    low: float | None = Field(default=None, ge=0, le=1)
    high: float | None = Field(default=None, ge=0, le=1)
    distribution: Literal["triangular", "uniform"] = "triangular"

    @model_validator(mode="before")
    @classmethod
    def _number(cls, data):
        return {"value": data} if isinstance(data, int | float) and not isinstance(data, bool) else data

    @model_validator(mode="after")
    def _bounds(self) -> Size:
        low = self.value if self.low is None else self.low
        high = self.value if self.high is None else self.high
        if not low <= self.value <= high:
            raise ValueError(f"need low ≤ value ≤ high, got {low}, {self.value}, {high}")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.value if self.low is None else self.low, self.value if self.high is None else self.high)

    def describe(self) -> str:
        low, high = self.bounds
        if low == high:
            return f"{self.value:.0%}"
        return f"{self.value:.0%} ({self.distribution} {low:.0%} to {high:.0%} when sampled)"


Parties = list[str] | Literal["all"]


class PaysFraction(_Model):
    type: Literal["pays_fraction"]
    party: str
    fraction: Size

    def describe(self) -> str:
        return f"{self.party} pays only {self.fraction.describe()} of what it owes and raises no outside funding"


class _Falls(_Model):
    """Something of some parties (or all) falls by a share."""

    parties: Parties = "all"
    by: Size


class RevenueFalls(_Falls):
    type: Literal["revenue_falls"]

    def describe(self) -> str:
        return f"outside revenue of {_who(self.parties)} falls by {self.by.describe()}"


class EquityFalls(_Falls):
    type: Literal["equity_falls"]

    def describe(self) -> str:
        return (f"market values of {_who(self.parties)} fall by {self.by.describe()}: stakes in them are written "
                "down and they raise that share less outside funding")


class FundingFreeze(_Model):
    type: Literal["funding_freeze"]
    after: date | None = None  # None: from the start of the horizon
    parties: Parties = "all"

    def describe(self) -> str:
        when = f"from {self.after}" if self.after else "from the start of the horizon"
        return f"{when} {_who(self.parties)} raise no outside funding and receive no promised equity investments or loans"


Shock = Annotated[Union[PaysFraction, RevenueFalls, EquityFalls, FundingFreeze], Field(discriminator="type")]


def _who(parties: Parties) -> str:
    return "all parties" if parties == "all" else ", ".join(parties)


class Quote(_Model):
    """The sentence a scenario models, and where it was published."""

    text: str
    publisher: str
    url: str
    date: dt.date | None = None
    title: str | None = None


class Parameters(_Model):
    """Model parameters; each model reads its own (see :func:`loopscope.stress.stress_test`)."""

    alpha: float = Field(default=0.5, ge=0, le=1)  # rv: share of outside assets a defaulter realises
    beta: float = Field(default=0.9, ge=0, le=1)  # rv: share of claims a defaulter realises
    recovery: float = Field(default=0.0, ge=0, le=1)  # furfine: share recovered from a failed debtor
    linear: bool = False  # debtrank: the linear variant
    threshold: float = Field(default=0.5, ge=0, le=1)  # egj: fails below this share of its value
    failure_cost: float = Field(default=0.2, ge=0, le=1)  # egj: share of its value a failure destroys


class Balance(_Model):
    """Overrides of :func:`loopscope.stress.balance_sheets`' assumptions."""

    as_of: date | None = None
    horizon: int = Field(default=5, gt=0, le=50)
    revenue_growth: float = Field(default=0.0, gt=-1)
    backstop_share: float = Field(default=1.0, ge=0, le=1)
    outside_funding: bool = True


class Scenario(_Model):
    name: str = Field(min_length=1)
    title: str | None = None
    title_de: str | None = None
    description: str | None = None
    quote: Quote | None = None
    shocks: list[Shock] = Field(min_length=1)
    model: Literal["en", "rv", "egj", "debtrank", "furfine"] = "en"
    parameters: Parameters = Parameters()
    balance: Balance = Balance()

    def describe(self) -> list[str]:
        return [shock.describe() for shock in self.shocks]

    def parties(self) -> set[str]:
        named = set()
        for shock in self.shocks:
            if isinstance(shock, PaysFraction):
                named.add(shock.party)
            elif shock.parties != "all":
                named.update(shock.parties)
        return named


class ScenarioError(ValueError):
    """A scenario that cannot be read; the message names the file, line and field."""


_NTV = {"publisher": "ntv.de", "url": "https://www.n-tv.de/", "date": "2025-11-08",
        "title": "Das Netzwerk der Tech-Riesen: So pumpen Kreisgeschäfte die KI-Blase auf"}
_CALDER = {"publisher": "uncut-news.ch (German translation of Expose News, G. Calder)",
           "url": "https://uncutnews.ch/die-illegale-1-billion-dollar-finanzierungsschleife-der-ki-industrie-was-wirklich-passiert/"}

#: the scenarios the articles describe, each with the sentence it models
BUILTIN: dict[str, dict] = {
    "openai-cannot-pay": {
        "name": "openai-cannot-pay",
        "title": "OpenAI cannot pay its commitments",
        "title_de": "OpenAI kann seine Verpflichtungen nicht bedienen",
        "description": "OpenAI pays none of the commitments falling due in the horizon (the analyst's claim taken "
                       "literally; sampled between nothing and a quarter) and raises no outside funding.",
        "quote": {"text": "OpenAI ist keinesfalls in der Lage, auch nur eine dieser Verpflichtungen zu bedienen", **_NTV},
        "shocks": [{"type": "pays_fraction", "party": "openai",
                    "fraction": {"value": 0.0, "low": 0.0, "high": 0.25, "distribution": "uniform"}}],
    },
    "capital-markets-close": {
        "name": "capital-markets-close",
        "title": "Capital markets close",
        "title_de": "Die Kapitalmärkte schließen sich",
        "description": "From the start of the horizon nobody raises outside funding and no promised equity "
                       "investment or loan is paid: every party pays from its cash, its outside revenue and what "
                       "the others pay it.",
        "quote": {"text": "Wenn die Kapitalmärkte sich verengen oder die Investoren ungeduldig werden, könnte das "
                          "System über Nacht implodieren.", **_CALDER},
        "shocks": [{"type": "funding_freeze"}],
    },
    "valuation-reset": {
        "name": "valuation-reset",
        "title": "Valuations fall back to fundamentals",
        "title_de": "Die Bewertungen fallen auf die Fundamentaldaten zurück",
        "description": "Market values and valuations of every party fall by half (an assumption, not a figure "
                       "from the articles; sampled between 30% and 70%): stakes are written down and the "
                       "parties raise half as much outside funding.",
        "quote": {"text": "Denn die Bewertungen von Palantir mit fast 500 Milliarden Dollar Börsenwert bei Umsätzen "
                          "von gerade mal vier Milliarden Dollar und anderen Tech-Firmen wie Nvidia mit fast fünf "
                          "Billionen Dollar haben sich inzwischen komplett von der Realität entkoppelt.", **_NTV},
        "shocks": [{"type": "equity_falls", "parties": "all", "by": {"value": 0.5, "low": 0.3, "high": 0.7}}],
    },
    "perfect-storm": {
        "name": "perfect-storm",
        "title": "All three at once",
        "title_de": "Alles zugleich",
        "description": "OpenAI cannot pay, capital markets close and valuations fall by half, together.",
        "quote": {"text": "Sollte nur eine der beteiligten Firmen ins Schwanken geraten, kann aus den "
                          "Abhängigkeiten schnell ein Teufelskreis werden.", **_NTV},
        "shocks": [
            {"type": "pays_fraction", "party": "openai",
             "fraction": {"value": 0.0, "low": 0.0, "high": 0.25, "distribution": "uniform"}},
            {"type": "funding_freeze"},
            {"type": "equity_falls", "parties": "all", "by": {"value": 0.5, "low": 0.3, "high": 0.7}},
        ],
    },
}


def builtin(name: str) -> Scenario:
    if name not in BUILTIN:
        raise ScenarioError(f"no built-in scenario {name!r}; there are: {', '.join(BUILTIN)}")
    return Scenario.model_validate(BUILTIN[name])


def load_scenario(spec: str | Path | Scenario) -> Scenario:
    """A scenario by built-in name, from a YAML file, or as given.  Errors name file, line, field."""
    if isinstance(spec, Scenario):
        return spec
    if isinstance(spec, str) and spec in BUILTIN:
        return builtin(spec)
    path = Path(spec)
    if not path.is_file():
        raise ScenarioError(f"{spec}: neither a scenario file nor a built-in scenario ({', '.join(BUILTIN)})")
    import yaml

    from ..ledger.locate import TextLocator

    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ScenarioError(f"{where}: not valid YAML: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}:1: a scenario is a mapping with name, shocks, model ...")
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        locate = TextLocator(text)
        lines = []
        for problem in error.errors():
            loc = tuple(part for part in problem["loc"] if not (isinstance(part, str) and part in {
                "pays_fraction", "revenue_falls", "equity_falls", "funding_freeze", "list[str]", "literal['all']"}))
            line = locate(loc) or 1
            field = ".".join(str(part) for part in loc) or "(top)"
            lines.append(f"{path}:{line}: {field}: {problem['msg']}")
        raise ScenarioError("\n".join(dict.fromkeys(lines))) from None
