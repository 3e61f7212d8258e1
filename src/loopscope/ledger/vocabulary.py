"""The ledger's vocabulary, declared as data.

Deal kinds and the roles of their two parties live in one table (:data:`DEAL_KINDS`), as do the
statuses, amount kinds, physical units, figure metrics and currencies. Code reads these tables; it
never spells the vocabulary out in if-chains.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DealKind:
    """What a deal kind means for the direction of value and for later analyses.

    ``from_role`` and ``to_role`` name the parties: value always moves ``from`` → ``to``.
    ``obligation`` marks kinds that commit ``from`` to pay (used by stress tests);
    ``in_kind`` marks value that is not cash; ``contingent`` marks value that moves only if
    something happens (a backstop pays only for capacity nobody else buys); ``revenue`` marks kinds
    whose value is revenue of the ``to`` party, paid by a customer (used for customer concentration).
    """

    name: str
    from_role: str
    to_role: str
    description: str
    obligation: bool
    in_kind: bool = False
    contingent: bool = False
    revenue: bool = False


DEAL_KINDS: dict[str, DealKind] = {
    k.name: k
    for k in (
        DealKind("equity", "investor", "company", "investor buys shares of the company", False),
        DealKind(
            "purchase", "buyer", "seller", "buyer pays for goods, chips, compute, cloud or licences", True, revenue=True,
        ),
        DealKind(
            "credits", "investor", "recipient",
            "in-kind credits an investor grants that can only be spent with the investor", False, in_kind=True,
        ),
        DealKind(
            "warrant", "issuer", "holder",
            "issuer grants the holder the right to buy its shares", False, in_kind=True,
        ),
        DealKind(
            "backstop", "guarantor", "provider",
            "guarantor commits to buy capacity the provider cannot sell", True, contingent=True, revenue=True,
        ),
        DealKind("loan", "lender", "borrower", "lender lends money to the borrower, repaid later", True),
        DealKind("lease", "lessee", "lessor", "lessee pays rent for assets (GPUs, data centres)", True, revenue=True),
    )
}

#: Deal statuses, in the order a deal usually passes through them.
STATUSES: tuple[str, ...] = ("announced", "signed", "reported", "completed", "superseded", "cancelled")
#: Statuses after which no money moves any more.
CLOSED_STATUSES: frozenset[str] = frozenset({"superseded", "cancelled"})

#: How certain an amount is.  ``undisclosed`` carries no value at all.
AMOUNT_KINDS: tuple[str, ...] = ("exact", "up_to", "estimate", "range", "undisclosed")

PARTY_KINDS: tuple[str, ...] = ("company", "fund", "government", "venture", "person", "other")

#: Physical units a source may state for a deal.
UNITS: tuple[str, ...] = ("gigawatts", "megawatts", "gpus", "chips", "shares", "percent")

#: Relations between deals that sources say are connected.
LINK_RELATIONS: tuple[str, ...] = ("funds", "part_of", "conditional_on", "related")

#: Figure metrics: (name, stock or flow, description).  Stock metrics are dated; flow metrics cover a period.
METRICS: dict[str, tuple[str, str]] = {
    "revenue": ("flow", "revenue over the period"),
    "net_income": ("flow", "net income (negative: loss) over the period"),
    "operating_income": ("flow", "operating income (negative: loss) over the period"),
    "capex": ("flow", "capital expenditure over the period"),
    "annualized_revenue": ("stock", "revenue run rate at a date"),
    "cash": ("stock", "cash and equivalents at a date"),
    "debt": ("stock", "total debt at a date"),
    "rpo": ("stock", "remaining performance obligations (contracted backlog) at a date"),
    "market_cap": ("stock", "market capitalisation at a date"),
    "valuation": ("stock", "valuation of a private company at a date"),
    "shares_outstanding": ("stock", "shares outstanding at a date"),
    "customer_share": ("stock", "share (0..1) of a metric owed by or earned from one counterparty"),
    "commitments": ("stock", "total commitments announced or contracted at a date"),
    "holding": ("stock", "value of the stake the party holds in the counterparty at a date (e.g. shares bought on the market)"),
}

#: Units for figures that are not money.
NON_MONEY_UNITS: tuple[str, ...] = ("shares", "ratio")

#: ISO 4217 active currency codes.
CURRENCIES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
    GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
    LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
    STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG
    XOF XPF YER ZAR ZMW ZWG
    """.split()
)
