"""How numbers and amounts are written for people, in English and German.

Formatting only: every figure shown keeps its unit and says how certain it is
("up to", "≈", a range, "undisclosed").
"""

from __future__ import annotations

from .ledger.model import Amount

_SCALES = {
    "en": ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")),
    "de": ((1e12, "Bio."), (1e9, "Mrd."), (1e6, "Mio."), (1e3, "Tsd.")),
}
_WORDS = {
    "en": {"up_to": "up to", "undisclosed": "undisclosed", "about": "≈"},
    "de": {"up_to": "bis zu", "undisclosed": "nicht offengelegt", "about": "≈"},
}
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def _number(value: float, lang: str) -> str:
    """At most two decimals, trailing zeros dropped, thousands grouped; German separators for 'de'."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    if lang == "de":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def money(value: float | None, currency: str = "USD", lang: str = "en") -> str:
    """``$22.4bn`` in English, ``22,4 Mrd. $`` in German (``−$3bn`` below zero); ``–`` for None or NaN."""
    if value is None or value != value:
        return "–"
    if value < 0:
        return "−" + money(-value, currency, lang)
    symbol = _SYMBOLS.get(currency, currency)
    suffix = ""
    for scale, name in _SCALES[lang]:
        if abs(value) >= scale:
            value, suffix = value / scale, name
            break
    number = _number(value, lang)
    if lang == "de":
        return f"{number} {suffix} {symbol}".replace("  ", " ")
    return f"{symbol}{number}{suffix}" if len(symbol) == 1 else f"{number}{suffix} {symbol}"


def amount(a: Amount, lang: str = "en") -> str:
    """An amount with its uncertainty: ``up to $100bn``, ``≈ $22.4bn``, ``$20bn–$25bn``, ``undisclosed``."""
    words = _WORDS[lang]
    if a.kind == "undisclosed":
        return words["undisclosed"]
    if a.kind == "range":
        text = f"{money(a.low, a.currency, lang)}–{money(a.high, a.currency, lang)}"
        return text if a.value is None else f"{words['about']} {money(a.value, a.currency, lang)} ({text})"
    text = money(a.value, a.currency, lang)
    if a.kind == "up_to":
        return f"{words['up_to']} {text}"
    if a.kind == "estimate":
        text = f"{words['about']} {text}"
        if a.low is not None and a.high is not None:
            text += f" ({money(a.low, a.currency, lang)}–{money(a.high, a.currency, lang)})"
        elif a.low is not None:
            text += f" (≥ {money(a.low, a.currency, lang)})"
        elif a.high is not None:
            text += f" (≤ {money(a.high, a.currency, lang)})"
    return text
