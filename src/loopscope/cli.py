"""The ``loopscope`` command.  Thin: parse arguments, call the API, render with Rich.

Every command that reads a ledger takes an optional PATH (the bundled ``ai-2025`` dataset when
left out).  Problems with the input are printed as ``file:line: entity id: field: message`` and
exit with status 1; no traceback reaches the user.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from ._version import __version__

app = typer.Typer(
    name="loopscope",
    help="Make circular financing visible and measurable: a sourced deal ledger of who pays whom.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console()
if not console.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
    console.width = max(console.width, 160)
errors = Console(stderr=True, soft_wrap=True)  # messages are never folded; a path stays one word

PathArg = Annotated[
    Optional[Path],
    typer.Argument(help="Ledger: a YAML file or folder, a JSON file, or a folder of CSV files. Default: the bundled ai-2025 dataset.",
                   show_default=False),
]


def _version(value: bool) -> None:
    if value:
        console.print(f"loopscope {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """loopscope: who pays whom, and how much of it goes round in circles."""


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def _load(path: Path | None, as_of: str | None = None):
    from .ledger import Ledger, LedgerError

    day = _parse_date(as_of)
    try:
        ledger = Ledger.read(path)
    except LedgerError as exc:
        for problem in exc.problems:
            errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        count = len(exc.problems)
        errors.print(f"[red]{count} problem{'s' if count != 1 else ''}[/red] in {path or 'ai-2025'}")
        raise typer.Exit(1) from None
    return ledger.as_of(day) if day else ledger


@app.command()
def show(
    path: PathArg = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Show the ledger as it stood on this date (YYYY-MM-DD).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stable JSON document instead of tables.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of the tables: en or de.")] = "en",
) -> None:
    """Show parties and deals as tables, or as JSON (the stable machine interface)."""
    from .ledger.view import ledger_view

    ledger = _load(path, as_of)
    if as_json:
        sys.stdout.write(json.dumps(ledger_view(ledger), ensure_ascii=False, indent=2) + "\n")
        return
    from .display import amount as show_amount
    from .display import money

    if lang not in ("en", "de"):
        raise typer.BadParameter("expected en or de", param_hint="--lang")
    de = lang == "de"
    counts: dict[str, list[int]] = {p.id: [0, 0] for p in ledger.parties}
    for deal in ledger.deals:
        counts[deal.src][0] += 1
        counts[deal.dst][1] += 1
    parties = Table(title="Parteien" if de else "Parties", title_justify="left")
    for column in (["ID", "Name", "Art", "Ticker", "Land", "Deals aus/ein"] if de else
                   ["id", "name", "kind", "ticker", "country", "deals out/in"]):
        parties.add_column(column)
    for party in ledger.parties:
        out, inn = counts[party.id]
        parties.add_row(party.id, party.name, party.kind, party.ticker or "", party.country or "", f"{out}/{inn}")
    console.print(parties)

    deals = Table(title="Deals", title_justify="left")
    for column in (["ID", "Art", "von → an", "Betrag", "angekündigt", "Status", "Quellen"] if de else
                   ["id", "kind", "from → to", "amount", "announced", "status", "sources"]):
        deals.add_column(column, overflow="fold", no_wrap=column in ("id", "ID", "announced", "angekündigt"))
    for deal in sorted(ledger.deals, key=lambda d: (d.announced, d.id)):
        deals.add_row(deal.id, deal.kind, f"{deal.src} → {deal.dst}", show_amount(deal.amount, lang),
                      deal.announced.isoformat(), deal.status, str(len(deal.sources)))
    console.print(deals)

    flows = ledger.flows()
    live = flows["amount_usd"].notna()
    exact = flows["amount_kind"] == "exact"
    undisclosed = sum(1 for d in ledger.deals if not d.amount.disclosed)
    when = f" as of {ledger.as_of_date}" if ledger.as_of_date else ""
    total = money(flows.loc[live, "amount_usd"].sum(), lang=lang)
    low, high = money(flows["low_usd"].sum(), lang=lang), money(flows["high_usd"].sum(), lang=lang)
    uncertain = money(flows.loc[live & ~exact, "amount_usd"].sum(), lang=lang)
    if de:
        console.print(f"{len(ledger.parties)} Parteien, {len(ledger.deals)} Deals{' zum ' + str(ledger.as_of_date) if ledger.as_of_date else ''}; "
                      f"Bruttovolumen der laufenden Deals {total} (Spanne {low} bis {high}; davon {uncertain} geschätzt oder 'bis zu'; "
                      f"{undisclosed} Beträge nicht offengelegt).")
    else:
        console.print(f"{len(ledger.parties)} parties, {len(ledger.deals)} deals{when}; gross volume of live deals {total} "
                      f"(range {low} to {high}; {uncertain} of it estimated or 'up to'; {undisclosed} amounts undisclosed).")


@app.command()
def validate(path: PathArg = None) -> None:
    """Check a ledger: exit 0 with a one-line summary, or 1 listing every problem."""
    ledger = _load(path)
    sources = sum(len(d.sources) for d in ledger.deals) + sum(len(f.sources) for f in ledger.figures)
    console.print(f"[green]valid[/green]: {path or 'ai-2025'}: {len(ledger.parties)} parties, {len(ledger.deals)} deals, "
                  f"{len(ledger.figures)} figures, {len(ledger.rates)} rates, {sources} sources", highlight=False)


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="The ledger to read (any format); ai-2025 names the bundled dataset "
                                                "(unless a path of that name exists), e.g. to copy it for editing.")],
    target: Annotated[Path, typer.Argument(help="Where to write: x.yaml, x.json, or a folder (YAML, or CSV with --to csv).")],
    to: Annotated[Optional[str], typer.Option("--to", help="Format to write: yaml, json or csv. Default: from the target's suffix.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing target.")] = False,
) -> None:
    """Convert a ledger between YAML, JSON and CSV, losing nothing."""
    from .ledger.files import target_format

    ledger = _load(None if str(source) == "ai-2025" and not source.exists() else source)
    if target.exists() and not force and (target.is_file() or any(target.iterdir())):
        errors.print(f"{target}: exists; use --force to overwrite")
        raise typer.Exit(2)
    try:
        fmt = target_format(target, to)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--to") from None
    written = ledger.save(target, fmt)
    console.print(f"wrote {len(ledger.deals)} deals, {len(ledger.parties)} parties, {len(ledger.figures)} figures as {fmt} "
                  f"to {target} ({len(written)} file{'s' if len(written) != 1 else ''})", highlight=False)


@app.command()
def schema(
    which: Annotated[str, typer.Argument(help="'view' (the document of show --json) or 'ledger' (the JSON storage format).")] = "view",
) -> None:
    """Print a JSON Schema generated from the data model."""
    from .ledger.view import ledger_schema, view_schema

    if which not in ("view", "ledger"):
        raise typer.BadParameter("expected view or ledger", param_hint="WHICH")
    document = view_schema() if which == "view" else ledger_schema()
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


AnalysisPathArg = Annotated[
    Optional[Path],
    typer.Argument(help="A ledger (YAML file or folder, JSON file, folder of CSV files) or a flows CSV file "
                        "(src,dst,amount[,date]). Default: the bundled ai-2025 dataset.", show_default=False),
]
AsOfOption = Annotated[Optional[str], typer.Option("--as-of", help="The network as it stood on this date (YYYY-MM-DD).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
LangOption = Annotated[str, typer.Option("--lang", help="Language of tables and narratives: en or de.")]
KindOption = Annotated[Optional[list[str]], typer.Option("--kind", help="Only deals of this kind (repeatable): "
                                                        "equity, purchase, credits, warrant, backstop, loan, lease.")]


def _check_lang(lang: str) -> None:
    if lang not in ("en", "de"):
        raise typer.BadParameter("expected en or de", param_hint="--lang")


def _load_network(path: Path | None, as_of: str | None, kinds: list[str] | None = None):
    """A ledger, or a flows table when PATH is a .csv file, with only the deals of ``kinds`` if given; returns (data, name of the input)."""
    from .ledger.vocabulary import DEAL_KINDS

    unknown = sorted(set(kinds or ()) - set(DEAL_KINDS))
    if unknown:
        raise typer.BadParameter(f"unknown deal kind(s) {', '.join(unknown)} (expected some of: {', '.join(DEAL_KINDS)})",
                                 param_hint="--kind")
    data, name = _read_network(path, as_of)
    if kinds:
        from .ledger import Ledger

        if isinstance(data, Ledger):
            data = Ledger(data.parties, [d for d in data.deals if d.kind in kinds], data.figures, data.rates,
                          origins=data.origins, as_of_date=data.as_of_date)
        else:
            data = data[data["kind"].isin(kinds)].reset_index(drop=True) if "kind" in data else data.iloc[0:0]
        name += f" (kinds: {', '.join(kinds)})"
    return data, name


def _read_network(path: Path | None, as_of: str | None):
    if path is not None and path.suffix.lower() == ".csv" and not path.is_dir():
        from .ledger import LedgerError
        from .ledger.flows_csv import read_flows_csv

        try:
            flows = read_flows_csv(path)
        except LedgerError as exc:
            for problem in exc.problems:
                errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)
            errors.print(f"[red]{len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}[/red] in {path}")
            raise typer.Exit(1) from None
        day = _parse_date(as_of)
        if day is not None:
            import pandas as pd

            if flows["date"].isna().any():
                raise typer.BadParameter("--as-of needs a date on every flow of the CSV", param_hint="--as-of")
            flows = flows[flows["date"] <= pd.Timestamp(day)].reset_index(drop=True)
        return flows, str(path)
    return _load(path, as_of), str(path) if path else "ai-2025"


def _emit_json(document: dict) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n")


@app.command()
def cycles(
    path: AnalysisPathArg = None,
    max_length: Annotated[int, typer.Option("--max-length", "-k", min=2, help="Longest round trip, in parties.")] = 6,
    temporal: Annotated[bool, typer.Option("--temporal", help="Only round trips in time order: each step no earlier "
                                           "than the one before.")] = False,
    window: Annotated[Optional[str], typer.Option("--window", help="With --temporal: longest time from first to last "
                                                  "step, e.g. 365d or 52w.")] = None,
    min_amount: Annotated[float, typer.Option("--min-amount", min=0, help="Only round trips that can carry at least "
                                              "this many US dollars.")] = 0,
    as_of: AsOfOption = None,
    kind: KindOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Rows of the table (0: all). JSON lists all.")] = 25,
    as_json: JsonOption = False,
    lang: LangOption = "en",
) -> None:
    """Round trips: every cycle of money up to --max-length parties, largest first, with the deals, the amount that can go round and a one-sentence narrative."""
    from .analysis.cycles import find_cycles
    from .display import money

    _check_lang(lang)
    data, name = _load_network(path, as_of, kind)
    try:
        found = find_cycles(data, max_length=max_length, temporal=temporal, window=window, min_amount=min_amount)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if as_json:
        document = found.to_dict()
        document.update({
            "search": found.search, "max_length": max_length,
            "window_days": None if found.window is None else found.window.days,
            "min_amount_usd": min_amount, "as_of": as_of, "input": name, "self_loops_left_out": found.self_loops,
        })
        _emit_json(document)
        return
    de = lang == "de"
    shown = found[: limit or len(found)]
    kind = ("zeitlich geordnete " if de else "time-ordered ") if temporal else ""
    title = (f"{len(found)} {kind}Kreisläufe bis {max_length} Parteien" if de
             else f"{len(found)} {kind}round trips up to {max_length} parties")
    table = Table(title=title, title_justify="left")
    headers = (["#", "Kreislauf", "kann kreisen", "Spanne", "zeitlich geordnet", "Deals"] if de
               else ["#", "round trip", "can go round", "range", "in time order", "deals"])
    for header in headers:
        table.add_column(header, overflow="fold")
    for rank, cycle in enumerate(shown, start=1):
        loop = " → ".join(str(p) for p in cycle.parties + cycle.parties[:1])
        high = "∞" if cycle.high_usd == float("inf") else money(cycle.high_usd, lang=lang)
        spread = f"{money(cycle.low_usd, lang=lang)}–{high}"
        deals = "; ".join(", ".join(step.deals[:2]) + (" …" if len(step.deals) > 2 else "") for step in cycle.steps)
        ordered = ("ja" if de else "yes") if cycle.temporal else ("nein" if de else "no")
        table.add_row(str(rank), loop, money(cycle.amount_usd, lang=lang), spread, ordered, deals)
    console.print(table)
    for cycle in shown[:3]:
        console.print(f"• {cycle.narrative[lang]}", highlight=False)
    notes = []
    if len(shown) < len(found):
        notes.append(f"{len(shown)} von {len(found)} gezeigt (--limit 0: alle)" if de
                     else f"{len(shown)} of {len(found)} shown (--limit 0: all)")
    if found.self_loops:
        notes.append(f"{found.self_loops} Zahlungen an sich selbst ausgelassen" if de
                     else f"{found.self_loops} payments of a party to itself left out")
    notes.append("Quelle" if de else "input")
    console.print("; ".join(notes[:-1] + [f"{notes[-1]}: {name}" + (f", {as_of}" if as_of else "")]), highlight=False)


@app.command()
def circulation(
    path: AnalysisPathArg = None,
    as_of: AsOfOption = None,
    kind: KindOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "en",
) -> None:
    """How much of the money goes in circles: maximum circulation (the headline), the Hodge decomposition's loop ratio and hierarchy, Finn's cycling index and weighted reciprocity."""
    import numpy as np

    from .analysis.circulation import max_circulation, reciprocity
    from .analysis.finn import finn_cycling_index
    from .analysis.hodge import hodge_decomposition
    from .analysis.network import as_network
    from .display import money

    _check_lang(lang)
    data, name = _load_network(path, as_of, kind)
    network = as_network(data)
    circ = max_circulation(network)
    hodge = hodge_decomposition(network)
    finn = finn_cycling_index(network)
    recip = reciprocity(network)
    unknown = np.isnan(network.amount)
    undisclosed = len({d for d in network.deal_id[unknown] if d is not None}) + int(sum(
        1 for d in network.deal_id[unknown] if d is None))
    if as_json:
        _emit_json({
            "input": name, "as_of": as_of, "undisclosed_deals": undisclosed,
            "max_circulation": circ.to_dict(), "hodge": hodge.to_dict(), "finn": finn.to_dict(),
            "reciprocity": None if recip != recip else recip,
        })
        return
    de = lang == "de"
    m = lambda v: money(v, lang=lang)  # noqa: E731
    if de:
        console.print(
            f"Von {m(circ.gross)} an Deals (Spanne {m(circ.gross_low)} bis {m(circ.gross_high)}) können höchstens "
            f"{m(circ.circulated)} im Kreis fließen: [bold]{_share(circ.circularity, lang)}[/bold] (bei den unteren/oberen "
            f"Beträgen {_share(circ.circularity_low, lang)}/{_share(circ.circularity_high, lang)}). Der Rest, "
            f"{m(circ.one_way)}, fließt nur in eine Richtung; Nettozahler bringen {m(circ.outside_money)} ein.",
            highlight=False)
    else:
        console.print(
            f"Of {m(circ.gross)} of deals (range {m(circ.gross_low)} to {m(circ.gross_high)}), at most "
            f"{m(circ.circulated)} can go round in circles: [bold]{_share(circ.circularity, lang)}[/bold] (at the low/high "
            f"amounts {_share(circ.circularity_low, lang)}/{_share(circ.circularity_high, lang)}). The rest, "
            f"{m(circ.one_way)}, runs one way; net payers put in {m(circ.outside_money)}.", highlight=False)
    table = Table(title="Kreislaufmaße" if de else "Circularity measures", title_justify="left")
    for header in (["Maß", "Wert", "was es misst", "Literatur"] if de else ["measure", "value", "what it measures", "reference"]):
        table.add_column(header, overflow="fold")
    rows = [
        ("max circulation / gross", _share(circ.circularity, lang),
         "größter Kreislauf unter den Flüssen, Anteil am Bruttovolumen" if de else
         "largest circulation that fits under the flows, share of gross volume",
         "Homs-Dones et al. 2025; D'Errico & Roukny 2021"),
        ("Hodge loop ratio", _share(hodge.loop_ratio, lang),
         "Anteil der Nettoflüsse, der kreist statt bergab zu fließen (blind für Gegenseitigkeit)" if de else
         "share of net flows that circulate rather than run downhill (blind to reciprocal pairs)",
         "Jiang et al. 2011; Kichikawa et al. 2019"),
        ("Finn cycling index", _share(finn.fci, lang),
         "Anteil des Durchflusses, der zurückkehrt (Randzuflüsse: Nettozahlungen)" if de else
         "share of throughflow that returns (boundary inputs: net payments)", "Finn 1976"),
        ("reciprocity", _share(recip, lang),
         "Anteil der Flüsse, die direkt erwidert werden" if de else "share of flows reciprocated directly",
         "Squartini et al. 2013"),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    potential = hodge.potential.sort_values(ascending=False)
    head = "Hierarchie (Hodge-Potenzial): oben" if de else "Hierarchy (Hodge potential): upstream"
    tail = "unten" if de else "downstream"
    console.print(f"{head}: {', '.join(map(str, potential.index[:5]))}; {tail}: "
                  f"{', '.join(map(str, potential.index[::-1][:5]))}", highlight=False)
    if undisclosed:
        console.print((f"{undisclosed} Deals mit nicht genanntem Betrag zählen 0" if de
                       else f"{undisclosed} deals of undisclosed amount count 0"), highlight=False)
    console.print(f"{'Quelle' if de else 'input'}: {name}", highlight=False)


@app.command()
def report(
    path: PathArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path("report.html"),
    lang: LangOption = "en",
    as_of: AsOfOption = None,
    max_length: Annotated[int, typer.Option("--max-length", "-k", min=2, help="Longest round trip, in parties.")] = 6,
    scenario: Annotated[Optional[str], typer.Option("--scenario", "-s", help="The stress test shown: a built-in scenario "
                                                    "(see loopscope stress --list) or a YAML file. Default: openai-cannot-pay "
                                                    "where the ledger has OpenAI, else none.")] = None,
    samples: Annotated[int, typer.Option("--samples", min=0, help="Monte Carlo samples of the stress test's uncertain amounts and shock sizes (0: central run only).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the samples.")] = 0,
) -> None:
    """Write the report: one self-contained HTML file (works offline, opened straight from disk) with the headline figures, the network, the round trips, the per-company view, a stress test, the funding gap, methods and sources."""
    from .analysis import max_circulation
    from .display import money
    from .ledger.files import write_atomic
    from .report import bundled_datasheet, render_report
    from .stress import ScenarioError, load_scenario

    _check_lang(lang)
    ledger = _load(path, as_of)
    name = str(path) if path else "ai-2025"
    try:
        chosen = "auto" if scenario is None else load_scenario(scenario)
        html = render_report(ledger, name=name, lang=lang, max_length=max_length, datasheet=bundled_datasheet(path),
                             scenario=chosen, samples=samples, seed=seed)
    except ScenarioError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    write_atomic(output, html)
    circ = max_circulation(ledger)
    share = f"{circ.circularity * 100:.0f}"
    if lang == "de":
        console.print(f"Von {money(circ.gross, lang=lang)} an Deals können {money(circ.circulated, lang=lang)} "
                      f"({share} %) im Kreis fließen.", highlight=False)
        console.print(f"Bericht geschrieben: {output.resolve()}", highlight=False)
    else:
        console.print(f"Of {money(circ.gross)} of deals, {money(circ.circulated)} ({share}%) can go round in circles.",
                      highlight=False)
        console.print(f"report written: {output.resolve()}", highlight=False)


@app.command()
def figure(
    which: Annotated[str, typer.Argument(help="network (round trips highlighted), cycles (the largest, ranked), "
                                              "gap (commitments per year against revenue) or stress (a scenario's losses and cascade).")],
    path: PathArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The image to write: .png, .svg or .pdf.")] = Path("figure.png"),
    lang: LangOption = "en",
    as_of: AsOfOption = None,
    scenario: Annotated[str, typer.Option("--scenario", "-s", help="For stress: a built-in scenario or a YAML file.")] = "openai-cannot-pay",
) -> None:
    """Write a static, deterministic figure for articles, with a caption line stating source and date."""
    from .report.figures import save_figure
    from .stress import ScenarioError

    _check_lang(lang)
    ledger = _load(path, as_of)
    try:
        written = save_figure(which, ledger, output, name=str(path) if path else "ai-2025", lang=lang, scenario=scenario)
    except ScenarioError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    console.print(f"{'Abbildung geschrieben' if lang == 'de' else 'figure written'}: {written.resolve()}", highlight=False)


def _share(value: float, lang: str) -> str:
    if value != value:
        return "–"
    text = f"{value * 100:.0f} %" if lang == "de" else f"{value * 100:.0f}%"
    return text


@app.command()
def exposure(
    path: AnalysisPathArg = None,
    as_of: AsOfOption = None,
    kind: KindOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Rows of the table (0: all). JSON lists all.")] = 0,
    as_json: JsonOption = False,
    lang: LangOption = "en",
) -> None:
    """Per company: money in and out, the share of its inflow that is its own money coming back, customer concentration, its top customer's share of its backlog, and commitments against revenue."""
    from .analysis.exposure import exposure as compute
    from .display import money

    _check_lang(lang)
    data, name = _load_network(path, as_of, kind)
    result = compute(data)
    if as_json:
        document = result.to_dict()
        document["input"] = name
        _emit_json(document)
        return
    de = lang == "de"
    rows = list(result.values())
    rows = rows[: limit or len(rows)]
    when = f" ({'Stand' if de else 'as of'} {result.as_of})" if result.as_of else ""
    table = Table(title=("Exposition je Partei" if de else "Exposure per party") + when, title_justify="left")
    headers = (["Partei", "Zufluss", "Abfluss", "davon kreisend", "größter Kunde", "HHI", "Anteil am Auftragsbestand",
                "Verpflichtungen", "Jahresumsatz", "Jahre", "Kreisläufe"] if de else
               ["party", "inflow", "outflow", "round-tripped", "top customer", "HHI", "share of backlog",
                "commitments", "annual revenue", "years", "round trips"])
    for header in headers:
        table.add_column(header, overflow="fold")
    for r in rows:
        unknown_in = f" (+{r.undisclosed_in}?)" if r.undisclosed_in else ""
        unknown_out = f" (+{r.undisclosed_out}?)" if r.undisclosed_out else ""
        top = f"{r.top_customer} {_share(r.top_customer_share, lang)}" if r.top_customer else "–"
        backlog = f"{r.backlog.customer} {_share(r.backlog.share, lang)}" if r.backlog else "–"
        years = "–" if r.commitment_years != r.commitment_years else f"{r.commitment_years:.1f}"
        table.add_row(
            str(r.party), money(r.inflow_usd, lang=lang) + unknown_in, money(r.outflow_usd, lang=lang) + unknown_out,
            f"{money(r.round_tripped_usd, lang=lang)} ({_share(r.round_tripped_share, lang)})", top,
            "–" if r.hhi != r.hhi else f"{r.hhi:.2f}", backlog, money(r.commitments_usd, lang=lang),
            money(r.revenue_usd, lang=lang), years, str(r.cycles),
        )
    console.print(table)
    console.print("(+n?): " + ("n Deals mit nicht genanntem Betrag" if de else "n deals of undisclosed amount"),
                  highlight=False)
    for r in rows:
        if r.backlog is None:
            continue
        b = r.backlog
        reported = ", ".join(f"{x.value:g} ({x.date})" for x in r.reported_shares if x.counterparty == b.customer)
        if de:
            text = (f"{r.name}: die Zusagen von {b.customer} ({money(b.commitments_usd, lang=lang)}: {', '.join(b.deals)}) "
                    f"sind {_share(b.share, lang)} des Auftragsbestands von {money(b.rpo_usd, lang=lang)} "
                    f"({b.figure}, {b.rpo_date})" + (f"; Quellen nennen {reported}" if reported else ""))
        else:
            text = (f"{r.name}: {b.customer}'s commitments ({money(b.commitments_usd, lang=lang)}: {', '.join(b.deals)}) "
                    f"are {_share(b.share, lang)} of its backlog of {money(b.rpo_usd, lang=lang)} "
                    f"({b.figure}, {b.rpo_date})" + (f"; sources report {reported}" if reported else ""))
        console.print(f"• {text}.", highlight=False)
    console.print(f"{'Quelle' if de else 'input'}: {name}", highlight=False)


def _shock_flags(pays, revenue_falls, equity_falls, funding_freeze) -> list[dict]:
    """Shocks from ``PARTY=VALUE`` flags, in the scenario file's form."""
    shocks: list[dict] = []

    def pairs(values, flag):
        for text in values or ():
            party, sep, value = text.partition("=")
            try:
                number = float(value.rstrip("%")) / (100 if value.endswith("%") else 1)
            except ValueError:
                number = None
            if not sep or not party or number is None or not 0 <= number <= 1:
                raise typer.BadParameter(f"{text!r}: expected PARTY=SHARE with a share from 0 to 1 (or 0% to 100%)",
                                         param_hint=flag)
            yield party, number

    shocks += [{"type": "pays_fraction", "party": p, "fraction": v} for p, v in pairs(pays, "--pays")]
    shocks += [{"type": "revenue_falls", "parties": "all" if p == "all" else [p], "by": v}
               for p, v in pairs(revenue_falls, "--revenue-falls")]
    shocks += [{"type": "equity_falls", "parties": "all" if p == "all" else [p], "by": v}
               for p, v in pairs(equity_falls, "--equity-falls")]
    if funding_freeze is not None:
        after = None if funding_freeze == "start" else _parse_date(funding_freeze)
        shocks.append({"type": "funding_freeze", "after": after})
    return shocks


@app.command()
def stress(
    path: PathArg = None,
    scenario: Annotated[Optional[str], typer.Option("--scenario", "-s", help="A built-in scenario (openai-cannot-pay, "
                                                    "capital-markets-close, valuation-reset, perfect-storm) or a YAML file. "
                                                    "Default: openai-cannot-pay, or the shocks given by the flags below.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="en (Eisenberg-Noe), rv (Rogers-Veraart), egj "
                                                 "(Elliott-Golub-Jackson), debtrank or furfine. Default: the scenario's.")] = None,
    pays: Annotated[Optional[list[str]], typer.Option("--pays", help="Shock: PARTY=FRACTION, the party pays at most this "
                                                      "share of its commitments and raises no outside funding (repeatable).")] = None,
    revenue_falls: Annotated[Optional[list[str]], typer.Option("--revenue-falls", help="Shock: PARTY=SHARE or all=SHARE, "
                                                               "outside revenue falls by this share (repeatable).")] = None,
    equity_falls: Annotated[Optional[list[str]], typer.Option("--equity-falls", help="Shock: PARTY=SHARE or all=SHARE, "
                                                              "market values fall by this share (repeatable).")] = None,
    funding_freeze: Annotated[Optional[str], typer.Option("--funding-freeze", help="Shock: from this date (YYYY-MM-DD, or "
                                                          "'start') no outside funding, promised investments or loans.")] = None,
    samples: Annotated[int, typer.Option("--samples", min=0, help="Monte Carlo samples of uncertain amounts and shock sizes (0: central run only).")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the samples.")] = 0,
    as_of: AsOfOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Rows of the table (0: all parties hit). JSON lists all.")] = 15,
    list_scenarios: Annotated[bool, typer.Option("--list", help="List the built-in scenarios and exit.")] = False,
    as_json: JsonOption = False,
    lang: LangOption = "en",
) -> None:
    """Stress test: what a default, a funding freeze or a valuation reset does as it cascades through the network: per party value before and after, loss, default and round; the cascade round by round; with --samples, default probabilities and loss quantiles."""
    import numpy as np

    from .display import money
    from .stress import BUILTIN, ScenarioError, load_scenario, stress_test

    _check_lang(lang)
    de = lang == "de"
    if list_scenarios:
        for name, data in BUILTIN.items():
            console.print(f"[bold]{name}[/bold]: {data['title_de' if de else 'title']}", highlight=False)
            console.print(f"  „{data['quote']['text']}“ ({data['quote']['publisher']})", highlight=False, markup=False)
        return
    ledger = _load(path, as_of)
    shocks = _shock_flags(pays, revenue_falls, equity_falls, funding_freeze)
    if shocks and scenario is not None:
        raise typer.BadParameter("give either --scenario or shock flags (--pays, --revenue-falls, --equity-falls, "
                                 "--funding-freeze), not both", param_hint="--scenario")
    try:
        if shocks:
            from .stress import Scenario

            chosen = Scenario.model_validate({"name": "command-line", "title": "Shocks from the command line",
                                              "title_de": "Schocks von der Kommandozeile", "shocks": shocks})
        else:
            chosen = load_scenario(scenario or "openai-cannot-pay")
        if samples > 2_000 and not as_json and console.is_terminal:
            from rich.progress import Progress

            with Progress(console=errors, transient=True) as bar:
                task = bar.add_task("Monte Carlo", total=samples)
                result = stress_test(ledger, chosen, model=model, samples=samples, seed=seed, as_of=_parse_date(as_of),
                                     progress=lambda done, total: bar.update(task, completed=done))
        else:
            result = stress_test(ledger, chosen, model=model, samples=samples, seed=seed, as_of=_parse_date(as_of))
    except ScenarioError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if as_json:
        document = result.to_dict()
        document["input"] = str(path) if path else "ai-2025"
        _emit_json(document)
        return
    names = {p.id: p.name for p in ledger.parties}
    title = (chosen.title_de if de else chosen.title) or chosen.name
    console.print(f"[bold]{title}[/bold] ({chosen.name}; {result.model}: {result.to_dict()['model_name']}; "
                  f"{'Horizont' if de else 'horizon'} {result.start} – {result.end})", highlight=False)
    if chosen.quote:
        q = chosen.quote
        console.print(f"„{q.text}“ ({q.publisher}{', ' + str(q.date) if q.date else ''}, {q.url})", markup=False, highlight=False)
    c = result.central
    hit = [i for i in np.argsort(-c.loss[0], kind="stable") if c.loss[0, i] > 0 or c.defaulted[0, i]]
    table = Table(title=("Verluste gegenüber dem Plan" if de else "Losses against the plan"), title_justify="left")
    headers = (["Partei", "Wert vorher", "Verlust", "in % des Werts", "Wert nachher", "Ausfall (Runde)", "nicht gezahlt"]
               if de else ["party", "value before", "loss", "% of value", "value after", "default (round)", "unpaid"])
    probability, quantiles = result.default_probability(), result.loss_quantiles()
    if probability is not None:
        headers += (["Ausfallwahrsch.", "Verlust 5–95 %"] if de else ["default probability", "loss 5–95%"])
    for header in headers:
        table.add_column(header, overflow="fold")
    for i in hit[: limit or len(hit)]:
        row = [names.get(result.parties[i], result.parties[i]), money(result.value_before[i], lang=lang),
               money(c.loss[0, i], lang=lang), _share(result.loss_share[i], lang), money(result.value_after[i], lang=lang),
               (f"{'ja' if de else 'yes'} ({c.default_round[0, i]})" if c.defaulted[0, i] else ("nein" if de else "no")),
               money(c.shortfall[0, i], lang=lang)]
        if probability is not None:
            row += [_share(probability[i], lang), f"{money(quantiles[0, i], lang=lang)} – {money(quantiles[2, i], lang=lang)}"]
        table.add_row(*row)
    console.print(table)
    cascade = result.cascade()
    label = "Runde" if de else "round"
    console.print(("Kaskade: " if de else "cascade: ") + ("; ".join(
        f"{label} {r}: {', '.join(names.get(p, p) for p in parties)}" for r, parties in enumerate(cascade, 1))
        or ("niemand fällt aus" if de else "nobody defaults")), highlight=False)
    totals = result.to_dict()["totals"]
    console.print((f"Summe: {money(totals['loss_usd'], lang=lang)} Verlust, {totals['defaults']} Ausfälle"
                   if de else f"total: {money(totals['loss_usd'])} lost, {totals['defaults']} defaults"), highlight=False)
    if result.draws is not None:
        likely, share = result.most_likely_cascade()
        text = "; ".join(f"{label} {r}: {', '.join(names.get(p, p) for p in parties)}" for r, parties in enumerate(likely, 1))
        text = text or ("niemand fällt aus" if de else "nobody defaults")
        console.print((f"häufigste Kaskade in {samples} Stichproben ({_share(share, lang)}): " if de else
                       f"most likely cascade in {samples} samples ({_share(share, lang)}): ") + text, highlight=False)
    console.print("[bold]" + ("Annahmen (englisch)" if de else "assumptions") + "[/bold]")
    for text in result.assumptions:
        console.print(f"• {text}", highlight=False, markup=False)


def _growth(values: list[str] | None) -> float | dict[str, float]:
    """``--growth 0.3`` for all parties, ``--growth openai=1.0`` (repeatable) for one."""
    rates: dict[str, float] = {}
    default = 0.0
    for text in values or ():
        party, _, rate = text.rpartition("=")
        try:
            value = float(rate.rstrip("%")) / (100 if rate.endswith("%") else 1)
        except ValueError:
            raise typer.BadParameter(f"{text!r}: expected a rate (0.3 or 30%) or party=rate", param_hint="--growth") from None
        if party:
            rates[party] = value
        else:
            default = value
    if rates and default:
        raise typer.BadParameter("give either one rate for all or party=rate values, not both", param_hint="--growth")
    return rates or default


@app.command()
def gap(
    path: PathArg = None,
    growth: Annotated[Optional[list[str]], typer.Option("--growth", "-g", help="Yearly revenue growth: one rate for all "
                                                        "(0.3 or 30%), or party=rate, repeatable (others 0).")] = None,
    as_of: AsOfOption = None,
    until: Annotated[Optional[int], typer.Option("--until", help="Last year of the table (default: ten years; JSON: every year with commitments).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Rows of the party table (0: all).")] = 12,
    as_json: JsonOption = False,
    lang: LangOption = "en",
) -> None:
    """Funding gap: commitments falling due per year against revenue (reported, then projected under stated growth), per party and for the network, the growth each party would need, and Bain's $2 trillion / $800 billion estimate rebuilt from its inputs."""
    import math

    from .display import money
    from .stress.gap import funding_gap

    _check_lang(lang)
    de = lang == "de"
    ledger = _load(path, as_of)
    rates = _growth(growth)
    unknown = sorted(set(rates) - {p.id for p in ledger.parties}) if isinstance(rates, dict) else []
    if unknown:
        raise typer.BadParameter(f"no such party: {', '.join(unknown)}", param_hint="--growth")
    try:
        result = funding_gap(ledger, growth=rates, last_year=until if as_json else None)
    except ValueError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    if until is not None and until < result.base_year:
        raise typer.BadParameter(f"{until} is before the first year counted, {result.base_year}", param_hint="--until")
    if as_json:
        document = result.to_dict()
        document["input"] = str(path) if path else "ai-2025"
        _emit_json(document)
        return
    last = until or result.base_year + 9
    shown = [k for k, y in enumerate(result.years) if y <= last]
    table = Table(title=("Verpflichtungen je Jahr gegen Umsatz (Netzwerk)" if de else "Commitments per year against revenue (network)"),
                  title_justify="left")
    for header in (["Jahr", "fällige Verpflichtungen", "Umsatz der Verpflichteten", "Lücke"] if de else
                   ["year", "commitments due", "revenue of those committed", "gap"]):
        table.add_column(header)
    for k in shown:
        table.add_row(str(result.years[k]), money(result.commitments_usd[k], lang=lang),
                      money(result.revenue_projected_usd[k], lang=lang), money(result.gap_usd[k], lang=lang))
    console.print(table)
    later = result.commitments_usd[[k for k in range(len(result.years)) if result.years[k] > last]].sum()
    if later > 0:
        console.print((f"danach bis {result.years[-1]}: {money(later, lang=lang)}" if de else
                       f"after that, to {result.years[-1]}: {money(later, lang=lang)}"), highlight=False)
    parties = Table(title=("Je Partei" if de else "Per party"), title_justify="left")
    for header in (["Partei", "Jahresumsatz", "Wachstum angenommen", "Verpflichtungen gesamt", "Spitzenjahr",
                    "Spitze / Umsatz", "nötiges Wachstum p. a.", "ohne Betrag"] if de else
                   ["party", "annual revenue", "growth assumed", "total commitments", "peak year", "peak / revenue",
                    "growth needed a year", "undisclosed"]):
        parties.add_column(header, overflow="fold")
    for p in result.parties[: limit or len(result.parties)]:
        k = int(p.commitments_usd.argmax())
        ratio = p.commitments_usd[k] / p.revenue_usd if p.revenue_usd == p.revenue_usd and p.revenue_usd > 0 else math.nan
        if p.growth_needed != p.growth_needed:
            needed = "–"
        elif p.growth_needed == math.inf:
            needed = "nicht erreichbar" if de else "out of reach"
        elif p.growth_needed <= 0:
            needed = "gedeckt" if de else "covered"
        else:
            needed = _share(p.growth_needed, lang)
        parties.add_row(p.name, money(p.revenue_usd, lang=lang), _share(p.growth, lang), money(p.total_commitments_usd, lang=lang),
                        str(result.years[k]), "–" if ratio != ratio else f"{ratio:.1f}×".replace(".", "," if de else "."),
                        needed, str(p.undisclosed or ""))
    console.print(parties)
    b = result.bain
    if de:
        console.print(f"Bain (Technology Report 2025): {money(b.capex_usd, lang=lang)} Investitionen pro Jahr ÷ "
                      f"{_share(b.capex_to_revenue, lang)} (abgeleitet) = {money(b.revenue_needed_usd, lang=lang)} Umsatz nötig "
                      f"bis {b.year}; finanziert {money(b.funded_usd, lang=lang)} (abgeleitet) → Lücke {money(b.shortfall_usd, lang=lang)}",
                      highlight=False)
    else:
        console.print(f"Bain (Technology Report 2025): {money(b.capex_usd)} capex a year ÷ {_share(b.capex_to_revenue, lang)} "
                      f"(derived) = {money(b.revenue_needed_usd)} revenue needed by {b.year}; funded {money(b.funded_usd)} "
                      f"(derived) → shortfall {money(b.shortfall_usd)}", highlight=False)
    central = [row for row in b.sensitivity if row[1] == b.funded_usd]
    console.print(("je nach Investitionsquote: " if de else "by capex-to-revenue ratio: ") + "; ".join(
        f"{_share(r, lang)} → {money(need, lang=lang)} / {money(short, lang=lang)}" for r, _, need, short in central), highlight=False)
    for source in b.sources:
        console.print(f"  {source['publisher']}: {source['url']}", highlight=False, markup=False)
    console.print("[bold]" + ("Annahmen (englisch)" if de else "assumptions") + "[/bold]")
    for text in result.assumptions:
        console.print(f"• {text}", highlight=False, markup=False)


@app.command()
def serve(
    path: PathArg = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on. Anything but loopback makes the ledger "
                                                     "reachable from the network: only with --read-only or behind your own access control.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free one).")] = 8765,
    read_only: Annotated[bool, typer.Option("--read-only", help="Refuse every change (403).")] = False,
    allow_host: Annotated[Optional[list[str]], typer.Option("--allow-host", help="Another host name the browser may use "
                                                                                 "to reach the dashboard (repeatable).")] = None,
) -> None:
    """Start the dashboard: explore the network, run stress tests and keep the ledger up to date.

    Edits are validated like [bold]validate[/bold], written atomically to the YAML files (only the
    changed entry's lines move) and recorded in a change log beside the ledger. The bundled dataset
    is served read-only. Ctrl-C stops the server."""
    import socket

    import uvicorn

    from .ledger import LedgerError
    from .ledger.editor import LedgerEditor
    from .web import create_app

    try:
        editor = LedgerEditor(path, read_only=read_only)
    except LedgerError as exc:
        for problem in exc.problems:
            errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        errors.print(f"[red]{len(exc.problems)} problem(s)[/red] in {path}")
        raise typer.Exit(1) from None
    hosts = list(allow_host or [])
    if host not in ("127.0.0.1", "localhost", "::1"):
        hosts.append(host)
        errors.print(f"[yellow]warning:[/yellow] listening on {host}: anyone who can reach it can "
                     + ("read the ledger" if editor.read_only else "change the ledger"), highlight=False)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, so that asyncio turns Nagle's algorithm off (else each response waits ~40 ms for an ACK)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # connections wait in the backlog from the moment the address is printed
    except OSError as exc:
        errors.print(f"error: cannot listen on {host}:{port}: {exc.strerror}", highlight=False)
        raise typer.Exit(2) from None
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    state = f"read-only: {editor.read_only_reason}" if editor.read_only else f"editing {editor.display}"
    console.print(f"loopscope dashboard on http://{shown}:{bound}/ ({state}; Ctrl-C to stop)", highlight=False, markup=False)
    sys.stdout.flush()
    web = create_app(editor=editor, allowed_hosts=hosts)
    config = uvicorn.Config(web, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn passes Ctrl-C on once it has shut down cleanly
        pass
    finally:
        web.state.jobs.shutdown()
        sock.close()
    console.print("stopped", highlight=False)


EXPORT_FORMATS = ("ftm", "gexf", "graphml", "kumu", "neo4j")
IMPORT_FORMATS = ("ftm", "csv-flows")


@app.command("export")
def export_(
    path: PathArg = None,
    to: Annotated[str, typer.Option("--to", help="ftm (FollowTheMoney JSON lines), gexf (Gephi), graphml, "
                                                 "kumu (Kumu JSON blueprint) or neo4j (bulk-import CSV folder).")] = "gexf",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="The file (a folder for neo4j) to write.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output.")] = False,
) -> None:
    """Export the ledger for other tools: Aleph and OpenSanctions (FollowTheMoney), Gephi, Kumu, Neo4j."""
    if to not in EXPORT_FORMATS:
        raise typer.BadParameter(f"unknown format {to!r} (expected one of: {', '.join(EXPORT_FORMATS)})", param_hint="--to")
    suffix = {"ftm": ".ftm.json", "gexf": ".gexf", "graphml": ".graphml", "kumu": ".kumu.json", "neo4j": ""}[to]
    output = output or Path(f"{path.stem if path else 'ai-2025'}{suffix or '-neo4j'}")
    if output.exists() and not force and (output.is_file() or any(output.iterdir())):
        errors.print(f"{output}: exists; use --force to overwrite", markup=False, highlight=False)
        raise typer.Exit(2)
    ledger = _load(path)
    if to == "ftm":
        from .interop import ftm

        written = ftm.write(ledger, output)
    else:
        from .interop import graph_formats

        written = graph_formats.write(ledger, to, output, dataset=path.name if path else "ai-2025")
    console.print(f"wrote {len(ledger.parties)} parties and {len(ledger.deals)} deals as {to} to {output} "
                  f"({len(written)} file{'s' if len(written) != 1 else ''})", highlight=False)


@app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(help="The file to import.")],
    from_: Annotated[str, typer.Option("--from", help="ftm (FollowTheMoney JSON lines) or csv-flows "
                                                      "(src,dst,amount,date rows; see the README for the columns).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The ledger to write: x.yaml, x.json or a folder.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output.")] = False,
    kind: Annotated[Optional[str], typer.Option("--kind", help="csv-flows: the deal kind of rows without a kind column.")] = None,
    currency: Annotated[str, typer.Option("--currency", help="csv-flows: the currency of rows without a currency column.")] = "USD",
    status: Annotated[str, typer.Option("--status", help="csv-flows: the status of rows without a status column.")] = "completed",
    source_url: Annotated[Optional[str], typer.Option("--source-url", help="csv-flows: where rows without a source_url come from.")] = None,
    publisher: Annotated[Optional[str], typer.Option("--publisher", help="csv-flows: the publisher of that source.")] = None,
    source_title: Annotated[Optional[str], typer.Option("--source-title", help="csv-flows: the title of that source.")] = None,
    source_date: Annotated[Optional[str], typer.Option("--source-date", help="csv-flows: the date of that source.")] = None,
) -> None:
    """Import a ledger from FollowTheMoney entities or a flows CSV; every problem is named with its line."""
    from .ledger import LedgerError
    from .ledger.files import target_format

    if from_ not in IMPORT_FORMATS:
        raise typer.BadParameter(f"unknown format {from_!r} (expected one of: {', '.join(IMPORT_FORMATS)})", param_hint="--from")
    if output.exists() and not force and (output.is_file() or any(output.iterdir())):
        errors.print(f"{output}: exists; use --force to overwrite", markup=False, highlight=False)
        raise typer.Exit(2)
    if output.suffix.lower() not in ("", ".yaml", ".yml", ".json"):
        raise typer.BadParameter(f"{output}: write the ledger to x.yaml, x.json or a folder", param_hint="--output")
    fmt = target_format(output, None)
    notes: list[str] = []
    try:
        if from_ == "ftm":
            from .interop import ftm

            ledger, notes = ftm.read_entities(source)
        else:
            from .interop.flows_import import Defaults, read_flows_ledger

            ledger = read_flows_ledger(source, Defaults(kind=kind, currency=currency, status=status, source_url=source_url,
                                                        publisher=publisher,
                                                        source_title=source_title, source_date=source_date))
    except LedgerError as exc:
        for problem in exc.problems:
            errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        count = len(exc.problems)
        errors.print(f"[red]{count} problem{'s' if count != 1 else ''}[/red] in {source}; nothing written", soft_wrap=True)
        raise typer.Exit(1) from None
    for note in notes:
        errors.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    if not ledger.parties and not ledger.deals:
        errors.print(f"{source}: no parties and no deals to import; nothing written", markup=False, highlight=False)
        raise typer.Exit(1)
    written = ledger.save(output, fmt)
    console.print(f"wrote {len(ledger.deals)} deals and {len(ledger.parties)} parties as {fmt} to {output} "
                  f"({len(written)} file{'s' if len(written) != 1 else ''})", highlight=False)


def _window(text: str) -> tuple[int, int]:
    try:
        first, last = (int(part) for part in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected two trading days such as -1,1", param_hint="--window") from None
    return first, last


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:+.1f}%"


def _money_short(value: float | None, currency: str) -> str:
    if value is None:
        return ""
    for size, suffix in ((1e12, "tn"), (1e9, "bn"), (1e6, "m")):
        if abs(value) >= size:
            return f"{value / size:+,.1f}{suffix} {currency}"
    return f"{value:+,.0f} {currency}"


def _value_pm(value: float | None, se: float | None, currency: str | None) -> str:
    """'+89.0bn ± 11.7bn USD': a value added with its standard error and currency."""
    if value is None:
        return ""
    text = _money_short(value, "").strip()
    if se is not None:
        text += " ± " + _money_short(se, "").strip().lstrip("+")
    return f"{text} {currency}" if currency else text


@app.command("event-study")
def event_study_(
    path: PathArg = None,
    prices: Annotated[Optional[Path], typer.Option("--prices", help="Daily closes: CSV date,ticker,close[,shares_outstanding,currency] "
                                                                    "or wide date,AMD,NVDA,SPY,... (with the market index).")] = None,
    fetch: Annotated[bool, typer.Option("--fetch", help="Fetch the closes from Yahoo Finance instead "
                                                        "(needs the network and 'pip install loopscope[market]').")] = False,
    market: Annotated[str, typer.Option("--market", help="The market index's ticker in the prices.")] = "SPY",
    estimation: Annotated[int, typer.Option("--estimation", help="Trading days of the estimation window.")] = 250,
    gap: Annotated[int, typer.Option("--gap", help="The estimation window ends this many trading days before the "
                                                   "event window starts (10: days -260 to -11 for the window -1,1).")] = 10,
    window: Annotated[str, typer.Option("--window", help="The event window in trading days around day 0, e.g. "
                                                         "--window=-1,1 (day 0: the first trading day on or after the announcement).")] = "-1,1",
    log_returns: Annotated[bool, typer.Option("--log-returns", help="Log returns instead of simple returns.")] = False,
    currency: Annotated[Optional[str], typer.Option("--currency", help="The currency of closes the price file gives none "
                                                                       "for (else their value added is unknown).")] = None,
    as_of: AsOfOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="The whole result as JSON.")] = False,
    lang: LangOption = "en",
) -> None:
    """Abnormal returns around each deal's announcement (market model), and the market value each added."""
    from .analysis.event_study import event_study
    from .interop.prices import fetch_prices, fetch_range, read_prices
    from .ledger import LedgerError

    _check_lang(lang)
    if (prices is None) == (not fetch):
        raise typer.BadParameter("give a price file with --prices FILE, or --fetch", param_hint="--prices")
    ledger = _load(path, as_of)
    try:
        if prices is not None:
            table = read_prices(prices)
        else:
            tickers = {p.ticker for p in ledger.parties if p.ticker} | {market}
            start, end = fetch_range((d.announced for d in ledger.deals), estimation, gap, _window(window))
            table = fetch_prices(sorted(tickers), start, end)
        result = event_study(ledger, table, market=market, estimation=estimation, gap=gap, window=_window(window),
                             returns="log" if log_returns else "simple", currency=currency)
    except LedgerError as exc:
        for problem in exc.problems:
            errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except ImportError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if as_json:
        _emit_json(result.to_dict())
        return
    de = lang == "de"
    first, last = result.window
    console.print(("Ereignisstudie, Marktmodell" if de else "Event study, market model") +
                  f": {result.market}, {result.estimation} {'Handelstage Schätzfenster' if de else 'trading days of estimation'}, "
                  f"{'Lücke' if de else 'gap'} {result.gap}, {'Fenster' if de else 'window'} [{first:+d}, {last:+d}], "
                  f"{'Log-Renditen' if result.returns == 'log' else ('einfache Renditen' if de else 'simple returns')}; "
                  f"{'Varianz mit Schätzfehler' if de else 'variance with estimation error'}, "
                  f"{'signifikant' if de else 'significant'}: p < {result.level:g} (*)", highlight=False)
    table_events = Table(title="Ereignisse" if de else "Events")
    for column in (["Partei", "Tag 0", "Deals"] if de else ["party", "day 0", "deals"]):
        table_events.add_column(column)
    for day in result.days:
        table_events.add_column(f"AR {day:+d}", justify="right")
    for column in (["CAR", "t", "p", "", "Börsenwert vorher", "Wertzuwachs", "Hinweis"] if de else
                   ["CAR", "t", "p", "", "market cap before", "value added", "note"]):
        table_events.add_column(column, justify="right" if column not in ("", "Hinweis", "note") else "left")
    footnotes: list[str] = []
    for event in result.events:
        day0 = event.day0.isoformat() if event.day0 else ""
        if event.day0 and event.event_date != event.day0:
            day0 += f" ({event.event_date.isoformat()})"
        ars = list(event.ar) or [None] * len(result.days)
        parts = [event.reason or event.value_reason or ""]
        if event.overlaps:
            parts.append(("Fenster überlappt das Ereignis vom " if de else "window overlaps the event(s) of ")
                         + ", ".join(d.isoformat() for d in event.overlaps)
                         + (" (in der Summe nicht gezählt)" if de else " (left out of the party's total)"))
        text = "; ".join(part for part in parts if part)
        note = ""
        if text:  # long explanations go below the table, numbered
            footnotes.append(text)
            note = f"[{len(footnotes)}]"
        table_events.add_row(
            f"{event.name} ({event.ticker})", day0, ", ".join(event.deals), *(_percent(a) for a in ars),
            _percent(event.car), "" if event.t is None else f"{event.t:.2f}", "" if event.p is None else f"{event.p:.3f}",
            "*" if event.significant else "", _money_short(event.market_cap_before, event.currency or "").lstrip("+"),
            _value_pm(event.value_added, event.value_added_se, event.currency), note)
    console.print(table_events)
    for number, text in enumerate(footnotes, start=1):
        console.print(f"[{number}] {text}", markup=False, highlight=False, soft_wrap=True)
    totals = Table(title="Je Partei" if de else "Per party")
    for column in (["Partei", "Ereignisse", "geschätzt", "signifikant", "bewertet", "Wertzuwachs (ohne Überlappungen) ± SF",
                    "davon signifikant", "mit Überlappungen"] if de else
                   ["party", "events", "estimated", "significant", "valued", "value added (no overlaps) ± s.e.",
                    "of which significant", "with overlaps"]):
        totals.add_column(column, justify="left" if column in ("party", "Partei") else "right")
    unknown = "unbekannt" if de else "unknown"
    for total in result.parties:  # with no event valued, the sum is unknown, not zero
        ccy = total.currency or ""
        totals.add_row(f"{total.name} ({total.ticker})", str(total.events), str(total.estimated), str(total.significant),
                       str(total.valued),
                       _value_pm(total.value_added, total.value_added_se, total.currency) if total.valued else unknown,
                       _money_short(total.value_added_significant, ccy) if total.valued else unknown,
                       _money_short(total.value_added_with_overlaps, ccy) if total.valued else unknown)
    console.print(totals)
    console.print("± s.e.: the standard error of the value added (CAR's × the market cap; per party, events taken as "
                  "independent). A value whose CAR is not significant is mostly noise." if not de else
                  "± SF: Standardfehler des Wertzuwachses (der CAR × Börsenwert; je Partei Ereignisse als unabhängig "
                  "angenommen). Ein Wert ohne signifikante CAR ist überwiegend Rauschen.", highlight=False)
    if result.skipped:
        skipped = Table(title="Übersprungen" if de else "Skipped")
        for column in (["Partei", "Ticker", "Grund", "Deals"] if de else ["party", "ticker", "reason", "deals"]):
            skipped.add_column(column)
        for item in result.skipped:
            skipped.add_row(item.name, item.ticker or "", item.reason, str(len(item.deals)))
        console.print(skipped)


figures_app = typer.Typer(help="Reported figures: fetch them from SEC EDGAR into a YAML ledger.", no_args_is_help=True)
app.add_typer(figures_app, name="figures")


@figures_app.command("update")
def figures_update(
    path: Annotated[Optional[Path], typer.Argument(help="A YAML ledger file or folder to write into (the bundled "
                                                        "dataset is read-only: copy it with 'loopscope convert ai-2025 my-deals/').",
                                                   show_default=False)] = None,
    party: Annotated[Optional[list[str]], typer.Option("--party", "-p", help="Only this party (repeatable). "
                                                                             "Default: every party with a ticker.")] = None,
    user_agent: Annotated[Optional[str], typer.Option("--user-agent", help="Who asks, as the SEC requires: 'Name email@domain'. "
                                                                           "Default: $LOOPSCOPE_SEC_USER_AGENT.")] = None,
    cache: Annotated[Optional[Path], typer.Option("--cache", help="Cache folder for SEC responses. "
                                                                  "Default: ~/.cache/loopscope/edgar.")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Use only the cache; never touch the network.")] = False,
    max_age: Annotated[float, typer.Option("--max-age", help="Hours a cached response stays fresh.")] = 24.0,
    since: Annotated[Optional[str], typer.Option("--since", help="Write every period ending on or after this date, "
                                                                 "not only the latest.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The result as JSON.")] = False,
) -> None:
    """Fetch revenue, backlog (RPO), cash, debt and shares outstanding from SEC EDGAR's XBRL company facts
    for parties with a ticker, and write each into the ledger with the filing as its source."""
    from datetime import timedelta

    from .interop.edgar import EdgarClient, EdgarError, update_figures
    from .ledger import LedgerError
    from .ledger.editor import EditError

    day = _parse_date(since)
    try:
        client = EdgarClient(user_agent=user_agent, cache_dir=cache, offline=offline, max_age=timedelta(hours=max_age))
        result = update_figures(path, client, parties=party or None, latest_only=day is None, since=day, dry_run=dry_run)
    except (EdgarError, EditError) as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except LedgerError as exc:
        for problem in exc.problems:
            errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if as_json:
        _emit_json(result.to_dict())
        return
    console.print(result.summary(), markup=False, highlight=False, soft_wrap=True)

def _utc(microseconds: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(microseconds / 1e6, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _load_transactions(ledger: Path, work: Path, columns, rejects, currency, time_format, time_unit):
    """Load a transaction ledger for ``scan``; problems exit with status 1 and name file, row and field."""
    from .scan.load import LoadError, load_ledger

    try:
        return load_ledger(ledger, work, columns=columns, rejects=rejects, currency=currency,
                           time_format=time_format, time_unit=time_unit)
    except LoadError as exc:
        errors.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


@app.command()
def scan(
    ledger: Annotated[Path, typer.Argument(help="Transaction ledger: a CSV file, a Parquet file or a folder of Parquet parts, "
                                                "with columns src, dst, amount, timestamp (and optionally id, currency).",
                                           show_default=False)],
    window: Annotated[str, typer.Option(help="Longest time from the first to the last payment of a round trip (inclusive): "
                                             "e.g. 24h, 7d, 2w.")] = "7d",
    max_length: Annotated[int, typer.Option("--max-length", help="Most hops (payments) in a round trip (2–12).")] = 6,
    min_amount: Annotated[float, typer.Option("--min-amount", help="Leave out payments below this amount.")] = 0.0,
    amount_ratio: Annotated[Optional[float], typer.Option("--amount-ratio", help="Each hop must carry at least this share "
                                                          "of the previous one (money passed on minus a cut), e.g. 0.8.")] = None,
    order: Annotated[str, typer.Option(help="time: timestamps strictly increase along the trip; any: all payments within "
                                            "the window in any order (as IBM's AMLSim plants them).")] = "time",
    engine: Annotated[str, typer.Option(help="auto, memory (compiled, fastest when a chunk fits), duckdb (out of core) "
                                             "or spark.")] = "auto",
    spark_master: Annotated[Optional[str], typer.Option("--spark-master", help="Spark master URL for --engine spark "
                                                        "(default local[2]).")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write the round trips here (.parquet or .csv).")] = None,
    features: Annotated[Optional[Path], typer.Option("--features", help="Write per-transaction cycle counts by length here "
                                                     "(.parquet or .csv; default with -o: OUT's name + .features.parquet).")] = None,
    rejects: Annotated[Optional[Path], typer.Option("--rejects", help="Write malformed rows here (.csv or .parquet) and scan "
                                                    "the rest; without it, malformed rows stop the scan.")] = None,
    src_column: Annotated[str, typer.Option("--src-column", help="Column of the paying account.")] = "src",
    dst_column: Annotated[str, typer.Option("--dst-column", help="Column of the receiving account.")] = "dst",
    amount_column: Annotated[str, typer.Option("--amount-column", help="Column of the amount.")] = "amount",
    time_column: Annotated[str, typer.Option("--time-column", help="Column of the timestamp.")] = "timestamp",
    id_column: Annotated[str, typer.Option("--id-column", help="Column of the transaction id (optional).")] = "id",
    currency_column: Annotated[str, typer.Option("--currency-column", help="Column of the currency (optional).")] = "currency",
    time_format: Annotated[Optional[str], typer.Option("--time-format", help="strptime format of text timestamps, e.g. "
                                                       "'%Y/%m/%d %H:%M' (default: ISO 8601).")] = None,
    time_unit: Annotated[Optional[str], typer.Option("--time-unit", help="Timestamps are epoch numbers in s, ms or us.")] = None,
    currency: Annotated[Optional[str], typer.Option(help="Scan only payments in this currency (the others are counted and "
                                                    "reported).")] = None,
    threads: Annotated[Optional[int], typer.Option(help="Threads for the memory and DuckDB engines (default: all cores).")] = None,
    chunk_size: Annotated[Optional[int], typer.Option("--chunk-size", help="Start transactions per chunk (memory is one chunk "
                                                      "plus one window).")] = None,
    work: Annotated[Optional[Path], typer.Option(help="Folder for temporary files (default: the system's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Find temporal round trips (money that comes back to where it started) in a transaction ledger of any size."""
    import shutil
    import tempfile

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .scan.load import Columns
    from .scan.run import ENGINES, scan_prepared
    from .scan.spec import ScanSpec, parse_duration

    try:
        spec = ScanSpec(window=parse_duration(window), max_length=max_length, min_amount=min_amount,
                        amount_ratio=amount_ratio, order=order)  # type: ignore[arg-type]
    except ValueError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    if engine not in ENGINES:
        errors.print(f"error: --engine must be one of {', '.join(ENGINES)}, not {engine!r}", markup=False, highlight=False)
        raise typer.Exit(2)
    for path in (output, features):
        if path is not None and path.suffix.lower() not in (".parquet", ".csv"):
            errors.print(f"error: {path}: write .parquet or .csv", markup=False, highlight=False)
            raise typer.Exit(2)
    if output is not None and features is None:
        features = output.with_name(output.stem + ".features.parquet")
    if chunk_size is not None and chunk_size < 1:
        errors.print(f"error: --chunk-size must be at least 1, not {chunk_size}", markup=False, highlight=False)
        raise typer.Exit(2)
    cores = os.cpu_count() or 1
    if threads is not None and not 1 <= threads <= cores:
        errors.print(f"error: --threads must be between 1 and {cores} (this machine's cores), not {threads}",
                     markup=False, highlight=False)
        raise typer.Exit(2)
    written = [p for p in (output, features, rejects) if p is not None]
    for i, path in enumerate(written):
        if ledger.exists() and path.exists() and path.resolve() == ledger.resolve():
            errors.print(f"error: {path} is the ledger itself: choose another output file", markup=False, highlight=False)
            raise typer.Exit(2)
        if any(path.resolve() == other.resolve() for other in written[i + 1:]):
            errors.print(f"error: {path} is named for two outputs", markup=False, highlight=False)
            raise typer.Exit(2)
    if not ledger.exists():
        errors.print(f"error: {ledger}: no such file or folder", markup=False, highlight=False)
        raise typer.Exit(2)
    columns = Columns(src=src_column, dst=dst_column, amount=amount_column, timestamp=time_column,
                      id=id_column, currency=currency_column)
    folder = Path(tempfile.mkdtemp(prefix="loopscope-scan-", dir=work))
    try:
        loaded = _load_transactions(ledger, folder / "prepared", columns, rejects, currency, time_format, time_unit)
        if loaded.rejected:
            rows = "row" if loaded.rejected == 1 else "rows"
            errors.print(f"{loaded.rejected:,} malformed {rows} set aside in {rejects}; first: {loaded.rejections[0]}",
                         markup=False, highlight=False, soft_wrap=True)
        if loaded.other_currency:
            rows = "row" if loaded.other_currency == 1 else "rows"
            errors.print(f"{loaded.other_currency:,} {rows} in currencies other than {loaded.currency} left out",
                         markup=False, highlight=False)
        show = not quiet and not as_json and errors.is_terminal
        with Progress(TextColumn("scanning"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} rows"),
                      TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=errors, disable=not show,
                      transient=True) as bar:
            task = bar.add_task("scan", total=len(loaded.prepared), rate="")
            import time as clock

            started = clock.perf_counter()

            def progress(done: int, total: int) -> None:
                rate = done / max(clock.perf_counter() - started, 1e-9)
                bar.update(task, completed=done, rate=f"{rate:,.0f} rows/s")

            try:
                summary = scan_prepared(loaded.prepared, spec, engine=engine, round_trips_path=output,
                                        features_path=features, progress=progress, spark_master=spark_master,
                                        threads=threads, chunk_size=chunk_size, work=folder)
            except ImportError as exc:
                errors.print(f"error: engine {engine} needs a package that is not installed ({exc.name}); "
                             "install loopscope[spark] for --engine spark", markup=False, highlight=False)
                raise typer.Exit(2) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if as_json:
        data = summary.to_dict()
        data.update(rows_read=loaded.rows_read, rejected=loaded.rejected, other_currency=loaded.other_currency)
        _emit_json(data)
        return
    unit = f" {summary.currency}" if summary.currency else " (currency not given)"
    console.print(f"{summary.transactions:,} transactions scanned by the {summary.engine} engine in {summary.seconds:.2f} s "
                  f"({spec.describe()})", markup=False, highlight=False)
    console.print(f"{summary.round_trips:,} round trips; {summary.transactions_on_round_trips:,} transactions lie on at least "
                  f"one; {summary.circulated_total:,.2f}{unit} circulated (each trip's smallest payment, summed)",
                  markup=False, highlight=False)
    table = Table(title="Round trips by length")
    table.add_column("hops", justify="right")
    table.add_column("round trips", justify="right")
    for k, count in summary.by_length.items():
        table.add_row(str(k), f"{count:,}")
    console.print(table)
    if summary.largest:
        top = Table(title=f"Largest round trips by circulated amount{unit}")
        for name in ("circulated", "first (UTC)", "last (UTC)", "accounts", "transactions"):
            top.add_column(name, justify="right" if name == "circulated" else "left")
        for trip in summary.largest:
            top.add_row(f"{trip.circulated:,.2f}", _utc(trip.first_time), _utc(trip.last_time),
                        " → ".join(trip.accounts + trip.accounts[:1]), ", ".join(trip.transactions))
        console.print(top)
    if output is not None:
        console.print(f"round trips written to {output}; cycle features to {features}", markup=False, highlight=False)
    elif features is not None:
        console.print(f"cycle features written to {features}", markup=False, highlight=False)


@app.command()
def synth(
    accounts: Annotated[int, typer.Option(help="Number of accounts.")] = 100_000,
    transactions: Annotated[int, typer.Option(help="Number of transactions (exactly).")] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same file.")] = 1,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write (.parquet or .csv).")] = Path("ledger.parquet"),
    days: Annotated[int, typer.Option(help="Days the ledger spans.")] = 30,
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD, UTC).")] = "2025-09-01",
    laundering_share: Annotated[float, typer.Option("--laundering-share", help="Share of planted laundering transactions.")] = 0.001,
    cycle_window: Annotated[str, typer.Option("--cycle-window", help="Longest span of a planted cycle.")] = "7d",
    max_cycle_length: Annotated[int, typer.Option("--max-cycle-length", help="Longest planted cycle (hops).")] = 6,
    currency: Annotated[str, typer.Option(help="Currency code written in every row.")] = "USD",
) -> None:
    """Write a synthetic transaction ledger with labelled laundering patterns (AMLworld typologies) to test scans on."""
    from collections import Counter

    from .scan.spec import parse_duration
    from .scan.synth import synthesize

    if output.suffix.lower() not in (".parquet", ".csv"):
        errors.print(f"error: {output}: write .parquet or .csv", markup=False, highlight=False)
        raise typer.Exit(2)
    try:
        ledger = synthesize(accounts, transactions, seed, days=days, start=start, laundering_share=laundering_share,
                            currency=currency, cycle_window=parse_duration(cycle_window), max_cycle_length=max_cycle_length)
    except ValueError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    ledger.write(output)
    kinds = Counter(p.typology for p in ledger.patterns)
    labelled = int(ledger.is_laundering.sum())
    console.print(f"{transactions:,} transactions between {accounts:,} accounts over {days} days written to {output}; "
                  f"{labelled:,} labelled laundering in {len(ledger.patterns):,} planted patterns "
                  f"(synthetic data, seed {seed})", markup=False, highlight=False)
    table = Table(title="Planted patterns")
    table.add_column("typology")
    table.add_column("patterns", justify="right")
    for name, count in sorted(kinds.items()):
        table.add_row(name, f"{count:,}")
    console.print(table)


def main() -> None:
    """Entry point: run the app; turn unexpected OS errors into one clean line."""
    try:
        app()
    except (OSError, ValueError) as exc:  # e.g. permission denied, disk full
        errors.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(2)
