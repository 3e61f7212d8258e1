"""The report: one self-contained HTML file that tells the articles' story with the data.

:func:`render_report` turns a ledger into the page; :mod:`.content` computes what it shows,
``template.html`` (Jinja2) lays it out, the bundled cytoscape.js draws the network offline.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from ..ledger import Ledger
from .content import report_content
from .i18n import LABELS, label
from .svg import bar_chart, column_chart

CYTOSCAPE_VERSION = "3.34.4"


def _labels(content: dict, lang: str) -> dict[str, str]:
    values = {
        "network_help": {"metric": "market capitalisation, valuation or revenue" if lang == "en"
                         else "Marktkapitalisierung, Bewertung oder Umsatz"},
        "cycles_help": {"k": content["max_length"]},
        "cycles_shown": {"shown": len(content["cycles"]), "total": content["cycles_total"]},
        "round_trips": {"k": content["max_length"]},
        "stress": {"title": content["stress"]["title"] if content["stress"] else ""},
    }
    out = {}
    for key, text in LABELS.items():
        try:
            out[key] = label(key, lang, **values.get(key, {}))
        except KeyError:  # a label with placeholders the page fills elsewhere
            out[key] = text[lang]
    return out


def _charts(content: dict, lang: str) -> str:
    rows = sorted(content["exposure"], key=lambda r: -r["inflow_usd"])[:12]
    inflow = bar_chart(
        [(r["party"], r["inflow_usd"], r["round_tripped_usd"], f"{r['inflow']} ({r['round_tripped_share']})") for r in rows],
        label("charts_inflow", lang), legend=(label("inflow", lang), label("round_tripped", lang)),
    )
    years = sorted((r for r in content["exposure"] if r["years"] is not None), key=lambda r: -r["years"])[:12]
    commitments = bar_chart([(r["party"], r["years"], None, f"{r['years']:g}") for r in years], label("charts_years", lang))
    return inflow + commitments


def _stress_chart(content: dict, lang: str) -> str:
    rows = [r for r in content["stress"]["rows"] if r["loss_usd"] > 0][:12] if content["stress"] else []
    if not rows:
        return ""
    return bar_chart([(r["party"], r["loss_usd"], None, f"{r['loss']} ({r['share']})") for r in rows], label("charts_loss", lang))


def _gap_chart(content: dict, lang: str) -> str:
    """The party with the largest gap first (where the story is), then the whole network."""
    from ..display import money

    gap = content["gap"]
    years = [str(y["year"]) for y in gap["years"]]
    if not years:
        return ""
    charts = []
    series = ([(gap["top"]["party"], gap["top"]["commitments_usd"], gap["top"]["commitments"], gap["top"]["revenue_usd"],
                gap["top"]["revenue"])] if gap["top"] else [])
    series.append((label("network_total", lang), [y["commitments_usd"] for y in gap["years"]],
                   [y["commitments"] for y in gap["years"]], [y["revenue_usd"] for y in gap["years"]],
                   [y["revenue"] for y in gap["years"]]))
    for who, due, due_text, revenue, revenue_text in series:
        charts.append(column_chart(list(zip(years, due, due_text)), revenue, label("charts_gap", lang, who=who),
                                   legend=(label("commitments_due", lang), label("revenue", lang)),
                                   line_text=[f"{y}: {t}" for y, t in zip(years, revenue_text)],
                                   scale_text=lambda v: money(v, lang=lang)))
    return "".join(charts)


def _json_for_script(document: dict) -> str:
    """JSON that cannot end the script element it sits in: <, > and & as unicode escapes."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace(
        "\u2028", "\\u2028").replace("\u2029", "\\u2029")


def render_report(ledger: Ledger, name: str = "ai-2025", lang: str = "en", max_length: int = 6,
                  datasheet: str | None = None, scenario="auto", samples: int = 0, seed: int = 0) -> str:
    """The whole report as one HTML document (scripts, styles and data inlined; no request leaves it).

    ``scenario`` is the stress test shown (a built-in name, a YAML file or a Scenario; ``"auto"``:
    ``openai-cannot-pay`` where the ledger has OpenAI; None: none), with ``samples`` Monte Carlo
    samples."""
    import jinja2

    content = report_content(ledger, name, lang=lang, max_length=max_length, datasheet=datasheet, scenario=scenario,
                             samples=samples, seed=seed)
    package = resources.files(__package__)
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    template = environment.from_string(package.joinpath("template.html").read_text(encoding="utf-8"))
    script_data = {"network": content["network"], "cycles": [{"parties": c["parties"], "deals": c["deals"]}
                                                             for c in content["cycles"]]}
    return template.render(
        c=content, L=_labels(content, lang), charts=_charts(content, lang),
        stress_chart=_stress_chart(content, lang), gap_chart=_gap_chart(content, lang),
        data_json=_json_for_script(script_data),
        cytoscape_js=package.joinpath("vendor/cytoscape.min.js").read_text(encoding="utf-8"),
        graph_js=package.joinpath("graph.js").read_text(encoding="utf-8"),
        cytoscape_version=CYTOSCAPE_VERSION,
    )


def bundled_datasheet(path: Path | None) -> str | None:
    """The datasheet (README.md) of a ledger folder, or of the bundled dataset when no path is given;
    None for a ledger in a single file (a README beside it may describe something else)."""
    from ..ledger.files import bundled_path

    folder = bundled_path() if path is None else Path(path)
    if not folder.is_dir():
        return None
    sheet = folder / "README.md"
    return sheet.read_text(encoding="utf-8") if sheet.is_file() else None
