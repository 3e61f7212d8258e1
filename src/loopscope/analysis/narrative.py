"""One-sentence narratives of round trips, in English and German.

The wording is declared as data (one phrase per deal kind and language) and filled from a
cycle's steps; amounts keep their uncertainty ("up to", "≈", "at least", "undisclosed").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from ..display import money

if TYPE_CHECKING:
    from .cycles import Step

LANGS = ("en", "de")

#: How a step of each deal kind is told: ``{a}`` pays, ``{b}`` receives, ``{x}`` the amount.
PHRASES: dict[str | None, dict[str, str]] = {
    "equity": {"en": "{a} invests {x} in {b}", "de": "{a} investiert {x} in {b}"},
    "purchase": {"en": "{a} buys {x} from {b}", "de": "{a} kauft bei {b} für {x}"},
    "credits": {"en": "{a} grants {b} {x} in credits", "de": "{a} gewährt {b} Guthaben über {x}"},
    "warrant": {"en": "{a} grants {b} warrants worth {x}", "de": "{a} gewährt {b} Optionsscheine im Wert von {x}"},
    "backstop": {"en": "{a} guarantees {b} purchases of {x}", "de": "{a} garantiert {b} Abnahmen über {x}"},
    "loan": {"en": "{a} lends {b} {x}", "de": "{a} leiht {b} {x}"},
    "lease": {"en": "{a} pays {b} {x} in rent", "de": "{a} zahlt {b} {x} Miete"},
    None: {"en": "{a} pays {b} {x}", "de": "{a} zahlt {b} {x}"},
}

_WORDS = {
    "en": {
        "undisclosed": "an undisclosed amount", "at_least": "at least {x}", "up_to": "up to {x}", "about": "≈ {x}",
        "more": " and {n} more deal", "more_plural": " and {n} more deals",
        "bound": "at most {x} can go round this loop",
        "about_bound": "about {x} can go round this loop ({lo} to {hi})",
        "open": "{x} or more can go round this loop (from {lo}; an amount is undisclosed)",
        "unknown": "how much goes round is unknown: {n} amount undisclosed",
        "unknown_plural": "how much goes round is unknown: {n} amounts undisclosed",
        "ordered": ", and the deals follow each other in time",
        "back": "; the money is back with {a} after {d} days",
        "back_one": "; the money is back with {a} after {d} day",
        "back_same": "; the money is back with {a} the same day",
    },
    "de": {
        "undisclosed": "einen nicht genannten Betrag", "at_least": "mindestens {x}", "up_to": "bis zu {x}",
        "about": "≈ {x}", "more": " und {n} weiterer Deal", "more_plural": " und {n} weitere Deals",
        "bound": "höchstens {x} können so im Kreis fließen",
        "about_bound": "etwa {x} können so im Kreis fließen ({lo} bis {hi})",
        "open": "{x} oder mehr können so im Kreis fließen (ab {lo}; ein Betrag ist nicht genannt)",
        "unknown": "wie viel im Kreis fließt, ist offen: {n} Betrag ist nicht genannt",
        "unknown_plural": "wie viel im Kreis fließt, ist offen: {n} Beträge sind nicht genannt",
        "ordered": ", und die Deals folgen zeitlich aufeinander",
        "back": "; nach {d} Tagen ist das Geld wieder bei {a}",
        "back_one": "; nach {d} Tag ist das Geld wieder bei {a}",
        "back_same": "; am selben Tag ist das Geld wieder bei {a}",
    },
}


def _day(day: date, lang: str) -> str:
    return day.isoformat() if lang == "en" else day.strftime("%d.%m.%Y")


def step_amount(step: Step, lang: str) -> str:
    """A step's amount with its uncertainty, as words."""
    words = _WORDS[lang]
    if math.isnan(step.amount_usd):
        return words["undisclosed"]
    x = money(step.amount_usd, lang=lang)
    if step.undisclosed:
        return words["at_least"].format(x=x)
    if step.low_usd == 0 and step.high_usd == step.amount_usd and step.amount_usd > 0:
        return words["up_to"].format(x=x)
    if step.low_usd < step.amount_usd or step.high_usd > step.amount_usd:
        return words["about"].format(x=x)
    return x


def tell_step(step: Step, a: str, b: str, lang: str, dates: Sequence[date | None]) -> str:
    """``Nvidia invests up to $100bn in OpenAI (nvidia-openai-loi-2025, 2025-09-22)``."""
    words = _WORDS[lang]
    kind = step.kinds[0] if step.kinds else None
    text = PHRASES.get(kind, PHRASES[None])[lang].format(a=a, b=b, x=step_amount(step, lang))
    detail = []
    if step.deals:
        detail.append(step.deals[0])
    if dates and dates[0] is not None:
        detail.append(_day(dates[0], lang))
    if detail:
        more = len(step.deals) - 1
        extra = (words["more"] if more == 1 else words["more_plural"]).format(n=more) if more > 0 else ""
        text += f" ({', '.join(detail)}{extra})"
    return text


def tell_cycle(
    steps: Sequence[Step],
    names: Sequence[str],
    step_dates: Sequence[Sequence[date | None]],
    amount: float,
    low: float,
    high: float,
    in_time_order: bool,
    temporal: bool,
    lang: str,
) -> str:
    """The whole round trip as one sentence: every step with deal, amount and date, then how much
    can go round (or that it is unknown), and whether (or after how long) the money comes back."""
    words = _WORDS[lang]
    parts = [
        tell_step(step, names[i], names[(i + 1) % len(names)], lang, step_dates[i]) for i, step in enumerate(steps)
    ]
    if math.isnan(amount):
        unknown = sum(1 for s in steps if math.isnan(s.amount_usd))
        end = (words["unknown"] if unknown == 1 else words["unknown_plural"]).format(n=unknown)
    else:
        x, lo = money(amount, lang=lang), money(low, lang=lang)
        if math.isinf(high):
            end = words["open"].format(x=x, lo=lo)
        elif low < amount or high > amount:
            end = words["about_bound"].format(x=x, lo=lo, hi=money(high, lang=lang))
        else:
            end = words["bound"].format(x=x)
    if temporal:
        first, last = step_dates[0][0], step_dates[-1][0]
        if first is not None and last is not None:
            days = (last - first).days
            key = "back_same" if days == 0 else "back_one" if days == 1 else "back"
            end += words[key].format(a=names[0], d=days)
    elif in_time_order:
        end += words["ordered"]
    return f"{', '.join(parts)}: {end}."
