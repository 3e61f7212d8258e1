"""The stable machine interface: the ledger as one JSON document (``loopscope show --json``),
and the JSON Schemas of that document and of the JSON storage format, generated from the models."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, TypeAdapter

from .ledger import Ledger
from .model import Deal, Figure, Party, Rate
from .records import jsonable, to_record

VIEW_VERSION = 1


def ledger_view(ledger: Ledger) -> dict[str, Any]:
    """``{"version", "as_of", "parties": [...], "deals": [...]}``.

    Each deal is its stored record plus ``status`` (as of the ledger's date) and, inside
    ``amount``, ``usd``, ``low_usd`` and ``high_usd`` (US dollars at the announcement date's
    rate; null where undisclosed) with ``value``, ``low`` and ``high`` always present (null when
    absent).  Each party carries its ``figures``.
    """
    figures: dict[str, list[dict]] = {}
    for figure in ledger.figures:
        figures.setdefault(figure.party, []).append(jsonable(to_record(figure)))
    parties = []
    for party in ledger.parties:
        record = jsonable(to_record(party))
        record["figures"] = figures.get(party.id, [])
        parties.append(record)
    deals = []
    for deal in ledger.deals:
        record = jsonable(to_record(deal))
        usd, low_usd, high_usd = ledger.to_usd(deal.amount, deal.announced)
        amount = {
            "value": deal.amount.value,
            "currency": deal.amount.currency,
            "kind": deal.amount.kind,
            "low": deal.amount.low,
            "high": deal.amount.high,
            "usd": usd,
            "low_usd": low_usd,
            "high_usd": high_usd,
        }
        ordered = {}
        for key, value in record.items():
            ordered[key] = amount if key == "amount" else value
            if key == "announced":
                ordered["status"] = deal.status
        deals.append(ordered)
    return {
        "version": VIEW_VERSION,
        "as_of": ledger.as_of_date.isoformat() if ledger.as_of_date else None,
        "parties": parties,
        "deals": deals,
    }


class _LedgerDocument(BaseModel):
    parties: list[Party] = []
    deals: list[Deal] = []
    figures: list[Figure] = []
    rates: list[Rate] = []


def ledger_schema() -> dict[str, Any]:
    """JSON Schema of the JSON storage format (``loopscope convert x.yaml x.json``)."""
    schema = TypeAdapter(_LedgerDocument).json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "loopscope ledger (JSON storage format)"
    schema["additionalProperties"] = False
    return schema


def view_schema() -> dict[str, Any]:
    """JSON Schema of ``loopscope show --json``."""
    base = ledger_schema()
    defs = copy.deepcopy(base["$defs"])
    number_or_null = {"anyOf": [{"type": "number"}, {"type": "null"}]}
    amount = {
        "type": "object",
        "description": "The amount in its original currency and in US dollars (null where undisclosed).",
        "required": ["value", "currency", "kind", "low", "high", "usd", "low_usd", "high_usd"],
        "properties": {
            "value": number_or_null, "currency": defs["Amount"]["properties"]["currency"],
            "kind": defs["Amount"]["properties"]["kind"], "low": number_or_null, "high": number_or_null,
            "usd": number_or_null, "low_usd": number_or_null, "high_usd": number_or_null,
        },
        "additionalProperties": False,
    }
    deal = defs.pop("Deal")
    deal["title"] = "DealView"
    deal["properties"]["amount"] = amount
    deal["properties"]["status"] = {"type": "string", "enum": defs["StatusEvent"]["properties"]["status"]["enum"],
                                    "description": "The status as of the view's date."}
    deal["required"] = sorted(set(deal.get("required", [])) | {"status", "amount", "sources"})
    party = defs.pop("Party")
    party["title"] = "PartyView"
    party["properties"]["figures"] = {"type": "array", "items": {"$ref": "#/$defs/Figure"}}
    party["required"] = sorted(set(party.get("required", [])) | {"figures"})
    defs["DealView"], defs["PartyView"] = deal, party
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "loopscope show --json",
        "type": "object",
        "required": ["version", "as_of", "parties", "deals"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": VIEW_VERSION},
            "as_of": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
            "parties": {"type": "array", "items": {"$ref": "#/$defs/PartyView"}},
            "deals": {"type": "array", "items": {"$ref": "#/$defs/DealView"}},
        },
        "$defs": defs,
    }
