"""Static figures for articles: the network with its largest round trips, the round trips ranked,
the funding gap (commitments per year against revenue) and a stress test's losses and cascade.

Deterministic (same ledger, same bytes: no timestamps, fixed SVG ids) and captioned with the source
and the date of the data.  Drawn with matplotlib (Agg), at positions from the report's layout.
"""

from __future__ import annotations

import math
from pathlib import Path

from .._version import __version__
from ..display import money
from ..ledger import Ledger
from ..ledger.vocabulary import CLOSED_STATUSES
from .content import KIND_COLOURS
from .i18n import KIND_NAMES
from .layout import force_layout

FIGURES = ("network", "cycles", "gap", "stress")
_TITLES = {
    "network": {"en": "Who pays whom: the deal network, largest round trips in red",
                "de": "Wer zahlt wem: das Deal-Netzwerk, die größten Kreisläufe in Rot"},
    "cycles": {"en": "The largest round trips: the most money that can go round each loop",
               "de": "Die größten Kreisläufe: das meiste Geld, das jeweils im Kreis fließen kann"},
    "gap": {"en": "The funding gap: commitments falling due each year against revenue",
            "de": "Die Finanzierungslücke: jedes Jahr fällige Verpflichtungen gegen den Umsatz"},
    "stress": {"en": "Stress test: {title}", "de": "Stresstest: {title}"},
}


def caption(ledger: Ledger, name: str, lang: str) -> str:
    """The caption line: data source, cut-off date and tool."""
    last = ledger.as_of_date or max((d.announced for d in ledger.deals), default=None)
    if lang == "de":
        return f"Quelle: Deal-Ledger {name} (Stand {last}; Belege je Deal im Bericht), Auswertung mit loopscope {__version__}"
    return f"Source: deal ledger {name} (as of {last}; sources per deal in the report), analysed with loopscope {__version__}"


def save_figure(which: str, ledger: Ledger, target: Path, name: str = "ai-2025", lang: str = "en",
                highlight: int = 3, scenario="openai-cannot-pay") -> Path:
    """Draw figure ``which`` (``network``, ``cycles``, ``gap`` or ``stress``) into ``target`` (.png,
    .svg or .pdf); ``scenario`` is the stress test drawn by ``stress``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if which not in FIGURES:
        raise ValueError(f"unknown figure {which!r} (expected one of: {', '.join(FIGURES)})")
    suffix = target.suffix.lower().lstrip(".")
    if suffix not in ("png", "svg", "pdf"):
        raise ValueError(f"{target}: the file name must end in .png, .svg or .pdf")
    matplotlib.rcParams.update({"svg.hashsalt": "loopscope", "font.family": "DejaVu Sans", "font.size": 9})
    fig = plt.figure(figsize=(10, 7.5) if which == "network" else (10, 6), dpi=150)
    title = _TITLES[which][lang]
    note = ""
    if which in ("network", "cycles"):
        from ..analysis import find_cycles

        cycles = find_cycles(ledger)
        if which == "network":
            _network(fig, ledger, cycles, lang, highlight)
        else:
            _cycles(fig, ledger, cycles, lang)
    elif which == "gap":
        note = _gap(fig, ledger, lang)
    else:
        title, note = _stress(fig, ledger, scenario, lang)
    fig.suptitle(title, x=0.02, ha="left", fontsize=13, fontweight="bold")
    fig.text(0.02, 0.012, caption(ledger, name, lang) + (f". {note}" if note else ""), fontsize=7.5, color="#555555", wrap=True)
    metadata = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "Producer": None, "Creator": None}}[suffix]
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, format=suffix, metadata=metadata)
    plt.close(fig)
    return target


def _gap(fig, ledger: Ledger, lang: str) -> str:
    """Commitments per year (bars) against revenue (line) for the parties with the largest gaps."""
    import numpy as np

    from ..stress.gap import funding_gap

    g = funding_gap(ledger)
    keep = [k for k, y in enumerate(g.years) if y < g.base_year + 10]
    years = [g.years[k] for k in keep]
    shown = [p for p in g.parties if p.revenue_usd > 0 and (p.gap_usd[keep] > 0).any()][:3]
    axes = fig.subplots(1, len(shown) or 1, sharey=False, squeeze=False)[0]
    fig.subplots_adjust(left=0.07, right=0.98, top=0.84, bottom=0.16, wspace=0.3)
    for ax, p in zip(axes, shown):
        due = p.commitments_usd[keep] / 1e9
        revenue = p.revenue_projected_usd[keep] / 1e9
        ax.bar(years, due, color="#9ab8d6", label="fällige Verpflichtungen" if lang == "de" else "commitments due")
        ax.plot(years, revenue, color="#b22222", marker="o", label="Umsatz" if lang == "de" else "revenue")
        ax.set_title(p.name, fontsize=10)
        ax.set_ylabel("Mrd. $" if lang == "de" else "$bn")
        ax.set_xticks(years[::2])
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylim(0, max(float(np.nanmax(np.r_[due, revenue])) * 1.1, 1))
    if shown:
        axes[0].legend(loc="upper left", frameon=False, fontsize=8)
    return ("Umsatz: jüngster Jahreswert, konstant; Verpflichtungen gleichmäßig über ihre Laufzeit verteilt"
            if lang == "de" else "revenue: latest annual figure, held flat; commitments spread evenly over their horizons")


def _short(name: str, limit: int = 28) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _stress(fig, ledger: Ledger, scenario, lang: str) -> tuple[str, str]:
    """Losses per party (bars, defaulters marked with their round) and the cascade in words."""
    from ..stress import stress_test
    from ..stress.scenario import MODEL_NAMES

    r = stress_test(ledger, scenario)
    c = r.central
    order = [i for i in sorted(range(len(r.parties)), key=lambda i: -c.loss[0, i]) if c.loss[0, i] > 0][:12][::-1]
    ax = fig.add_axes((0.25, 0.14, 0.70, 0.66))
    names = [_short(ledger.party(r.parties[i]).name) for i in order]
    losses = [c.loss[0, i] / 1e9 for i in order]
    colours = ["#b22222" if c.defaulted[0, i] else "#9ab8d6" for i in order]
    ax.barh(names, losses, color=colours)
    for y, i in enumerate(order):
        share = r.loss_share[i]
        text = money(c.loss[0, i], lang=lang) + ("" if share != share else f" ({share * 100:.0f}{' %' if lang == 'de' else '%'})")
        if c.defaulted[0, i]:
            text += (" – Ausfall, Runde " if lang == "de" else " – defaults, round ") + str(int(c.default_round[0, i]))
        ax.text(c.loss[0, i] / 1e9, y, " " + text, va="center", fontsize=8)
    ax.set_xlabel("Verlust gegenüber dem Plan, Mrd. $" if lang == "de" else "loss against the plan, $bn")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlim(0, max(losses, default=1) * 1.45)
    cascade = "; ".join(f"{'Runde' if lang == 'de' else 'round'} {k}: {', '.join(ledger.party(p).name for p in ps)}"
                        for k, ps in enumerate(r.cascade(), 1)) or ("niemand fällt aus" if lang == "de" else "nobody defaults")
    fig.text(0.02, 0.9, ("Kaskade: " if lang == "de" else "cascade: ") + cascade, fontsize=9)
    s = r.scenario
    title = _TITLES["stress"][lang].format(title=(s.title_de if lang == "de" else s.title) or s.name)
    quote = f"„{s.quote.text}“ ({s.quote.publisher}). " if s.quote else ""
    model = MODEL_NAMES[r.model]
    note = (f"{quote}Modell: {model}; Horizont {r.start} bis {r.end}; Annahmen: loopscope stress --scenario {s.name}" if lang == "de"
            else f"{quote}Model: {model}; horizon {r.start} to {r.end}; assumptions: loopscope stress --scenario {s.name}")
    return title, note


def _network(fig, ledger: Ledger, cycles, lang: str, highlight: int) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    ax = fig.add_axes((0.01, 0.05, 0.98, 0.88))
    ax.set_axis_off()
    live = [d for d in ledger.deals if d.status not in CLOSED_STATUSES]
    parties = sorted(p.id for p in ledger.parties)
    index = {p: i for i, p in enumerate(parties)}
    totals: dict[tuple[str, str], float] = {}
    for deal in live:
        totals[(deal.src, deal.dst)] = totals.get((deal.src, deal.dst), 0.0) + (ledger.to_usd(deal.amount, deal.announced)[0] or 0.0)
    pos = force_layout(len(parties), [(index[a], index[b], v) for (a, b), v in sorted(totals.items())])
    hot_pairs: set[tuple[str, str]] = set()
    hot_parties: set[str] = set()
    for cycle in cycles[:highlight]:
        hot_parties.update(cycle.parties)
        hot_pairs.update((s.src, s.dst) for s in cycle.steps)
    for (a, b), value in sorted(totals.items()):
        hot = (a, b) in hot_pairs
        kind = max((d for d in live if d.src == a and d.dst == b),
                   key=lambda d: ledger.to_usd(d.amount, d.announced)[0] or 0.0).kind
        width = 0.4 + (math.log10(value / 1e9 + 1) * 1.2 if value else 0)
        ax.add_patch(FancyArrowPatch(
            tuple(pos[index[a]]), tuple(pos[index[b]]), connectionstyle="arc3,rad=0.12", arrowstyle="-|>",
            mutation_scale=7, linewidth=width, color="#b3261e" if hot else KIND_COLOURS[kind],
            alpha=0.95 if hot else 0.35, zorder=3 if hot else 1, linestyle="-" if value else ":",
        ))
    for party in parties:
        x, y = pos[index[party]]
        hot = party in hot_parties
        ax.scatter([x], [y], s=60 if hot else 25, color="#b3261e" if hot else "#4a6fa5", zorder=4)
        ax.annotate(ledger.party(party).name, (x, y), xytext=(0, -9), textcoords="offset points", ha="center",
                    fontsize=7 if hot else 6, color="#222222", zorder=5)
    ax.set_xlim(-40, 1040)
    ax.set_ylim(-40, 1040)
    ax.set_aspect("equal")
    kinds = sorted({d.kind for d in live}, key=list(KIND_COLOURS).index)
    handles = [Line2D([0], [0], color=KIND_COLOURS[k], lw=2, label=KIND_NAMES[k][lang]) for k in kinds]
    handles.append(Line2D([0], [0], color="#b3261e", lw=2, label=(
        f"the {highlight} largest round trips" if lang == "en" else f"die {highlight} größten Kreisläufe")))
    handles.append(Line2D([0], [0], color="#888888", lw=1, linestyle=":", label=(
        "amount undisclosed" if lang == "en" else "Betrag nicht genannt")))
    ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=False)


def _cycles(fig, ledger: Ledger, cycles, lang: str) -> None:
    ax = fig.add_axes((0.45, 0.1, 0.5, 0.8))
    shown = [c for c in cycles if not math.isnan(c.amount_usd)][:15][::-1]
    labels = [" → ".join(ledger.party(p).name for p in c.parties + c.parties[:1]) for c in shown]
    values = [c.amount_usd / 1e9 for c in shown]
    low = [max(c.amount_usd - c.low_usd, 0) / 1e9 for c in shown]
    high = [0 if math.isinf(c.high_usd) else max(c.high_usd - c.amount_usd, 0) / 1e9 for c in shown]
    ax.barh(range(len(shown)), values, color="#b3261e", alpha=0.85, xerr=[low, high], ecolor="#333333", capsize=2)
    ax.set_yticks(range(len(shown)), labels, fontsize=7)
    for i, c in enumerate(shown):
        ax.text(values[i] + high[i], i, "  " + money(c.amount_usd, lang=lang), va="center", fontsize=7)
    ax.set_xlabel("US$ bn (error bars: range from the amounts' uncertainty)" if lang == "en"
                  else "Mrd. US-$ (Fehlerbalken: Spanne aus der Unsicherheit der Beträge)")
    ax.spines[["top", "right"]].set_visible(False)
