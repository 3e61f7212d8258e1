"""Exports of a ledger for graph software: Gephi (GEXF), GraphML, Kumu and Neo4j.

Every export has the same shape: parties become nodes and every deal becomes one directed edge,
so a pair of parties with several deals gets several (parallel) edges, each with the deal id as
its id.  Nothing is summed, merged or left out: cancelled and superseded deals are exported too
(``closed`` marks them, since they move no money).

Direction
    An edge runs from the deal's ``from`` party to its ``to`` party (``deal.src`` → ``deal.dst``),
    the way value moves in :data:`loopscope.ledger.vocabulary.DEAL_KINDS`: investor → company
    (equity), buyer → seller (purchase), investor → recipient (credits, in kind), issuer → holder
    (warrant, in kind), guarantor → provider (backstop, contingent), lender → borrower (loan),
    lessee → lessor (lease).  ``from_role``/``to_role`` name the two roles on each edge and
    ``in_kind`` marks value that is not cash.

Amounts
    ``amount_value``/``amount_low``/``amount_high`` are in the deal's own currency
    (``amount_currency``); ``amount_usd`` is the central value in US dollars at the exchange rate of
    the announcement date (:meth:`Ledger.to_usd`), with ``amount_usd_low``/``amount_usd_high`` the
    lowest and highest the amount can be (as in :meth:`Ledger.flows`: 0 for an 'up to' amount
    without a low; the value itself where no bound is stated).  ``amount_kind`` (``exact``,
    ``up_to``, ``estimate``, ``range``, ``undisclosed``) is on every edge, so an estimate or a cap
    never passes for an exact figure; note that the central value of an 'up to' amount is its cap.
    An undisclosed amount has no amount values at all (and no weight), never 0.

Missing values are left out (no empty strings, no zeros).  Nested parts (schedule, units,
history, links, sources) are JSON text in GEXF, GraphML and Neo4j, lists of readable strings in Kumu.

Mapping (GEXF and GraphML use the first column's names; Kumu and Neo4j as shown)::

    ledger                      GEXF / GraphML          Kumu                   Neo4j (CSV header)
    party.id                    node id                 id                     partyId:ID(Party)
    party.name                  label                   label                  name
    party.kind                  kind                    type, tags             kind, :LABEL (Party;Company...)
    party.ticker                ticker                  Ticker                 ticker
    party.country               country                 Country, tags          country
    party.aliases               aliases ("; " joined)   Aliases (list)         aliases:string[]
    party.notes                 notes                   description            notes
    deal.id                     edge id                 id                     dealId
    deal.from / deal.to         source / target         from / to              :START_ID(Party) / :END_ID(Party)
    deal.kind                   kind (+ GEXF edge kind) type, tags             kind, :TYPE (EQUITY, PURCHASE...)
    deal.title                  label, title            label                  title
    deal.announced              announced (YYYY-MM-DD)  Announced              announced:date
    current status              status                  Status, tags           status
    status closed?              closed (boolean)        Closed                 closed:boolean
    roles of the kind           from_role, to_role      From role, To role     fromRole, toRole
    value not cash?             in_kind (boolean)       In kind                inKind:boolean
    amount.value/low/high       amount_value/_low/_high Amount, Amount low/high amountValue/Low/High:double
    amount.currency             amount_currency         Currency               currency
    amount.kind                 amount_kind             Amount kind, tags      amountKind
    central in USD              amount_usd, weight      Amount (USD)           amountUsd:double
    bounds in USD               amount_usd_low/_high    Amount (USD) low/high  amountUsdLow/High:double
    horizon.start/end/date      horizon_start/_end/_date Horizon start/end/date horizonStart/End/Date:date
    horizon.years               horizon_years           Horizon years          horizonYears:double
    horizon.schedule            horizon_schedule (JSON) Horizon schedule       horizonSchedule (JSON)
    horizon.note                horizon_note            Horizon note           horizonNote
    deal.units                  units (JSON)            Units                  units (JSON)
    deal.history                history (JSON)          History                history (JSON)
    deal.links                  links (JSON)            Links                  links (JSON)
    deal.superseded_by          superseded_by           Superseded by          supersededBy
    deal.notes                  notes                   description            notes
    deal.sources                sources (JSON),         Sources (URLs), url,   sources:string[] (URLs),
                                source_url_1,           Source publishers      sourcesJson (JSON)
                                source_publisher_1

Formats
    * **GEXF 1.3** (https://gexf.net/, namespace ``http://gexf.net/1.3``), Gephi's own format.
      Static, ``defaultedgetype="directed"``; typed attribute declarations (string, double,
      boolean); dates are strings.  The edge's ``weight`` is ``amount_usd`` (Gephi gives edges
      without one the weight 1) and its GEXF ``kind`` is the deal kind.  Gephi merges parallel
      edges of the same kind on import unless the import report's *Edges merge strategy* is set
      to *Don't merge*: choose it to keep one edge per deal.
    * **GraphML** (http://graphml.graphdrawing.org/primer/graphml-primer.html): ``<key>``
      declarations typed string/double/boolean (one per attribute and element kind, plus
      ``label`` and ``weight``), ``edgedefault="directed"``, graph data ``creator`` and ``description``.
    * **Kumu blueprint** JSON (https://docs.kumu.io/guides/import/blueprints): ``elements`` and
      ``connections`` with Kumu's core fields (``id``, ``label``, ``type``, ``description``,
      ``tags``, ``url``) and the rest as custom fields named for people ("Amount (USD)");
      lists become multi-value fields.  Connections refer to elements by id and are ``directed``.
    * **Neo4j bulk import** CSV (https://neo4j.com/docs/operations-manual/current/import/):
      ``parties.csv`` and ``deals.csv`` for ``neo4j-admin database import full``; see
      :data:`NEO4J_IMPORT_EXAMPLE`.  Arrays are joined with ``;`` (the importer's default
      ``--array-delimiter``), which has no escape: a ``;`` inside a source URL is written ``%3B``
      (the same address) and one inside an alias as the full-width ``；`` (U+FF1B); the sources
      stay exact in ``sourcesJson``.  Text may span lines, hence ``--multiline-fields=true``.

XML 1.0 cannot hold most control characters (U+0000-U+001F other than tab, line feed and
carriage return, U+FFFE, U+FFFF, lone surrogates): in plain text they are replaced by U+FFFD;
inside JSON text they are written as ``\\uXXXX`` escapes and so survive exactly.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..ledger.files import write_atomic
from ..ledger.numbers import format_number as _n
from ..ledger.records import jsonable, to_record
from ..ledger.vocabulary import CLOSED_STATUSES, DEAL_KINDS

if TYPE_CHECKING:
    from ..ledger.ledger import Ledger
    from ..ledger.model import Deal, Party, ScheduleItem

__all__ = [
    "FORMATS", "NEO4J_ARRAY_DELIMITER", "NEO4J_DEALS_HEADER", "NEO4J_IMPORT_COMMAND", "NEO4J_IMPORT_EXAMPLE",
    "NEO4J_PARTIES_HEADER", "NEO4J_ROUND_TRIP_QUERY", "to_gexf", "to_graphml", "to_kumu", "to_neo4j", "write",
]

#: The formats :func:`write` accepts.
FORMATS: tuple[str, ...] = ("gexf", "graphml", "kumu", "neo4j")

CREATOR = "loopscope"
GEXF_NS = "http://gexf.net/1.3"
GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

#: Party attributes of GEXF and GraphML nodes (besides the id and label): name and type.
NODE_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("kind", "string"), ("ticker", "string"), ("country", "string"), ("aliases", "string"), ("notes", "string"),
)

#: Deal attributes of GEXF and GraphML edges (besides id, source, target, label and weight).
EDGE_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("kind", "string"), ("title", "string"), ("announced", "string"), ("status", "string"), ("closed", "boolean"),
    ("from_role", "string"), ("to_role", "string"), ("in_kind", "boolean"),
    ("amount_value", "double"), ("amount_low", "double"), ("amount_high", "double"),
    ("amount_currency", "string"), ("amount_kind", "string"),
    ("amount_usd", "double"), ("amount_usd_low", "double"), ("amount_usd_high", "double"),
    ("horizon_start", "string"), ("horizon_end", "string"), ("horizon_date", "string"),
    ("horizon_years", "double"), ("horizon_schedule", "string"), ("horizon_note", "string"),
    ("units", "string"), ("history", "string"), ("links", "string"),
    ("superseded_by", "string"), ("notes", "string"),
    ("sources", "string"), ("source_url_1", "string"), ("source_publisher_1", "string"),
)

#: The array delimiter of the Neo4j CSV files (``neo4j-admin``'s default ``--array-delimiter``).
NEO4J_ARRAY_DELIMITER = ";"

# (CSV header, key in the party or deal values); None: filled in separately
_NEO4J_PARTY_COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("partyId:ID(Party)", None), ("name", None), ("kind", "kind"), ("ticker", "ticker"), ("country", "country"),
    ("aliases:string[]", None), ("notes", "notes"), (":LABEL", None),
)
_NEO4J_DEAL_COLUMNS: tuple[tuple[str, str | None], ...] = (
    (":START_ID(Party)", None), (":END_ID(Party)", None), ("dealId", None), ("kind", "kind"), ("title", "title"),
    ("announced:date", "announced"), ("status", "status"),
    ("amountValue:double", "amount_value"), ("amountLow:double", "amount_low"), ("amountHigh:double", "amount_high"),
    ("currency", "amount_currency"), ("amountKind", "amount_kind"), ("amountUsd:double", "amount_usd"),
    ("sources:string[]", None),
    ("amountUsdLow:double", "amount_usd_low"), ("amountUsdHigh:double", "amount_usd_high"),
    ("closed:boolean", "closed"), ("inKind:boolean", "in_kind"), ("fromRole", "from_role"), ("toRole", "to_role"),
    ("horizonStart:date", "horizon_start"), ("horizonEnd:date", "horizon_end"), ("horizonDate:date", "horizon_date"),
    ("horizonYears:double", "horizon_years"), ("horizonSchedule", "horizon_schedule"), ("horizonNote", "horizon_note"),
    ("units", "units"), ("history", "history"), ("links", "links"), ("supersededBy", "superseded_by"),
    ("notes", "notes"), ("sourcesJson", "sources"), (":TYPE", None),
)
#: The header rows of ``parties.csv`` and ``deals.csv``.
NEO4J_PARTIES_HEADER: tuple[str, ...] = tuple(header for header, _ in _NEO4J_PARTY_COLUMNS)
NEO4J_DEALS_HEADER: tuple[str, ...] = tuple(header for header, _ in _NEO4J_DEAL_COLUMNS)

#: The shell command that builds a Neo4j database from the files of :func:`to_neo4j` (run in their folder).
NEO4J_IMPORT_COMMAND = (
    'neo4j-admin database import full --nodes=Party=parties.csv --relationships=deals.csv '
    f'--array-delimiter="{NEO4J_ARRAY_DELIMITER}" --multiline-fields=true loopscope'
)

#: A Cypher query for round trips: value that leaves a party and comes back to it through 2 to 4 open deals.
NEO4J_ROUND_TRIP_QUERY = """\
// each loop comes once per party on it; bottleneck_usd: the smallest disclosed amount along it
MATCH p = (a:Party)-[*2..4]->(a)
WHERE all(r IN relationships(p) WHERE NOT r.closed)
RETURN [n IN nodes(p) | n.name] AS parties,
       [r IN relationships(p) | r.dealId] AS deals,
       [r IN relationships(p) | type(r)] AS kinds,
       reduce(least = null, r IN relationships(p) | CASE WHEN least IS NULL OR r.amountUsd < least
              THEN r.amountUsd ELSE least END) AS bottleneck_usd
LIMIT 25"""

#: How to import the Neo4j export and query it, for the documentation.
NEO4J_IMPORT_EXAMPLE = f"""\
# in the folder written by `to_neo4j` (Neo4j 5 or later; the database must not exist yet):
{NEO4J_IMPORT_COMMAND}
# then create the database (Enterprise: CREATE DATABASE loopscope;
# Community: set initial.dbms.default_database=loopscope) and, in cypher-shell or Neo4j Browser:
{NEO4J_ROUND_TRIP_QUERY}
"""

# characters XML 1.0 cannot hold, not even as character references
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# ---------------------------------------------------------------------------------------------
# values shared by the formats
# ---------------------------------------------------------------------------------------------


def _check_references(ledger: Ledger) -> None:
    """Refuse deals whose parties are missing (a ledger built in code is not cross-checked)."""
    known = {party.id for party in ledger.parties}
    for deal in ledger.deals:
        for role, party in (("from", deal.src), ("to", deal.dst)):
            if party not in known:
                raise ValueError(f"deal {deal.id!r}: unknown party {party!r} ({role}); every edge needs both nodes")


def _json(value: Any) -> str:
    """JSON text that survives XML: characters XML cannot hold become ``\\uXXXX`` escapes."""
    text = json.dumps(jsonable(value), ensure_ascii=False)
    # only characters below U+10000 can be invalid, so one \\uXXXX escape each is enough
    return _XML_INVALID.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _party_values(party: Party) -> dict[str, Any]:
    """A party's node attributes (without id and name), missing ones left out."""
    return _present({
        "kind": party.kind, "ticker": party.ticker, "country": party.country,
        "aliases": "; ".join(party.aliases) or None, "notes": party.notes,
    })


def _deal_values(ledger: Ledger, deal: Deal) -> dict[str, Any]:
    """A deal's edge attributes as in :data:`EDGE_ATTRIBUTES`, missing ones left out."""
    amount, horizon, kind = deal.amount, deal.horizon, DEAL_KINDS[deal.kind]
    usd, usd_low, usd_high = ledger.to_usd(amount, deal.announced)
    values: dict[str, Any] = {
        "kind": deal.kind, "title": deal.title, "announced": deal.announced.isoformat(), "status": deal.status,
        "closed": deal.status in CLOSED_STATUSES, "from_role": kind.from_role, "to_role": kind.to_role,
        "in_kind": kind.in_kind,
        "amount_value": amount.value, "amount_low": amount.low, "amount_high": amount.high,
        "amount_currency": amount.currency, "amount_kind": amount.kind,
        "amount_usd": usd, "amount_usd_low": usd_low, "amount_usd_high": usd_high,
    }
    if horizon is not None:
        values.update({
            "horizon_start": horizon.start and horizon.start.isoformat(),
            "horizon_end": horizon.end and horizon.end.isoformat(),
            "horizon_date": horizon.date and horizon.date.isoformat(),
            "horizon_years": horizon.years,
            "horizon_schedule": _json([to_record(item) for item in horizon.schedule]) if horizon.schedule else None,
            "horizon_note": horizon.note,
        })
    values.update({
        "units": _json([to_record(unit) for unit in deal.units]) if deal.units else None,
        "history": _json([to_record(event) for event in deal.history]),
        "links": _json([to_record(link) for link in deal.links]) if deal.links else None,
        "superseded_by": deal.superseded_by, "notes": deal.notes,
        "sources": _json([to_record(source) for source in deal.sources]),
        "source_url_1": deal.sources[0].url, "source_publisher_1": deal.sources[0].publisher,
    })
    return _present(values)


def _description(ledger: Ledger, dataset: str | None) -> str:
    name = f"the loopscope ledger {dataset!r}" if dataset else "a loopscope ledger"
    cut = f", as of {ledger.as_of_date.isoformat()}" if ledger.as_of_date else ""
    return (
        f"Deals of {name} ({len(ledger.parties)} parties, {len(ledger.deals)} deals{cut}). Nodes are parties; "
        "each deal is one directed edge (parallel edges kept) from the party that gives value to the one that "
        "receives it (investor to company, buyer to seller, lender to borrower...). amount_usd and the weight are "
        "US dollars at the exchange rate of the announcement date; amount_kind says how certain an amount is "
        "(exact, up_to, estimate, range, undisclosed)."
    )


# ---------------------------------------------------------------------------------------------
# XML: GEXF and GraphML
# ---------------------------------------------------------------------------------------------


def _text(value: str) -> str:
    return _XML_INVALID.sub("\ufffd", value)


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return _text(str(value))


def _serialize(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    # ElementTree escapes carriage returns in attributes but not in text, where a parser would
    # turn them into line feeds; the only raw ones in its output come from text values
    body = ET.tostring(root, encoding="unicode").replace("\r", "&#13;")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def to_gexf(ledger: Ledger, *, dataset: str | None = None) -> str:
    """The ledger as a GEXF 1.3 document for Gephi (see the module docstring for the mapping).

    ``dataset`` names the ledger in the graph's description (a ledger does not know its name).
    """
    _check_references(ledger)
    root = ET.Element("gexf", {
        "xmlns": GEXF_NS, "xmlns:xsi": XSI_NS, "xsi:schemaLocation": f"{GEXF_NS} {GEXF_NS}/gexf.xsd", "version": "1.3",
    })
    meta = ET.SubElement(root, "meta")
    ET.SubElement(meta, "creator").text = CREATOR
    ET.SubElement(meta, "description").text = _text(_description(ledger, dataset))
    graph = ET.SubElement(root, "graph", {"defaultedgetype": "directed", "mode": "static"})
    for what, declared in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        attributes = ET.SubElement(graph, "attributes", {"class": what, "mode": "static"})
        for name, kind in declared:
            ET.SubElement(attributes, "attribute", {"id": name, "title": name, "type": kind})
    nodes = ET.SubElement(graph, "nodes")
    for party in ledger.parties:
        node = ET.SubElement(nodes, "node", {"id": party.id, "label": _text(party.name)})
        _gexf_values(node, _party_values(party), NODE_ATTRIBUTES)
    edges = ET.SubElement(graph, "edges")
    for deal in ledger.deals:
        values = _deal_values(ledger, deal)
        attrs = {"id": deal.id, "source": deal.src, "target": deal.dst, "label": _text(deal.title), "kind": deal.kind}
        if "amount_usd" in values:
            attrs["weight"] = _xml_value(values["amount_usd"])
        edge = ET.SubElement(edges, "edge", attrs)
        _gexf_values(edge, values, EDGE_ATTRIBUTES)
    return _serialize(root)


def _gexf_values(parent: ET.Element, values: dict[str, Any], declared: Iterable[tuple[str, str]]) -> None:
    present = [name for name, _ in declared if name in values]
    if not present:
        return
    attvalues = ET.SubElement(parent, "attvalues")
    for name in present:
        ET.SubElement(attvalues, "attvalue", {"for": name, "value": _xml_value(values[name])})


def to_graphml(ledger: Ledger, *, dataset: str | None = None) -> str:
    """The ledger as a GraphML document (see the module docstring for the mapping).

    Key ids are ``g_<name>``, ``n_<name>`` and ``e_<name>`` for graph, node and edge data.
    """
    _check_references(ledger)
    root = ET.Element("graphml", {
        "xmlns": GRAPHML_NS, "xmlns:xsi": XSI_NS,
        "xsi:schemaLocation": f"{GRAPHML_NS} {GRAPHML_NS}/1.0/graphml.xsd",
    })
    declared = {
        "graph": (("creator", "string"), ("description", "string")),
        "node": (("label", "string"),) + NODE_ATTRIBUTES,
        "edge": (("label", "string"), ("weight", "double")) + EDGE_ATTRIBUTES,
    }
    for what, keys in declared.items():
        for name, kind in keys:
            ET.SubElement(root, "key", {"id": f"{what[0]}_{name}", "for": what, "attr.name": name, "attr.type": kind})
    graph = ET.SubElement(root, "graph", {"id": "loopscope", "edgedefault": "directed"})
    _graphml_data(graph, "g", {"creator": CREATOR, "description": _description(ledger, dataset)}, declared["graph"])
    for party in ledger.parties:
        node = ET.SubElement(graph, "node", {"id": party.id})
        _graphml_data(node, "n", {"label": party.name, **_party_values(party)}, declared["node"])
    for deal in ledger.deals:
        values = _deal_values(ledger, deal)
        values["label"] = deal.title
        if "amount_usd" in values:
            values["weight"] = values["amount_usd"]
        edge = ET.SubElement(graph, "edge", {"id": deal.id, "source": deal.src, "target": deal.dst})
        _graphml_data(edge, "e", values, declared["edge"])
    return _serialize(root)


def _graphml_data(parent: ET.Element, prefix: str, values: dict[str, Any], declared: Iterable[tuple[str, str]]) -> None:
    for name, _ in declared:
        if name in values:
            ET.SubElement(parent, "data", {"key": f"{prefix}_{name}"}).text = _xml_value(values[name])


# ---------------------------------------------------------------------------------------------
# Kumu
# ---------------------------------------------------------------------------------------------


def to_kumu(ledger: Ledger) -> dict[str, list[dict[str, Any]]]:
    """The ledger as a Kumu blueprint: ``{"elements": [...], "connections": [...]}``.

    Elements: ``id`` (party id), ``label`` (name), ``type`` (kind), ``description`` (notes),
    ``tags`` (kind, country), "Ticker", "Country", "Aliases".  Connections: ``id`` (deal id),
    ``from``/``to`` (party ids), ``type`` (deal kind), ``direction`` ``directed``, ``label``
    (title), ``description`` (notes), ``tags`` (kind, status, amount kind), ``url`` (first source)
    and the fields "Announced", "Status", "Closed", "From role", "To role", "In kind", "Amount",
    "Amount low", "Amount high", "Currency", "Amount kind", "Amount (USD)", "Amount (USD) low",
    "Amount (USD) high", "Horizon start", "Horizon end", "Horizon date", "Horizon years",
    "Horizon schedule", "Horizon note", "Units", "History", "Links", "Superseded by", "Sources"
    (URLs) and "Source publishers".  Missing values are left out.
    """
    _check_references(ledger)
    elements = []
    for party in ledger.parties:
        elements.append(_present({
            "id": party.id, "label": party.name, "type": party.kind, "description": party.notes,
            "tags": [party.kind] + ([party.country] if party.country else []),
            "Ticker": party.ticker, "Country": party.country, "Aliases": list(party.aliases) or None,
        }))
    connections = [_kumu_connection(ledger, deal) for deal in ledger.deals]
    return {"elements": elements, "connections": connections}


def _kumu_connection(ledger: Ledger, deal: Deal) -> dict[str, Any]:
    amount, horizon, kind = deal.amount, deal.horizon, DEAL_KINDS[deal.kind]
    usd, usd_low, usd_high = ledger.to_usd(amount, deal.announced)
    out: dict[str, Any] = {
        "id": deal.id, "from": deal.src, "to": deal.dst, "type": deal.kind, "direction": "directed",
        "label": deal.title, "description": deal.notes, "tags": [deal.kind, deal.status, amount.kind],
        "url": deal.sources[0].url,
        "Announced": deal.announced.isoformat(), "Status": deal.status, "Closed": deal.status in CLOSED_STATUSES,
        "From role": kind.from_role, "To role": kind.to_role, "In kind": kind.in_kind,
        "Amount": amount.value, "Amount low": amount.low, "Amount high": amount.high, "Currency": amount.currency,
        "Amount kind": amount.kind, "Amount (USD)": usd, "Amount (USD) low": usd_low, "Amount (USD) high": usd_high,
    }
    if horizon is not None:
        out.update({
            "Horizon start": horizon.start and horizon.start.isoformat(),
            "Horizon end": horizon.end and horizon.end.isoformat(),
            "Horizon date": horizon.date and horizon.date.isoformat(),
            "Horizon years": horizon.years,
            "Horizon schedule": [_kumu_schedule_item(item, amount.currency) for item in horizon.schedule or ()] or None,
            "Horizon note": horizon.note,
        })
    out.update({
        "Units": [f"{_n(unit.value)} {unit.unit}" + _noted(unit.note, " ({})") for unit in deal.units] or None,
        "History": [f"{event.date.isoformat()} {event.status}" + _noted(event.note, ": {}") for event in deal.history],
        "Links": [f"{link.relation} {link.deal}" + _noted(link.note, " ({})") for link in deal.links] or None,
        "Superseded by": deal.superseded_by,
        "Sources": [source.url for source in deal.sources],
        "Source publishers": [source.publisher for source in deal.sources],
    })
    return _present(out)


def _kumu_schedule_item(item: ScheduleItem, currency: str) -> str:
    if item.share is not None:
        return f"{item.date.isoformat()}: {item.share:.6g} of the total"
    return f"{item.date.isoformat()}: {_n(item.amount)} {currency}"  # type: ignore[arg-type]


def _noted(note: str | None, form: str) -> str:
    return form.format(note) if note else ""


# ---------------------------------------------------------------------------------------------
# Neo4j
# ---------------------------------------------------------------------------------------------


def _neo4j_array(items: Iterable[str], *, urls: bool = False) -> str:
    """Array elements joined with ``;``, which they must not contain (the importer has no escape)."""
    stand_in = "%3B" if urls else "\uff1b"
    return NEO4J_ARRAY_DELIMITER.join(item.replace(NEO4J_ARRAY_DELIMITER, stand_in) for item in items)


def _neo4j_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _neo4j_row(columns: Iterable[tuple[str, str | None]], values: dict[str, Any], special: dict[str, str]) -> list[str]:
    return [_neo4j_cell(special[header] if key is None else values.get(key)) for header, key in columns]


def _csv(header: Iterable[str], rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def to_neo4j(ledger: Ledger, folder: Path | str) -> list[Path]:
    """Write ``parties.csv`` and ``deals.csv`` for ``neo4j-admin database import full``; returns their paths.

    Parties get the labels ``Party`` and their kind (``Company``, ``Fund``...); each deal is a
    relationship whose type is its kind in upper case (``EQUITY``, ``PURCHASE``...).  Empty cells
    leave a property unset.  Import them with :data:`NEO4J_IMPORT_COMMAND`.
    """
    _check_references(ledger)
    folder = Path(folder)
    party_rows = []
    for party in ledger.parties:
        values = _party_values(party)
        special = {
            "partyId:ID(Party)": party.id, "name": party.name, "aliases:string[]": _neo4j_array(party.aliases),
            ":LABEL": f"Party{NEO4J_ARRAY_DELIMITER}{party.kind.capitalize()}",
        }
        party_rows.append(_neo4j_row(_NEO4J_PARTY_COLUMNS, values, special))
    deal_rows = []
    for deal in ledger.deals:
        values = _deal_values(ledger, deal)
        special = {
            ":START_ID(Party)": deal.src, ":END_ID(Party)": deal.dst, "dealId": deal.id,
            "sources:string[]": _neo4j_array((source.url for source in deal.sources), urls=True),
            ":TYPE": deal.kind.upper(),
        }
        deal_rows.append(_neo4j_row(_NEO4J_DEAL_COLUMNS, values, special))
    written = []
    for name, text in (("parties.csv", _csv(NEO4J_PARTIES_HEADER, party_rows)),
                       ("deals.csv", _csv(NEO4J_DEALS_HEADER, deal_rows))):
        write_atomic(folder / name, text)
        written.append(folder / name)
    return written


# ---------------------------------------------------------------------------------------------
# dispatch
# ---------------------------------------------------------------------------------------------


def write(ledger: Ledger, fmt: str, out: Path | str, *, dataset: str | None = None) -> list[Path]:
    """Write the ledger in a graph format; returns the files written.

    ``gexf``, ``graphml`` and ``kumu`` (JSON) write the one file ``out`` (UTF-8); ``neo4j`` writes
    ``parties.csv`` and ``deals.csv`` into the folder ``out``, created if missing.  ``dataset``
    names the ledger in the GEXF and GraphML description.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown graph format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    out = Path(out)
    if fmt == "neo4j":
        return to_neo4j(ledger, out)
    if fmt == "gexf":
        text = to_gexf(ledger, dataset=dataset)
    elif fmt == "graphml":
        text = to_graphml(ledger, dataset=dataset)
    else:
        text = json.dumps(to_kumu(ledger), indent=2, ensure_ascii=False) + "\n"
    write_atomic(out, text)
    return [out]
