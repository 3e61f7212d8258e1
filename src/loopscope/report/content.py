"""What the report shows: the analyses' results, turned into plain data for the page.

All computing happens here, through the public analyses; the template and its script only display.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from .._version import __version__
from ..display import amount as amount_text
from ..display import money
from ..ledger import Ledger
from ..ledger.vocabulary import CLOSED_STATUSES, DEAL_KINDS
from .i18n import KIND_NAMES, METHODS, label
from .layout import force_layout

#: Colours of the deal kinds (colour-blind-safe palette, Okabe & Ito 2008).
KIND_COLOURS = {
    "equity": "#0072B2", "purchase": "#D55E00", "credits": "#CC79A7", "warrant": "#009E73",
    "backstop": "#E69F00", "loan": "#56B4E9", "lease": "#7F7F7F",
}
#: What sizes a node, in order: the latest market value, else the latest annual revenue (a fiscal
#: year or a run rate, never a quarter: :func:`~loopscope.analysis.exposure.annual_revenue_figure`)
SIZE_METRICS = ("market_cap", "valuation", "revenue")
MAX_CYCLES = 60


def _share(value: float, lang: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value * 100:.0f} %" if lang == "de" else f"{value * 100:.0f}%"


def report_content(ledger: Ledger, name: str, lang: str = "en", max_length: int = 6, datasheet: str | None = None,
                   scenario: Any = "auto", samples: int = 0, seed: int = 0) -> dict:
    """Everything the page shows, as JSON-ready data (texts already in ``lang``).

    ``scenario`` (a built-in name, a YAML file or a Scenario; ``"auto"``: ``openai-cannot-pay``
    where the ledger has OpenAI; None: no stress test) is the stress test shown, with ``samples``
    Monte Carlo samples (0: the central run only)."""
    if isinstance(scenario, str) and scenario == "auto":
        from ..stress import load_scenario

        default = load_scenario("openai-cannot-pay")
        scenario = default if default.parties() <= {p.id for p in ledger.parties} else None
    from ..analysis import exposure, find_cycles, max_circulation

    if lang not in ("en", "de"):
        raise ValueError(f"lang must be 'en' or 'de', not {lang!r}")
    m = lambda v: money(v, lang=lang)  # noqa: E731
    live = [d for d in ledger.deals if d.status not in CLOSED_STATUSES]
    circulation = max_circulation(ledger)
    cycles = find_cycles(ledger, max_length=max_length)
    per_party = exposure(ledger, max_length=max_length)
    flows = ledger.flows()
    uncertain = flows[(flows["amount_kind"] != "exact") & flows["amount_usd"].notna()]["amount_usd"].sum()
    undisclosed = sum(1 for d in live if not d.amount.disclosed)
    last = max((d.announced for d in ledger.deals), default=None)
    when = label("as_of", lang, date=ledger.as_of_date) if ledger.as_of_date else label("all_dates", lang, date=last)

    headline = [
        {"label": label("gross", lang), "value": m(circulation.gross),
         "note": label("range", lang, low=m(circulation.gross_low), high=m(circulation.gross_high))},
        {"label": label("circulated", lang), "value": m(circulation.circulated),
         "note": label("range", lang, low=m(circulation.circulated_low), high=m(circulation.circulated_high))},
        {"label": label("circularity", lang), "value": _share(circulation.circularity, lang),
         "note": label("at_low_high", lang, low=_share(circulation.circularity_low, lang),
                       high=_share(circulation.circularity_high, lang))},
        {"label": label("one_way", lang), "value": m(circulation.one_way), "note": ""},
        {"label": label("outside", lang), "value": m(circulation.outside_money), "note": ""},
        {"label": label("round_trips", lang, k=max_length), "value": str(len(cycles)), "note": ""},
    ]
    largest = cycles[0].narrative[lang] if len(cycles) else label("no_cycles", lang)

    network = network_view(ledger, lang)

    cycle_rows = cycle_view(ledger, cycles[:MAX_CYCLES], lang)
    rows, notes = exposure_view(ledger, per_party, lang)

    # ---- sources: every cited page, with what cites it
    cited: dict[str, dict[str, Any]] = {}
    for item, what in [(d, d.id) for d in ledger.deals] + [(f, f.id) for f in ledger.figures]:
        for source in item.sources:
            entry = cited.setdefault(source.url, {"url": source.url, "publisher": source.publisher or "",
                                                  "title": source.title or "", "date": source.date.isoformat() if source.date else "",
                                                  "cited_by": []})
            if what not in entry["cited_by"]:
                entry["cited_by"].append(what)
    sources = sorted(cited.values(), key=lambda s: (s["publisher"].lower(), s["url"]))

    return {
        "lang": lang, "title": label("title", lang, name=name), "when": when,
        "generated": label("generated", lang, version=__version__, name=name),
        "headline": headline, "largest": largest,
        "undisclosed_note": label("undisclosed_note", lang, n=undisclosed),
        "estimate_note": label("estimate_note", lang, x=m(uncertain)),
        "network": network,
        "cycles": cycle_rows, "cycles_total": len(cycles), "max_length": max_length,
        "exposure": rows, "backlog_notes": notes,
        "stress": None if scenario is None else _stress(ledger, scenario, samples, seed, lang), "gap": _gap(ledger, lang),
        "methods": [{"name": x["name_de"] if lang == "de" else x["name"], "text": x[lang]} for x in METHODS],
        "datasheet": datasheet or "", "sources": sources,
    }


def cycle_view(ledger: Ledger, cycles, lang: str = "en") -> list[dict]:
    """Round trips as rows: parties, their names, the deals, the amount with its range, the narrative."""
    m = lambda v: money(v, lang=lang)  # noqa: E731
    rows = []
    for rank, cycle in enumerate(cycles, start=1):
        rows.append({
            "rank": rank, "parties": list(cycle.parties), "names": [ledger.party(p).name for p in cycle.parties],
            "deals": [d for step in cycle.steps for d in step.deals],
            "amount": m(cycle.amount_usd) if not math.isnan(cycle.amount_usd) else "?",
            "range": "" if cycle.low_usd == cycle.amount_usd == cycle.high_usd else
            label("range", lang, low=m(cycle.low_usd), high="∞" if math.isinf(cycle.high_usd) else m(cycle.high_usd)),
            "in_time_order": cycle.temporal, "narrative": cycle.narrative[lang],
        })
    return rows


def exposure_view(ledger: Ledger, per_party: dict, lang: str = "en") -> tuple[list[dict], list[dict]]:
    """Per-company exposure as rows, and the backlog notes (with their sources)."""
    m = lambda v: money(v, lang=lang)  # noqa: E731
    rows, notes = [], []
    for r in per_party.values():
        if r.inflow_usd == 0 and r.outflow_usd == 0:
            continue
        rows.append({
            "id": r.party, "party": r.name, "inflow": m(r.inflow_usd), "inflow_usd": r.inflow_usd,
            "outflow": m(r.outflow_usd), "undisclosed_in": r.undisclosed_in, "undisclosed_out": r.undisclosed_out,
            "round_tripped": m(r.round_tripped_usd), "round_tripped_usd": r.round_tripped_usd,
            "round_tripped_share": _share(r.round_tripped_share, lang),
            "top_customer": "–" if r.top_customer is None else f"{ledger.party(r.top_customer).name} ({_share(r.top_customer_share, lang)})",
            "hhi": "–" if math.isnan(r.hhi) else f"{r.hhi:.2f}".replace(".", "," if lang == "de" else "."),
            "backlog": "–" if r.backlog is None else _share(r.backlog.share, lang),
            "commitments": m(r.commitments_usd), "revenue": m(r.revenue_usd),
            "years": None if math.isnan(r.commitment_years) else round(r.commitment_years, 1),
        })
        if r.backlog is not None:
            b = r.backlog
            text = label("backlog_note", lang, party=r.name, customer=ledger.party(b.customer).name,
                         amount=m(b.commitments_usd), share=_share(b.share, lang), rpo=m(b.rpo_usd), date=b.rpo_date)
            reported = [s for s in r.reported_shares if s.counterparty == b.customer]
            if reported:
                text += " " + label("reported_note", lang, values=", ".join(
                    f"{_share(s.value, lang)} ({s.date})" for s in reported))
            notes.append({"text": text, "sources": list(b.sources)})
    return rows, notes


def _node_size(size_usd: float | None) -> float:
    return round(18 + 8 * math.log10(size_usd / 1e9 + 1), 1) if size_usd else 18


def network_layout(ledger: Ledger, deals=None) -> dict[str, tuple[float, float]]:
    """Positions of every party, from a force layout of ``deals`` (default: the live deals)."""
    deals = [d for d in ledger.deals if d.status not in CLOSED_STATUSES] if deals is None else deals
    involved = sorted(p.id for p in ledger.parties)
    index = {p: i for i, p in enumerate(involved)}
    totals: Counter[tuple[str, str]] = Counter()
    for deal in deals:
        value = ledger.to_usd(deal.amount, deal.announced)[0]
        totals[(deal.src, deal.dst)] += value or 0.0
    positions = force_layout(len(involved), [(index[a], index[b], v) for (a, b), v in sorted(totals.items())])
    return {p: (float(positions[i][0]), float(positions[i][1])) for p, i in index.items()}


def network_view(ledger: Ledger, lang: str = "en", deals=None, positions: dict | None = None,
                 all_parties: bool = True) -> dict:
    """The network picture's data: one node per party, one edge per deal (default: the live deals).

    ``positions`` (party → (x, y)) keeps nodes in place across views (the dashboard's time slider);
    by default they come from :func:`network_layout`. ``all_parties=False`` leaves out parties
    without a drawn deal. Edges carry each deal's amount as text with its uncertainty.
    """
    from ..analysis.exposure import annual_revenue_figure

    m = lambda v: money(v, lang=lang)  # noqa: E731
    deals = [d for d in ledger.deals if d.status not in CLOSED_STATUSES] if deals is None else list(deals)
    positions = network_layout(ledger, deals) if positions is None else positions
    drawn = {d.src for d in deals} | {d.dst for d in deals}
    nodes = []
    for party_id in sorted(p.id for p in ledger.parties):
        if not all_parties and party_id not in drawn:
            continue
        party = ledger.party(party_id)
        size_figure = None
        for metric in SIZE_METRICS:
            size_figure = (annual_revenue_figure(ledger, party_id) if metric == "revenue"
                           else ledger.latest_figure(party_id, metric))
            if size_figure is not None:
                break
        size_usd = None
        if size_figure is not None and size_figure.unit not in ("shares", "ratio"):
            size_usd = size_figure.value * ledger.rate(size_figure.unit, size_figure.as_of)
        x, y = positions.get(party_id, (500.0, 500.0))
        nodes.append({
            "id": party_id, "name": party.name, "x": float(x), "y": float(y), "size": _node_size(size_usd),
            "sized": size_usd is not None,
            "size_text": "" if size_figure is None else
            f"{size_figure.metric.replace('_', ' ')}: {m(size_usd)} ({size_figure.as_of.isoformat()})",
        })
    edges = []
    for deal in sorted(deals, key=lambda d: (d.announced, d.id)):
        value = ledger.to_usd(deal.amount, deal.announced)[0]
        source = deal.sources[0]
        edges.append({
            "id": deal.id, "source": deal.src, "target": deal.dst, "kind": deal.kind,
            "kind_name": KIND_NAMES[deal.kind][lang], "colour": KIND_COLOURS[deal.kind],
            "width": 1.5 + (math.log10(value / 1e9 + 1) * 3 if value else 0),
            "amount": amount_text(deal.amount, lang), "amount_kind": deal.amount.kind, "amount_usd": value,
            "announced": deal.announced.isoformat(), "status": deal.status, "title": deal.title,
            "source_url": source.url, "source_name": source.publisher or source.url,
        })
    legend = [{"kind": k, "name": KIND_NAMES[k][lang], "colour": KIND_COLOURS[k]}
              for k in DEAL_KINDS if any(d.kind == k for d in deals)]
    return {"nodes": nodes, "edges": edges, "legend": legend,
            "sizes": [{"size": _node_size(v), "text": m(v)} for v in (1e10, 1e11, 1e12)]}


def _names(ledger: Ledger, parties) -> list[str]:
    return [ledger.party(p).name for p in parties]


def _stress(ledger: Ledger, scenario: Any, samples: int, seed: int, lang: str) -> dict:
    """The stress test's cascade, losses and assumptions (see :func:`loopscope.stress.stress_test`)."""
    from ..stress import stress_test

    return stress_view(ledger, stress_test(ledger, scenario, samples=samples, seed=seed), lang)


def stress_view(ledger: Ledger, r, lang: str = "en") -> dict:
    """A stress result as the report shows it: the scenario's quote, the cascade by round, losses per
    party with their share of value, the Monte Carlo spread and every assumption."""
    from ..stress.scenario import MODEL_NAMES

    m = lambda v: money(v, lang=lang)  # noqa: E731
    samples, seed = r.samples, r.seed
    s = r.scenario
    c = r.central
    order = [i for i in sorted(range(len(r.parties)), key=lambda i: -c.loss[0, i]) if c.loss[0, i] > 0 or c.defaulted[0, i]]
    rows = [{
        "party": ledger.party(r.parties[i]).name, "loss_usd": float(c.loss[0, i]), "loss": m(c.loss[0, i]),
        "share": _share(float(r.loss_share[i]), lang), "value_before": m(r.value_before[i]),
        "default": label("yes", lang) + f" ({int(c.default_round[0, i])})" if c.defaulted[0, i] else "–",
        "unpaid": m(c.shortfall[0, i]) if c.shortfall[0, i] > 0 else "–",
    } for i in order]
    monte_carlo = None
    if r.draws is not None:
        cascade, share = r.most_likely_cascade()
        totals = r.draws.loss.sum(axis=1)
        import numpy as np

        p05, p95 = np.quantile(totals, [0.05, 0.95])
        monte_carlo = label("monte_carlo", lang, n=samples, seed=seed, p05=m(p05), p95=m(p95), share=_share(share, lang),
                            cascade="; ".join(f"{label('round', lang, n=k)}: {', '.join(_names(ledger, ps))}"
                                              for k, ps in enumerate(cascade, 1)) or "–")
    quote = s.quote.model_dump(mode="json") if s.quote else None
    return {
        "name": s.name, "title": (s.title_de if lang == "de" else s.title) or s.name, "description": s.description or "",
        "quote": quote, "model": MODEL_NAMES[r.model],
        "help": label("stress_help", lang, model=MODEL_NAMES[r.model], start=r.start, end=r.end),
        "cascade": [{"round": label("round", lang, n=k), "parties": _names(ledger, ps)} for k, ps in enumerate(r.cascade(), 1)],
        "rows": rows, "total": label("total_loss", lang, loss=m(float(c.loss[0].sum())), n=int(c.defaulted[0].sum())),
        "monte_carlo": monte_carlo, "assumptions": list(r.assumptions),
    }


def _gap(ledger: Ledger, lang: str) -> dict:
    """Commitments per year against revenue (see :func:`loopscope.stress.gap.funding_gap`), ten years."""
    from ..stress.gap import funding_gap

    m = lambda v: money(v, lang=lang)  # noqa: E731
    g = funding_gap(ledger)
    keep = [k for k, y in enumerate(g.years) if y < g.base_year + 10]
    years = [{"year": g.years[k], "commitments_usd": float(g.commitments_usd[k]), "commitments": m(g.commitments_usd[k]),
              "revenue_usd": float(g.revenue_projected_usd[k]), "revenue": m(g.revenue_projected_usd[k])} for k in keep]
    top = next((p for p in g.parties if p.revenue_usd > 0), None)  # the party with the largest gap
    top_years = None if top is None else {
        "party": top.name, "commitments_usd": [float(top.commitments_usd[k]) for k in keep],
        "commitments": [m(top.commitments_usd[k]) for k in keep],
        "revenue_usd": [float(top.revenue_projected_usd[k]) for k in keep], "revenue": [m(top.revenue_projected_usd[k]) for k in keep]}
    parties = []
    for p in g.parties:
        k = int(p.commitments_usd.argmax())
        if math.isnan(p.growth_needed):
            needed = "–"
        elif math.isinf(p.growth_needed):
            needed = label("out_of_reach", lang)
        elif p.growth_needed <= 0:
            needed = label("covered", lang)
        else:
            needed = _share(p.growth_needed, lang)
        ratio = "" if not p.revenue_usd > 0 else f" ({p.commitments_usd[k] / p.revenue_usd:.1f}×)".replace(".", "," if lang == "de" else ".")
        parties.append({"party": p.name, "revenue": m(p.revenue_usd), "total": m(p.total_commitments_usd),
                        "peak": f"{g.years[k]}{ratio}", "needed": needed, "undisclosed": p.undisclosed})
    b = g.bain
    short = {round(r, 2): s for r, f, _, s in b.sensitivity if f == b.funded_usd}
    return {
        "help": label("gap_help", lang, note=label("gap_note", lang)), "years": years, "top": top_years,
        "parties": parties[:12],
        "bain": label("bain", lang, capex=m(b.capex_usd), ratio=_share(b.capex_to_revenue, lang), needed=m(b.revenue_needed_usd),
                      year=b.year, funded=m(b.funded_usd), short=m(b.shortfall_usd), short20=m(short[0.2]), short30=m(short[0.3])),
        "bain_sources": [{"url": x["url"], "publisher": x["publisher"]} for x in b.sources],
        "assumptions": list(g.assumptions),
    }
