"""FollowTheMoney (FtM) entities: the data model of OCCRP's Aleph and of OpenSanctions.

An FtM file is JSON lines, one entity a line: ``{"id": ..., "schema": ..., "properties":
{name: [text, ...]}}``.  :func:`write` exports a ledger as such a file (UTF-8, sorted by entity
id, so that a ledger always gives the same bytes and FtM's sorted merges work);
:func:`read_entities` imports one, whether loopscope wrote it or another tool (Aleph,
OpenSanctions, a ``ftm`` mapping) did.  :func:`validate` checks entities against the reference
library.  Writing needs nothing beyond loopscope; reading and validating need the FtM model
(``pip install 'loopscope[ftm]'``), which knows every schema and property.

Export
======

Every entity carries its full loopscope record, so that a round trip is exact (:ref:`payload`);
the other properties are for FtM users and tools.

=====================  =========================================================================
loopscope              FtM entity
=====================  =========================================================================
party                  id ``loopscope-party-<id>``; schema by kind: ``company``, ``fund`` and
                       ``venture`` → ``Company`` (FtM models funds and joint ventures as companies,
                       and only an ``Asset`` such as a Company can be owned), ``government`` →
                       ``PublicBody``, ``person`` → ``Person``, ``other`` → ``LegalEntity``
                       (FtM's "not specified").  ``name`` → ``name``; ``aliases`` → ``alias``;
                       ``ticker`` → ``ticker`` (a Company; other schemata have no ticker: a
                       ``summary`` line "Ticker: X"); ``country`` → ``jurisdiction`` (``country``
                       for a Person), lower-case as in FtM; ``notes`` → ``notes``; ``kind`` →
                       ``classification``
deal                   id ``loopscope-deal-<id>``; ``recordId`` = the deal id; ``date`` = announced;
                       ``sourceUrl`` = every source's URL, ``publisher`` = every source's
                       publisher (FtM keeps no pairing between them: the record does).
                       ``summary`` lines: the amount in words (below), "Status: <current> since
                       <date>", the deal kind and its roles, physical units, when the money moves,
                       what superseded the deal, the deal's notes.  By kind (value moves
                       ``from`` → ``to`` for every kind, see DEAL_KINDS; FtM's roles follow the
                       money, so a loan's edge points the other way):
``equity``             ``Ownership``: ``owner`` = investor (from), ``asset`` = company (to);
                       ``sharesValue``/``sharesCurrency`` = the amount; ``startDate`` = the
                       horizon's first day, else announced; ``status`` = current status; units
                       ``shares`` → ``sharesCount``, ``percent`` → ``percentage``; the title is the
                       first ``summary`` line.  Equity in a party that is not an FtM Asset (a
                       government, person or other) becomes a ``Payment`` (programme ``equity``)
``purchase``,          ``Payment``: ``payer`` = from (buyer, investor, issuer, guarantor, lessee),
``credits``,           ``beneficiary`` = to (seller, recipient, holder, provider, lessor);
``warrant``,           ``purpose`` = title; ``programme`` = the deal kind; ``amount``/``currency``;
``backstop``,          ``startDate``/``endDate`` = the horizon's first and last day
``lease``
``loan``               ``Debt``: ``debtor`` = borrower (to), ``creditor`` = lender (from);
                       ``amount``/``currency``; ``startDate`` = the horizon's first day (its last
                       is not the repayment, so no ``endDate``); the title is the first ``summary``
figure                 ``Note`` (FtM has no schema for reported values): id
                       ``loopscope-figure-<id>``; ``entity`` = the party (and the counterparty);
                       ``name`` = label, else party, metric and date; ``summary`` = the value in
                       words; ``notes``; ``sourceUrl``/``publisher``
rate                   ``Note`` without ``entity``: id ``loopscope-rate-<currency>-<date>``;
                       ``summary`` "1 EUR = 1.08 USD on 2025-01-01"; ``sourceUrl``/``publisher``
=====================  =========================================================================

Amounts.  FtM's ``amount`` (and ``sharesValue``) is a bare number that every FtM user and tool
reads as exact, so only an ``exact`` amount goes there.  An ``up_to``, ``estimate`` or ``range``
amount is stated in words as the first ``summary`` line ("Amount: up to 100,000,000,000 USD (a
cap, not an exact figure)"), an undisclosed one as "Amount: undisclosed"; ``currency`` is always
given.  Nothing is converted to US dollars (no ``amountUsd``): conversions are the analysis' job.

Source dates are publication dates; FtM's ``retrievedAt`` is when a crawler fetched a page, so it
is not written (the dates are in the record).

Ids.  FtM ids are slugs or hashes, often prefixed by their dataset (``ofac-1234``); an id must
match ``[0-9a-zA-Z]([0-9a-zA-Z.-]*[0-9a-zA-Z])?`` and be at most 200 characters.
``loopscope-<entity>-<id>`` follows that convention; a loopscope id that would break it (one
ending in ``-``, or a very long one) gets ``loopscope-<entity>.<sha1 of the id>`` instead (the dot
never occurs in the readable form, so ids stay unique).

Values.  FtM cleans every value it reads (Unicode NFC, control and invisible characters removed,
spaces squashed in names, surrounding quotes stripped from names, URLs normalised).  The visible
properties are written already cleaned in that way, so FtM keeps every value exactly as written
(:func:`validate` checks it); the exact text is in the record.

.. _payload:

The record.  ``description`` holds one value ``loopscope:`` followed by ASCII-only JSON
``{"version": 1, "section": "deals", "record": {...}}``, the entity's canonical loopscope record
(:func:`~loopscope.ledger.records.to_record`, dates as ``YYYY-MM-DD``).  ``description`` is a text
property of every schema used here (Thing and Interval), is kept by FtM's cleaning and by Aleph
(``indexText`` is not: Aleph deletes it when indexing), and the prefix tells it apart from any
other description.

Import
======

:func:`read_entities` returns ``(ledger, notes)``: the validated :class:`~loopscope.ledger.Ledger`
(entities in file order) and one note per entity it left out ("file:line: Address x: skipped
(...)").  Every problem is collected and raised as one :class:`~loopscope.ledger.LedgerError`,
each :class:`~loopscope.ledger.Problem` with the file, the line of the entity, the FtM schema or
loopscope entity, the id and the FtM property (or the record's field):

* the file: not UTF-8, a line that is not JSON or not a JSON object, a missing or invalid ``id``
  or ``schema``, a schema FtM does not know or an abstract one, a property the schema does not
  have (or a reverse one), values that are not a list of text, the same id twice (aggregate FtM
  fragments first: ``ftm aggregate``);
* an entity with a loopscope record is read from the record alone (its other properties are
  ignored); a record that is not valid JSON, of another version or in the wrong schema is a
  problem;
* then the ledger's own rules, exactly as for YAML: each problem names the entity's line.

Entities without a record (from other tools):

=========================  ======================================================================
FtM                        loopscope
=========================  ======================================================================
``Company``,               a party of kind ``company``, ``other``, ``government``, ``person``,
``Organization``,          ``other``.  id: the FtM id as a slug (``Acme Corp.1`` →
``PublicBody``, ``Person``, ``acme-corp-1``), made unique with ``-2``, ``-3``...; ``name``: the first
``LegalEntity``            name (a party needs one), the other names and ``alias`` → aliases;
                           ``ticker``; country: ``jurisdiction``, else ``country``, else
                           ``mainCountry`` (upper-case); ``notes``, ``summary`` and
                           ``description`` → notes
``Payment``                a deal from ``payer`` to ``beneficiary``; kind ``purchase``, or
                           ``programme`` when it names a loopscope deal kind
``Ownership``              an ``equity`` deal from ``owner`` to ``asset``; amount from
                           ``sharesValue``/``sharesCurrency``; ``sharesCount`` and a numeric
                           ``percentage`` → units (others → notes)
``Debt``                   a ``loan`` from ``creditor`` to ``debtor`` (both required)
every other schema         skipped, with a note (a Note without a loopscope record too)
=========================  ======================================================================

For the deals: announced = the earliest ``date``, else the earliest ``startDate`` (a full day;
a datetime gives its day; a partial date such as ``2025-03`` is a problem: the day is not
guessed); horizon = ``startDate`` to ``endDate`` when both are given; sources = every
``sourceUrl``, each with the ``publisher`` values (joined with "; "), or the URL's host when the
entity names no publisher; ``retrievedAt`` goes to the notes (it is not a publication date).  A
deal without a date or without a ``sourceUrl`` is a problem: nothing is invented.  The amount is
``amount`` + ``currency`` (exact), else ``amountUsd`` (USD) or ``amountEur`` (EUR), else
undisclosed in ``currency``; with neither amount nor currency it is undisclosed in USD and the
notes say so (an undisclosed amount's currency enters no computation).  Status: ``completed`` (an
FtM Payment, Ownership or Debt records money paid, a stake held, a debt owed), or an FtM
``status`` that names a loopscope status.  Title: ``purpose``, else "Payment from A to B" (a
label, not a fact).  A reference to an id not in the file is a problem; a deal whose party is an
entity loopscope skips (an Ownership of a Vessel) is skipped with a note.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..ledger.build import RawDocument, build, format_path
from ..ledger.files import read_text_file, write_atomic
from ..ledger.ledger import Ledger
from ..ledger.model import SECTIONS, Amount, Deal, Figure, Party, Rate, Source, entity_key, record_key
from ..ledger.problems import LedgerError, Problem
from ..ledger.records import jsonable, to_record
from ..ledger.vocabulary import DEAL_KINDS, STATUSES

#: The text property that carries each entity's loopscope record, and the prefix that marks it.
PAYLOAD_PROPERTY = "description"
PAYLOAD_PREFIX = "loopscope:"
PAYLOAD_VERSION = 1

#: loopscope party kind → FtM schema
PARTY_SCHEMA = {
    "company": "Company", "fund": "Company", "venture": "Company",
    "government": "PublicBody", "person": "Person", "other": "LegalEntity",
}
#: FtM schema → loopscope party kind (import)
PARTY_KIND = {"Company": "company", "Organization": "other", "PublicBody": "government", "Person": "person",
              "LegalEntity": "other"}
#: FtM deal schema → (loopscope kind, property of the ``from`` party, property of the ``to`` party)
DEAL_ROLES = {
    "Payment": ("purchase", "payer", "beneficiary"),
    "Ownership": ("equity", "owner", "asset"),
    "Debt": ("loan", "creditor", "debtor"),
}
#: the FtM schemata that can be the ``asset`` of an Ownership (FtM's Asset), among the party schemata
_ASSET_SCHEMATA = frozenset({"Company"})
#: loopscope section → the noun in FtM ids and the FtM schemata its entities may have
_SECTION_NOUN = {"parties": "party", "deals": "deal", "figures": "figure", "rates": "rate"}
_SECTION_SCHEMATA = {
    "parties": frozenset(PARTY_KIND), "deals": frozenset(DEAL_ROLES),
    "figures": frozenset({"Note"}), "rates": frozenset({"Note"}),
}

_FTM_ID = re.compile(r"^[0-9a-zA-Z]([0-9a-zA-Z.\-]*[0-9a-zA-Z])?$")
_FTM_ID_MAX = 200
_QUOTED = re.compile(r"^[\"'](.*)[\"']$")
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$")
_PLAIN_NUMBER = re.compile(r"^[+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]+)?$")
_INSTALL = "reading and validating FollowTheMoney entities needs the followthemoney library: pip install 'loopscope[ftm]'"


# ---------------------------------------------------------------------------------------------
# ids and values as FtM keeps them
# ---------------------------------------------------------------------------------------------


def entity_id(section: str, key: str) -> str:
    """The FtM id of a loopscope entity: ``loopscope-deal-<id>`` (rates: ``loopscope-rate-eur-2025-01-01``)."""
    noun = _SECTION_NOUN[section]
    if section == "rates":
        key = key.replace("@", "-").lower()
    readable = f"loopscope-{noun}-{key}"
    if _FTM_ID.fullmatch(readable) and len(readable) <= _FTM_ID_MAX:
        return readable
    return f"loopscope-{noun}.{hashlib.sha1(key.encode('utf-8')).hexdigest()}"


def _clean(value: str, multiline: bool = False) -> str:
    """Text as FtM keeps it: printable characters only (other spaces and line separators become a
    space, or a line break in ``multiline`` text; invisible and control characters go), Unicode NFC,
    no surrounding spaces; single-line text has no runs of spaces."""
    out = []
    for char in value.replace("\r\n", "\n"):
        if char.isprintable() or char == " ":
            out.append(char)
        elif multiline and char in "\n\r\u2028\u2029\x85\x0b\x0c":
            out.append("\n")
        elif char.isspace() or unicodedata.category(char).startswith("Z"):
            out.append(" ")
    text = unicodedata.normalize("NFC", "".join(out))
    if not multiline:
        text = re.sub(" {2,}", " ", text)
    return text.strip()


def _clean_name(value: str) -> str:
    """A name as FtM keeps it: also without surrounding quotes (FtM strips one pair each time it cleans)."""
    text = _clean(value)
    while (match := _QUOTED.match(text)) is not None:
        text = _clean(match.group(1))
    return text


def _clean_url(value: str) -> str:
    """A URL as FtM normalises it: lower-case scheme, a path of at least ``/``, no empty query or fragment."""
    parsed = urlparse(_clean(value))
    parsed = parsed._replace(scheme=parsed.scheme.lower(), path=parsed.path.strip() or "/")
    return parsed.geturl()


def _decimal(number: float) -> str:
    """A number in plain decimal notation that reads back exactly (``100000000000``, ``0.000001``)."""
    text = format(Decimal(repr(float(number))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _grouped(number: float) -> str:
    """A number for people: ``100,000,000,000``, ``1,234.5``."""
    whole, _, fraction = _decimal(number).partition(".")
    return f"{int(whole):,}" + (f".{fraction}" if fraction else "")


def _unique(values: Iterable[str]) -> list[str]:
    """Non-empty values, first occurrence kept (FtM keeps each value of a property once)."""
    seen: dict[str, None] = {}
    for value in values:
        if value:
            seen.setdefault(value, None)
    return list(seen)


# ---------------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------------


def _payload(section: str, entity: Any) -> str:
    data = {"version": PAYLOAD_VERSION, "section": section, "record": jsonable(to_record(entity))}
    return PAYLOAD_PREFIX + json.dumps(data, ensure_ascii=True, separators=(",", ":"))


def _bounded(value: float | None, low: float | None, high: float | None, kind: str, unit: str) -> str:
    """A value with its uncertainty in words; never a bare number unless it is exact."""
    if kind == "undisclosed":
        return f"undisclosed ({unit})"
    if kind == "exact":
        return f"{_grouped(value)} {unit} (exact)"  # type: ignore[arg-type]
    if kind == "range":
        text = f"between {_grouped(low)} and {_grouped(high)} {unit} (a range, not an exact figure"  # type: ignore[arg-type]
        return text + (f"; stated value {_grouped(value)})" if value is not None else ")")
    if kind == "up_to":
        text = f"up to {_grouped(value)} {unit} (a cap, not an exact figure"  # type: ignore[arg-type]
        return text + (f"; at least {_grouped(low)})" if low is not None else ")")
    text = f"about {_grouped(value)} {unit} (an estimate, not an exact figure"  # type: ignore[arg-type]
    if low is not None and high is not None:
        text += f"; between {_grouped(low)} and {_grouped(high)}"
    elif low is not None:
        text += f"; at least {_grouped(low)}"
    elif high is not None:
        text += f"; at most {_grouped(high)}"
    return text + ")"


def _amount_text(amount: Amount) -> str:
    return "Amount: " + _bounded(amount.value, amount.low, amount.high, amount.kind, amount.currency)


def _horizon_text(deal: Deal) -> str | None:
    horizon = deal.horizon
    if horizon is None:
        return None
    if horizon.schedule:
        parts = [f"{item.date} ({_decimal(item.share * 100)}%)" if item.share is not None
                 else f"{item.date} ({_grouped(item.amount)} {deal.amount.currency})" for item in horizon.schedule]  # type: ignore[arg-type]
        text = "Money moves by schedule: " + ", ".join(parts)
    elif horizon.date is not None:
        text = f"Money moves on {horizon.date}"
    elif horizon.end is not None:
        text = f"Money moves from {horizon.start} to {horizon.end}"
    else:
        text = f"Money moves over {_decimal(horizon.years)} years from {horizon.start}"  # type: ignore[arg-type]
    return text + (f" ({horizon.note})" if horizon.note else "")


def _sources(sources: list[Source]) -> dict[str, list[str]]:
    return {
        "sourceUrl": _unique(_clean_url(s.url) for s in sources),
        "publisher": _unique(_clean(s.publisher) for s in sources),
    }


def _entity(ftm_id: str, schema: str, properties: dict[str, list[str]]) -> dict[str, Any]:
    return {"id": ftm_id, "schema": schema,
            "properties": {name: values for name, values in properties.items() if values}}


def _party_entity(party: Party) -> dict[str, Any]:
    schema = PARTY_SCHEMA[party.kind]
    props: dict[str, list[str]] = {
        "name": [_clean_name(party.name) or party.id],
        "alias": _unique(_clean_name(a) for a in party.aliases),
        "classification": [party.kind],
    }
    if party.ticker is not None:
        if schema == "Company":
            props["ticker"] = _unique([_clean(party.ticker)])
        else:
            props["summary"] = _unique([_clean(f"Ticker: {party.ticker}")])
    if party.country is not None:
        props["country" if schema == "Person" else "jurisdiction"] = [party.country.lower()]
    if party.notes is not None:
        props["notes"] = _unique([_clean(party.notes, multiline=True)])
    props[PAYLOAD_PROPERTY] = [_payload("parties", party)]
    return _entity(entity_id("parties", party.id), schema, props)


def _deal_schema(deal: Deal, schemata: dict[str, str]) -> str:
    if deal.kind == "loan":
        return "Debt"
    if deal.kind == "equity" and schemata.get(deal.dst) in _ASSET_SCHEMATA:
        return "Ownership"
    return "Payment"


def _deal_entity(deal: Deal, schemata: dict[str, str]) -> dict[str, Any]:
    schema = _deal_schema(deal, schemata)
    kind = DEAL_KINDS[deal.kind]
    src, dst = entity_id("parties", deal.src), entity_id("parties", deal.dst)
    last = deal.history[-1]
    lines = [
        _amount_text(deal.amount),
        f"Status: {last.status} since {last.date}",
        f"Deal kind: {deal.kind}, from {kind.from_role} {deal.src} to {kind.to_role} {deal.dst} ({kind.description})",
    ]
    if deal.units:
        lines.append("Units: " + "; ".join(f"{_decimal(u.value)} {u.unit}" + (f" ({u.note})" if u.note else "")
                                           for u in deal.units))
    if (horizon := _horizon_text(deal)) is not None:
        lines.append(horizon)
    if deal.superseded_by is not None:
        lines.append(f"Superseded by deal {deal.superseded_by}")
    if deal.notes is not None:
        lines.append(deal.notes)
    exact = _decimal(deal.amount.value) if deal.amount.kind == "exact" else None  # type: ignore[arg-type]
    props: dict[str, list[str]] = {}
    if schema == "Ownership":
        props.update(owner=[src], asset=[dst], sharesValue=[exact] if exact else [],
                     sharesCurrency=[deal.amount.currency],
                     sharesCount=_unique(_decimal(u.value) for u in deal.units if u.unit == "shares"),
                     percentage=_unique(_decimal(u.value) for u in deal.units if u.unit == "percent"),
                     status=[last.status])
        lines.insert(0, deal.title)
    elif schema == "Debt":
        props.update(debtor=[dst], creditor=[src])
        lines.insert(0, deal.title)
    else:
        props.update(payer=[src], beneficiary=[dst], purpose=_unique([_clean(deal.title, multiline=True)]),
                     programme=[deal.kind])
    if schema != "Ownership":
        props.update(amount=[exact] if exact else [], currency=[deal.amount.currency])
    props["date"] = [deal.announced.isoformat()]
    first = deal.horizon.first if deal.horizon is not None else None
    if schema == "Ownership":
        props["startDate"] = [(first or deal.announced).isoformat()]
    elif first is not None:
        props["startDate"] = [first.isoformat()]
        if schema == "Payment":
            props["endDate"] = [deal.horizon.last.isoformat()]  # type: ignore[union-attr]
    props["recordId"] = [deal.id]
    props["summary"] = _unique(_clean(line, multiline=True) for line in lines)
    props.update(_sources(deal.sources))
    props[PAYLOAD_PROPERTY] = [_payload("deals", deal)]
    return _entity(entity_id("deals", deal.id), schema, props)


def _figure_entity(figure: Figure, names: dict[str, str]) -> dict[str, Any]:
    when = f"on {figure.date}" if figure.date is not None else f"over {figure.period.start} to {figure.period.end}"  # type: ignore[union-attr]
    party = names.get(figure.party, figure.party)
    statement = f"{figure.metric} of {party}: {_bounded(figure.value, figure.low, figure.high, figure.kind, figure.unit)} {when}"
    if figure.counterparty is not None:
        statement += f"; counterparty {names.get(figure.counterparty, figure.counterparty)}"
    if figure.of is not None:
        statement += f"; a share of {figure.of}"
    name = figure.label if figure.label is not None else f"{party}: {figure.metric} {when}"
    props: dict[str, list[str]] = {
        "name": [_clean_name(name) or figure.id],
        "entity": _unique([entity_id("parties", figure.party)]
                          + ([entity_id("parties", figure.counterparty)] if figure.counterparty else [])),
        "summary": _unique([_clean(statement, multiline=True)]),
        "notes": _unique([_clean(figure.notes, multiline=True)]) if figure.notes else [],
        **_sources(figure.sources),
        PAYLOAD_PROPERTY: [_payload("figures", figure)],
    }
    return _entity(entity_id("figures", figure.id), "Note", props)


def _rate_entity(rate: Rate) -> dict[str, Any]:
    props: dict[str, list[str]] = {
        "name": [f"{rate.currency} in USD on {rate.date}"],
        "summary": [f"Exchange rate: 1 {rate.currency} = {_decimal(rate.usd)} USD on {rate.date}"],
        **_sources([rate.source]),
        PAYLOAD_PROPERTY: [_payload("rates", rate)],
    }
    return _entity(entity_id("rates", entity_key("rates", rate)), "Note", props)


def to_entities(ledger: Ledger) -> list[dict[str, Any]]:
    """The ledger as FtM entities (plain dicts), sorted by id; see the module documentation for the mapping."""
    schemata = {p.id: PARTY_SCHEMA[p.kind] for p in ledger.parties}
    names = {p.id: p.name for p in ledger.parties}
    entities = [_party_entity(p) for p in ledger.parties]
    entities += [_deal_entity(d, schemata) for d in ledger.deals]
    entities += [_figure_entity(f, names) for f in ledger.figures]
    entities += [_rate_entity(r) for r in ledger.rates]
    return sorted(entities, key=lambda e: e["id"])


def dumps(entities: Iterable[dict[str, Any]]) -> str:
    """Entities as JSON lines (UTF-8 text, one entity a line, each line ending in ``\\n``)."""
    return "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in entities)


def write(ledger: Ledger, out: Path | str) -> list[Path]:
    """Write the ledger as an FtM JSON lines file (atomically); returns ``[out]``."""
    out = Path(out)
    write_atomic(out, dumps(to_entities(ledger)))
    return [out]


# ---------------------------------------------------------------------------------------------
# validation with the reference library
# ---------------------------------------------------------------------------------------------


def _model():
    try:
        from followthemoney import model
    except ImportError as exc:
        raise ImportError(_INSTALL) from exc
    return model


def validate(entities: Iterable[dict[str, Any]]) -> list[str]:
    """What FtM would refuse, drop or change in ``entities``; an empty list when it keeps everything.

    Each entity is loaded with ``model.get_proxy(entity, cleaned=False)`` (FtM cleans every value)
    and every value written must come back unchanged from ``to_dict()``.  Also checked: the id,
    required properties and value lengths (``Schema.validate``), duplicate ids and that each
    reference points at an entity of the property's range when that entity is among ``entities``.
    Needs the followthemoney library.
    """
    model = _model()
    from followthemoney.exc import InvalidData

    entities = list(entities)
    messages: list[str] = []
    schemata: dict[str, Any] = {}
    for entity in entities:
        if isinstance(entity, dict) and isinstance(entity.get("id"), str) and model.get(str(entity.get("schema"))):
            schemata.setdefault(entity["id"], model.get(entity["schema"]))
    seen: set[str] = set()
    for entity in entities:
        if not isinstance(entity, dict):
            messages.append(f"not an entity (a JSON object): {entity!r:.60}")
            continue
        ident, schema = entity.get("id"), model.get(str(entity.get("schema")))
        name = f"{entity.get('schema')} {ident}"
        if not isinstance(ident, str) or not _FTM_ID.fullmatch(ident) or len(ident) > _FTM_ID_MAX:
            messages.append(f"{name}: the id is not a valid FtM id")
        elif ident in seen:
            messages.append(f"{name}: duplicate id")
        seen.add(str(ident))
        if schema is None or schema.abstract:
            messages.append(f"{name}: unknown or abstract schema")
            continue
        written = entity.get("properties") or {}
        try:
            proxy = model.get_proxy(entity, cleaned=False)
        except (InvalidData, ValueError, TypeError) as exc:
            messages.append(f"{name}: FtM refuses the entity: {exc}")
            continue
        kept = proxy.to_dict()["properties"]
        for prop, values in written.items():
            if prop not in schema.properties:
                messages.append(f"{name}: {prop}: not a property of {schema.name}; FtM drops it")
                continue
            after = kept.get(prop, [])
            for value in values:
                if value not in after:
                    messages.append(f"{name}: {prop}: FtM drops or changes {value!r}")
            for value in after:
                if value not in values:
                    messages.append(f"{name}: {prop}: FtM makes {value!r} of a written value")
            target_range = schema.properties[prop].range
            if target_range is not None and schema.properties[prop].type.name == "entity":
                for value in values:
                    target = schemata.get(value)
                    if target is not None and not target.is_a(target_range):
                        messages.append(f"{name}: {prop}: {value} is a {target.name}, not a {target_range.name}")
        try:
            schema.validate(proxy.to_dict())
        except InvalidData as exc:
            details = getattr(exc, "errors", {}) or {}
            for prop, error in (details.get("properties") or {}).items():
                messages.append(f"{name}: {prop}: {error}")
    return messages


# ---------------------------------------------------------------------------------------------
# import
# ---------------------------------------------------------------------------------------------


def slugify(text: str) -> str:
    """A loopscope id made of ``text``: lower-case letters and digits, other runs of characters a '-'."""
    slug = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())
    return slug.strip("-") or "entity"


class _Ids:
    """Ids for entities from other tools: the slug of their FtM id, unique among parties and deals."""

    def __init__(self, taken: Iterable[str]):
        self.taken = set(taken)

    def claim(self, ftm_id: str) -> str:
        base = slugify(ftm_id)
        candidate, n = base, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{base}-{n}"
        self.taken.add(candidate)
        return candidate


class _Input:
    """One parsed entity of the file."""

    def __init__(self, line: int, data: dict[str, Any], schema: Any):
        self.line = line
        self.id: str = data["id"]
        self.schema = schema
        self.props: dict[str, list[str]] = data.get("properties") or {}
        self.payload: tuple[str, dict[str, Any]] | None = None

    def get(self, prop: str) -> list[str]:
        return [v for v in self.props.get(prop, []) if v.strip()]

    def first(self, prop: str) -> str | None:
        values = self.get(prop)
        return values[0] if values else None


class _Reader:
    def __init__(self, file: str):
        self.model = _model()
        self.file = file
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        #: ids of entities left out for problems of their own (a reference to one is not "unknown")
        self.broken: set[str] = set()

    def problem(self, line: int | None, entity: str | None, ident: str | None, field: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, line, entity, ident, field, message))

    def note(self, item: _Input, message: str) -> None:
        self.notes.append(f"{self.file}:{item.line}: {item.schema.name} {item.id}: skipped ({message})")

    # ------------------------------------------------------------------ the file
    def parse(self, rows: Iterable[tuple[int, Any]]) -> list[_Input]:
        items: list[_Input] = []
        first_line: dict[str, int] = {}
        for line, data in rows:
            item = self._entity(line, data)
            if item is None:
                if isinstance(data, dict) and isinstance(data.get("id"), str):
                    self.broken.add(data["id"])
                continue
            if item.id in first_line:
                self.problem(line, item.schema.name, item.id, "id",
                             f"duplicate entity id (first on line {first_line[item.id]}); merge FtM fragments first (ftm aggregate)")
                continue
            first_line[item.id] = line
            items.append(item)
        return items

    def _entity(self, line: int, data: Any) -> _Input | None:
        if not isinstance(data, dict):
            self.problem(line, None, None, None, f"expected an entity (a JSON object), got {type(data).__name__}")
            return None
        ident, schema_name = data.get("id"), data.get("schema")
        shown = ident if isinstance(ident, str) else None
        bad = False
        if not isinstance(ident, str) or not ident.strip():
            self.problem(line, None, None, "id", "an entity needs an id (text)")
            bad = True
        elif not _FTM_ID.fullmatch(ident) or len(ident) > _FTM_ID_MAX:
            self.problem(line, None, ident, "id", f"{ident!r:.80} is not a valid FtM id (letters, digits, '.' and '-', at most 200)")
            bad = True
        if not isinstance(schema_name, str) or not schema_name:
            self.problem(line, None, shown, "schema", "an entity needs a schema (e.g. Company, Payment)")
            return None
        schema = self.model.get(schema_name)
        if schema is None:
            self.problem(line, None, shown, "schema", f"unknown FtM schema {schema_name!r}")
            return None
        if schema.abstract:
            self.problem(line, schema.name, shown, "schema", f"{schema.name} is an abstract FtM schema; entities have a concrete one")
            return None
        props = data.get("properties", {})
        if props is None:
            props = {}
        if not isinstance(props, dict):
            self.problem(line, schema.name, shown, "properties", "expected a mapping of property names to lists of values")
            return None
        for prop, values in props.items():
            known = schema.properties.get(prop)
            if known is None:
                self.problem(line, schema.name, shown, str(prop), f"{schema.name} has no property {prop!r}")
                bad = True
            elif known.stub:
                self.problem(line, schema.name, shown, str(prop),
                             f"{prop!r} is a reverse property; set {known.reverse.name!r} on the {known.range.name} instead")
                bad = True
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                self.problem(line, schema.name, shown, str(prop), "expected a list of text values")
                bad = True
        if bad:
            return None
        item = _Input(line, data, schema)
        self._read_payload(item)
        return item

    def _read_payload(self, item: _Input) -> None:
        marked = [v for v in item.props.get(PAYLOAD_PROPERTY, []) if v.startswith(PAYLOAD_PREFIX)]
        if not marked:
            return
        where = (item.line, item.schema.name, item.id, PAYLOAD_PROPERTY)
        if len(marked) > 1:
            self.problem(*where, f"{len(marked)} loopscope records; an entity carries one")
            return
        try:
            data = json.loads(marked[0][len(PAYLOAD_PREFIX):])
        except json.JSONDecodeError as exc:
            self.problem(*where, f"the loopscope record is not valid JSON ({exc.msg} at character {exc.pos})")
            return
        if not isinstance(data, dict) or not isinstance(data.get("record"), dict) or data.get("section") not in SECTIONS:
            self.problem(*where, "the loopscope record needs version, section (parties, deals, figures or rates) and record")
            return
        if data.get("version") != PAYLOAD_VERSION:
            self.problem(*where, f"loopscope record version {data.get('version')!r} is not supported (expected {PAYLOAD_VERSION})")
            return
        section = data["section"]
        if item.schema.name not in _SECTION_SCHEMATA[section]:
            expected = ", ".join(sorted(_SECTION_SCHEMATA[section]))
            self.problem(*where, f"a loopscope {SECTIONS[section][1]} record on a {item.schema.name} (expected {expected})")
            return
        item.payload = (section, data["record"])

    # ------------------------------------------------------------------ entities of other tools
    def _full_day(self, item: _Input, prop: str) -> str | None | bool:
        """The earliest full day among ``prop``'s values; None without values; False after a problem."""
        days = []
        for value in item.get(prop):
            match = _DAY.match(value.strip())
            if match is None:
                self.problem(item.line, item.schema.name, item.id, prop,
                             f"{value!r} is not a full date (YYYY-MM-DD); loopscope does not guess a day")
                return False
            try:
                date.fromisoformat(match.group(1))
            except ValueError as exc:
                self.problem(item.line, item.schema.name, item.id, prop, f"{value!r} is not a valid date ({exc})")
                return False
            days.append(match.group(1))
        return min(days) if days else None

    def _number(self, item: _Input, prop: str) -> float | None | bool:
        values = item.get(prop)
        if not values:
            return None
        if len(values) > 1:
            self.problem(item.line, item.schema.name, item.id, prop, f"{len(values)} values; a loopscope deal has one amount")
            return False
        text = values[0].strip()
        if not _PLAIN_NUMBER.match(text):
            self.problem(item.line, item.schema.name, item.id, prop, f"{values[0]!r} is not a number (e.g. 1500000 or 1,500,000.50)")
            return False
        return float(text.replace(",", ""))

    def party_record(self, item: _Input, ident: str) -> dict[str, Any] | None:
        names = item.get("name")
        if not names:
            self.problem(item.line, item.schema.name, item.id, "name", "a party needs a name")
            return None
        record: dict[str, Any] = {"id": ident, "name": names[0], "kind": PARTY_KIND[item.schema.name]}
        aliases = [a for a in _unique(names[1:] + item.get("alias")) if a != names[0]]
        if aliases:
            record["aliases"] = aliases
        if "ticker" in item.schema.properties and item.first("ticker"):
            record["ticker"] = item.first("ticker")
        for prop in ("jurisdiction", "country", "mainCountry"):
            if item.first(prop):
                record["country"] = item.first(prop).strip().upper()  # type: ignore[union-attr]
                break
        notes = item.get("notes") + item.get("summary") + [
            v for v in item.get(PAYLOAD_PROPERTY) if not v.startswith(PAYLOAD_PREFIX)]
        if notes:
            record["notes"] = "\n\n".join(notes)
        return record

    def deal_record(self, item: _Input, ident: str, parties: dict[str, tuple[str, str]],
                    known: dict[str, _Input]) -> dict[str, Any] | None:
        kind, src_prop, dst_prop = DEAL_ROLES[item.schema.name]
        where = (item.line, item.schema.name, item.id)
        ends: list[tuple[str, str]] = []
        ok = True
        for prop in (src_prop, dst_prop):
            refs = item.get(prop)
            if len(refs) != 1:
                self.problem(*where, prop, f"a deal needs one {prop}" + (f", got {len(refs)}" if refs else ""))
                ok = False
                continue
            if refs[0] in parties:
                ends.append(parties[refs[0]])
            elif refs[0] not in known:
                if refs[0] not in self.broken:
                    self.problem(*where, prop, f"unknown entity {refs[0]!r} (not in the file)")
                ok = False
            elif known[refs[0]].schema.name not in PARTY_KIND:
                self.note(item, f"its {prop} {refs[0]} is a {known[refs[0]].schema.name}, not a party")
                return None
            else:
                ok = False  # a party with problems of its own: already reported
        announced = self._full_day(item, "date")
        if announced is None:
            announced = self._full_day(item, "startDate")
        if announced is None:
            self.problem(*where, "date", "a deal needs its date (date or startDate); none is given")
        start, end = self._full_day(item, "startDate"), self._full_day(item, "endDate")
        urls = item.get("sourceUrl")
        if not urls:
            self.problem(*where, "sourceUrl", "a deal needs at least one source; the entity has no sourceUrl")
        money = self._amount(item)
        if not ok or not announced or start is False or end is False or not urls or money is None:
            return None
        (src, src_name), (dst, dst_name) = ends
        amount, amount_note = money
        programme = item.first("programme")
        if item.schema.name == "Payment" and programme in DEAL_KINDS:
            kind = programme  # type: ignore[assignment]
        titles = item.get("purpose") if item.schema.name == "Payment" else []
        title = "; ".join(titles) if titles else f"{item.schema.name} from {src_name} to {dst_name}"
        status = next((s.strip().lower() for s in item.get("status") if s.strip().lower() in STATUSES), "completed")
        publishers = item.get("publisher")
        sources = [{"url": url.strip(), "publisher": "; ".join(publishers) if publishers else (urlparse(url.strip()).hostname or url)}
                   for url in _unique(urls)]
        record: dict[str, Any] = {"id": ident, "kind": kind, "from": src, "to": dst, "title": title, "announced": announced,
                                  "amount": amount}
        if start and end:
            record["horizon"] = {"date": start} if start == end else {"start": start, "end": end}
        units, unit_notes = self._units(item)
        if units:
            record["units"] = units
        record["history"] = [{"date": announced, "status": status}]
        notes = item.get("summary") + [v for v in item.get(PAYLOAD_PROPERTY) if not v.startswith(PAYLOAD_PREFIX)]
        notes += unit_notes + ([amount_note] if amount_note else [])
        notes += [f"Sources retrieved on {day} (FtM retrievedAt)" for day in _unique(item.get("retrievedAt"))]
        if notes:
            record["notes"] = "\n\n".join(notes)
        record["sources"] = sources
        return record

    def _amount(self, item: _Input) -> tuple[dict[str, Any], str | None] | None:
        """The amount record and a note about it; None after a problem."""
        ownership = item.schema.name == "Ownership"
        value_prop, currency_prop = ("sharesValue", "sharesCurrency") if ownership else ("amount", "currency")
        currencies = [c.strip().upper() for c in item.get(currency_prop)]
        if len(_unique(currencies)) > 1:
            self.problem(item.line, item.schema.name, item.id, currency_prop, f"{len(currencies)} currencies; a loopscope amount has one")
            return None
        value = self._number(item, value_prop)
        if value is False:
            return None
        currency = currencies[0] if currencies else None
        if value is None and not ownership:
            for prop, code in (("amountUsd", "USD"), ("amountEur", "EUR")):
                converted = self._number(item, prop)
                if converted is False:
                    return None
                if converted is not None:
                    return {"value": converted, "currency": code, "kind": "exact"}, f"Amount from FtM {prop}"
        if value is not None:
            amount: dict[str, Any] = {"value": value, "kind": "exact"}
            if currency is not None:
                amount["currency"] = currency
            return amount, None
        if currency is not None:
            return {"currency": currency, "kind": "undisclosed"}, None
        return {"currency": "USD", "kind": "undisclosed"}, "The FtM entity states no amount and no currency: undisclosed (USD)"

    def _units(self, item: _Input) -> tuple[list[dict[str, Any]], list[str]]:
        if item.schema.name != "Ownership":
            return [], []
        units, notes = [], []
        for prop, unit in (("sharesCount", "shares"), ("percentage", "percent")):
            for value in item.get(prop):
                text = value.strip().rstrip("%").strip() if unit == "percent" else value.strip()
                if _PLAIN_NUMBER.match(text) and float(text.replace(",", "")) > 0:
                    units.append({"value": float(text.replace(",", "")), "unit": unit})
                else:
                    notes.append(f"FtM {prop}: {value}")
        return units, notes

    # ------------------------------------------------------------------ the ledger
    def ledger(self, items: list[_Input]) -> Ledger:
        payload = [i for i in items if i.payload is not None]
        foreign = [i for i in items if i.payload is None]
        #: one document per kind of input (loopscope records, each FtM schema): its fields are named alike
        docs: dict[str, tuple[dict[str, list[Any]], dict[str, list[int]], dict[tuple, str] | None]] = {}

        def add(group: str, section: str, record: dict[str, Any], line: int, names: dict[tuple, str] | None) -> None:
            sections, lines, _ = docs.setdefault(group, ({s: [] for s in SECTIONS}, {s: [] for s in SECTIONS}, names))
            sections[section].append(record)
            lines[section].append(line)

        taken = {str(i.payload[1].get("id")) for i in payload if i.payload and i.payload[0] in ("parties", "deals")}
        ids = _Ids(taken)
        parties: dict[str, tuple[str, str]] = {}  # FtM id → (loopscope id, name)
        for item in payload:
            section, record = item.payload  # type: ignore[misc]
            add("loopscope", section, record, item.line, None)
            if section == "parties" and isinstance(record.get("id"), str):
                parties[item.id] = (record["id"], str(record.get("name")))
        for item in foreign:
            if item.schema.name in PARTY_KIND:
                record = self.party_record(item, ids.claim(item.id))
                if record is not None:
                    parties[item.id] = (record["id"], record["name"])
                    add(item.schema.name, "parties", record, item.line, _PARTY_FIELDS[item.schema.name])
        known = {i.id: i for i in items}
        for item in foreign:
            if item.schema.name in DEAL_ROLES:
                record = self.deal_record(item, ids.claim(item.id), parties, known)
                if record is not None:
                    add(item.schema.name, "deals", record, item.line, _DEAL_FIELDS[item.schema.name])
            elif item.schema.name not in PARTY_KIND:
                reason = ("a Note without a loopscope record" if item.schema.name == "Note"
                          else f"loopscope has nothing for FtM {item.schema.name} entities")
                self.note(item, reason)

        documents = [self._document(sections, lines, names) for sections, lines, names in docs.values()]
        try:
            built = build(documents)
        except LedgerError as exc:
            raise LedgerError(self.problems + exc.problems) from None
        if self.problems:
            raise LedgerError(self.problems)
        order: dict[tuple[str, str], int] = {}
        for sections, lines, _ in docs.values():
            for section in SECTIONS:
                for record, line in zip(sections[section], lines[section]):
                    order[(section, str(record_key(section, record)))] = line
        e = built.entities
        ordered = {s: sorted(e[s], key=lambda m, s=s: order.get((s, entity_key(s, m)), 0)) for s in SECTIONS}
        return Ledger(ordered["parties"], ordered["deals"], ordered["figures"], ordered["rates"])

    def _document(self, sections: dict[str, list[Any]], lines: dict[str, list[int]],
                  names: dict[tuple, str] | None) -> RawDocument:
        def locate(path: tuple) -> int | None:
            if len(path) < 2 or not isinstance(path[1], int) or path[0] not in lines:
                return None
            return lines[path[0]][path[1]]

        def field_names(section: str, path: tuple) -> str:
            general = tuple(0 if isinstance(p, int) else p for p in path)
            for size in range(len(general), 0, -1):
                if general[:size] in names:  # type: ignore[operator]
                    return names[general[:size]]  # type: ignore[index]
            return format_path(path)

        return RawDocument(self.file, sections, locate, field_names=field_names if names is not None else None)


def _deal_fields(src: str, dst: str, value: str, currency: str) -> dict[tuple, str]:
    return {
        ("id",): "id", ("kind",): "programme", ("from",): src, ("to",): dst, ("title",): "purpose",
        ("announced",): "date", ("history",): "date", ("amount", "value"): value, ("amount", "currency"): currency,
        ("amount",): value, ("horizon",): "endDate", ("horizon", "start"): "startDate",
        ("sources", 0, "url"): "sourceUrl", ("sources", 0, "publisher"): "publisher", ("sources",): "sourceUrl",
        ("notes",): "summary",
    }


#: model path of a record from another tool (indices as 0) → the FtM property it came from, for messages
_DEAL_FIELDS = {
    "Payment": _deal_fields("payer", "beneficiary", "amount", "currency"),
    "Ownership": _deal_fields("owner", "asset", "sharesValue", "sharesCurrency"),
    "Debt": _deal_fields("creditor", "debtor", "amount", "currency"),
}
_PARTY_FIELDS = {
    name: {("id",): "id", ("name",): "name", ("aliases",): "alias", ("ticker",): "ticker", ("notes",): "notes",
           ("kind",): "schema", ("country",): "jurisdiction"}
    for name in PARTY_KIND
}


def from_entities(entities: Iterable[Any], file: str = "<entities>") -> tuple[Ledger, list[str]]:
    """A ledger from FtM entities (dicts, e.g. from :func:`to_entities`); the n-th counts as line n.

    Returns the validated ledger and notes about skipped entities; raises
    :class:`~loopscope.ledger.LedgerError` with every problem.  Needs the followthemoney library.
    """
    reader = _Reader(file)
    items = reader.parse(enumerate(entities, start=1))
    return reader.ledger(items), reader.notes


def read_entities(path: Path | str) -> tuple[Ledger, list[str]]:
    """Read an FtM JSON lines file as a ledger: ``(ledger, notes about skipped entities)``.

    Raises :class:`~loopscope.ledger.LedgerError` listing every problem with its line (see the
    module documentation).  Needs the followthemoney library.
    """
    path = Path(path)
    display = str(path)
    reader = _Reader(display)
    if path.is_dir():
        raise LedgerError([Problem(display, None, None, None, None, "a folder, expected a JSON lines file of FtM entities")])
    if not path.is_file():
        raise LedgerError([Problem(display, None, None, None, None, "no such file")])
    text, problem = read_text_file(path, display)
    if problem is not None:
        raise LedgerError([problem])
    rows: list[tuple[int, Any]] = []
    for number, line in enumerate(text.split("\n"), start=1):  # type: ignore[union-attr]
        line = line.rstrip("\r")
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            reader.problem(number, None, None, None, f"not a JSON entity: {exc.msg} at column {exc.colno}")
    items = reader.parse(rows)
    return reader.ledger(items), reader.notes


__all__ = [
    "PAYLOAD_PREFIX", "PAYLOAD_PROPERTY", "dumps", "entity_id", "from_entities", "read_entities", "slugify",
    "to_entities", "validate", "write",
]
