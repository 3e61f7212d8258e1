"""Hypothesis strategies that build valid ledgers, with awkward text, numbers and dates."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

from loopscope.ledger import Ledger
from loopscope.ledger.model import Deal, Figure, Party, Rate
from loopscope.ledger.vocabulary import DEAL_KINDS, LINK_RELATIONS, PARTY_KINDS, STATUSES, UNITS

ids = st.from_regex(r"[a-z0-9][a-z0-9-]{0,12}", fullmatch=True)
# any printable text, including quotes, markup, colons, hashes, unicode and line breaks; never blank
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1, max_size=40,
).filter(lambda s: s.strip() != "")
tricky = st.sampled_from([
    "yes", "No", "null", "~", "true", "2025-01-01", "12", "1e9", "0x1F", ".inf", "- item", "key: value",
    "a #comment", "<script>alert('x')</script>", "Tom & Jerry \"quoted\"", "trailing ", " leading", "multi\nline",
    "tab\there", "ünïcödé", "€100bn", "NEL\x85break", "line\u2028sep", "[list]", "{map}", "@at", "`tick`", "%pct",
    "!bang", "&anchor", "*alias", "|pipe", ">fold", "'single'", "back\\slash", "colon:", "https://x.org/a?b=c#d",
])
texts = st.one_of(text, tricky)
urls = st.builds(lambda host, path: f"https://{host}.example/{path}", ids, st.from_regex(r"[A-Za-z0-9_%#?=&./-]{0,30}", fullmatch=True))
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31))
positive = st.one_of(
    st.floats(min_value=1e-6, max_value=1e15, allow_nan=False, allow_infinity=False),
    st.integers(min_value=1, max_value=10**15).map(float),
    st.sampled_from([100e9, 22.4e9, 6.3e9, 350e6, 1.4e12, 0.1, 1 / 3]),
)
currencies = st.sampled_from(["USD", "USD", "EUR", "JPY", "GBP"])


@st.composite
def sources(draw):
    record = {"url": draw(urls), "publisher": draw(texts)}
    for key, strategy in (("title", texts), ("date", days), ("quote", texts)):
        if draw(st.booleans()):
            record[key] = draw(strategy)
    return record


@st.composite
def amounts(draw, currency=None):
    kind = draw(st.sampled_from(["exact", "up_to", "estimate", "range", "undisclosed"]))
    record = {"currency": currency or draw(currencies), "kind": kind}
    if kind == "undisclosed":
        return record
    a, b, c = sorted(draw(st.lists(positive, min_size=3, max_size=3)))
    if kind == "exact":
        record["value"] = b
    elif kind == "up_to":
        record["value"] = b
        if draw(st.booleans()):
            record["low"] = a
    elif kind == "estimate":
        record["value"] = b
        if draw(st.booleans()):
            record["low"] = a
        if draw(st.booleans()):
            record["high"] = c
    else:
        record.update(low=a, high=c)
        if draw(st.booleans()):
            record["value"] = b
    return record


@st.composite
def horizons(draw, start: date):
    form = draw(st.sampled_from(["date", "span", "years", "shares", "amounts"]))
    if form == "date":
        return {"date": draw(days)}
    if form == "span":
        end = start + timedelta(days=draw(st.integers(0, 4000)))
        return {"start": start, "end": end}
    if form == "years":
        return {"start": start, "years": draw(st.sampled_from([1, 2, 5, 0.5, 7.25]))}
    dates = sorted(draw(st.lists(days, min_size=1, max_size=4)))
    if form == "shares":
        weights = draw(st.lists(st.integers(1, 9), min_size=len(dates), max_size=len(dates)))
        total = sum(weights)
        shares = [w / total for w in weights]
        shares[-1] = 1 - sum(shares[:-1])
        if shares[-1] <= 0 or abs(sum(shares) - 1) > 1e-9:
            return {"date": dates[0]}
        return {"schedule": [{"date": d, "share": s} for d, s in zip(dates, shares)]}
    return {"schedule": [{"date": d, "amount": draw(positive)} for d in dates]}


@st.composite
def ledgers(draw, max_parties: int = 6, max_deals: int = 8) -> Ledger:
    party_ids = draw(st.lists(ids, min_size=2, max_size=max_parties, unique=True))
    parties = []
    for pid in party_ids:
        record = {"id": pid, "name": draw(texts), "kind": draw(st.sampled_from(PARTY_KINDS))}
        if draw(st.booleans()):
            record["aliases"] = draw(st.lists(texts, max_size=3))
        if draw(st.booleans()):
            record["ticker"] = draw(texts)
        if draw(st.booleans()):
            record["country"] = draw(st.sampled_from(["US", "JP", "DE", "NO", "AE"]))
        if draw(st.booleans()):
            record["notes"] = draw(texts)
        parties.append(Party.model_validate(record))

    deal_ids = draw(st.lists(ids.filter(lambda i: i not in party_ids), max_size=max_deals, unique=True))  # a deal id is never a party id
    deals = []
    for did in deal_ids:
        src, dst = draw(st.lists(st.sampled_from(party_ids), min_size=2, max_size=2, unique=True))
        announced = draw(days)
        source_list = draw(st.lists(sources(), min_size=1, max_size=3))
        statuses = draw(st.lists(st.sampled_from([s for s in STATUSES if s != "superseded"]), min_size=1, max_size=3))
        history, day = [], announced
        for status in statuses:
            event = {"date": day, "status": status}
            if draw(st.booleans()):
                event["note"] = draw(texts)
            if draw(st.booleans()):
                event["source"] = draw(st.sampled_from(source_list))["url"]
            if draw(st.booleans()):
                event["amount"] = draw(amounts())
            history.append(event)
            day = day + timedelta(days=draw(st.integers(0, 400)))
        record = {
            "id": did, "kind": draw(st.sampled_from(list(DEAL_KINDS))), "from": src, "to": dst,
            "title": draw(texts), "announced": announced, "amount": draw(amounts()), "history": history,
            "sources": source_list,
        }
        if draw(st.booleans()):
            record["horizon"] = draw(horizons(announced))
        if draw(st.booleans()):
            record["units"] = [{"value": draw(positive), "unit": draw(st.sampled_from(UNITS))}]
        others = [d for d in deal_ids if d != did]
        if others and draw(st.booleans()):
            record["links"] = [{"deal": draw(st.sampled_from(others)), "relation": draw(st.sampled_from(LINK_RELATIONS))}]
            if draw(st.booleans()):
                record["links"][0]["note"] = draw(texts)
        if others and draw(st.booleans()):
            record["history"].append({"date": day, "status": "superseded"})
            record["superseded_by"] = draw(st.sampled_from(others))
        if draw(st.booleans()):
            record["notes"] = draw(texts)
        deals.append(Deal.model_validate(record))

    figures = []
    for i in range(draw(st.integers(0, 4))):
        metric = draw(st.sampled_from(["revenue", "net_income", "rpo", "market_cap", "customer_share", "shares_outstanding"]))
        record = {"id": f"figure-{i}", "party": draw(st.sampled_from(party_ids)), "metric": metric, "sources": draw(st.lists(sources(), min_size=1, max_size=2))}
        if metric in ("revenue", "net_income"):
            start = draw(days)
            record["period"] = {"start": start, "end": start + timedelta(days=draw(st.integers(0, 400)))}
        else:
            record["date"] = draw(days)
        if metric == "customer_share":
            record.update(value=draw(st.floats(0, 1)), unit="ratio", kind="estimate",
                          counterparty=draw(st.sampled_from(party_ids)), of="rpo")
        elif metric == "shares_outstanding":
            record.update(value=float(draw(st.integers(1, 10**12))), unit="shares", kind="exact")
        else:
            value = draw(positive) * (-1 if metric == "net_income" and draw(st.booleans()) else 1)
            record.update(value=value, unit=draw(currencies), kind="exact")
        if draw(st.booleans()):
            record["label"] = draw(texts)
        figures.append(Figure.model_validate(record))

    rates = [Rate.model_validate({"currency": c, "date": draw(days), "usd": draw(positive), "source": draw(sources())})
             for c in ("EUR", "JPY", "GBP")]
    return Ledger(parties, deals, figures, rates)
