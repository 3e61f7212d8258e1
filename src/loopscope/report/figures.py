"""Static figures for articles: the network with its largest round trips, and the round trips ranked.

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
}


def caption(ledger: Ledger, name: str, lang: str) -> str:
    """The caption line: data source, cut-off date and tool."""
    last = ledger.as_of_date or max((d.announced for d in ledger.deals), default=None)
    if lang == "de":
        return f"Quelle: Deal-Ledger {name} (Stand {last}; Belege je Deal im Bericht), Auswertung mit loopscope {__version__}"
    return f"Source: deal ledger {name} (as of {last}; sources per deal in the report), analysed with loopscope {__version__}"


def save_figure(which: str, ledger: Ledger, target: Path, name: str = "ai-2025", lang: str = "en",
                highlight: int = 3) -> Path:
    """Draw figure ``which`` (``network`` or ``cycles``) into ``target`` (.png, .svg or .pdf)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..analysis import find_cycles

    if which not in ("network", "cycles"):
        raise ValueError(f"figure {which!r} is not available yet: it arrives with the stress-test module"
                         if which in FIGURES else f"unknown figure {which!r} (expected one of: {', '.join(FIGURES)})")
    suffix = target.suffix.lower().lstrip(".")
    if suffix not in ("png", "svg", "pdf"):
        raise ValueError(f"{target}: the file name must end in .png, .svg or .pdf")
    matplotlib.rcParams.update({"svg.hashsalt": "loopscope", "font.family": "DejaVu Sans", "font.size": 9})
    cycles = find_cycles(ledger)
    fig = plt.figure(figsize=(10, 7.5) if which == "network" else (10, 6), dpi=150)
    if which == "network":
        _network(fig, ledger, cycles, lang, highlight)
    else:
        _cycles(fig, ledger, cycles, lang)
    fig.suptitle(_TITLES[which][lang], x=0.02, ha="left", fontsize=13, fontweight="bold")
    fig.text(0.02, 0.012, caption(ledger, name, lang), fontsize=7.5, color="#555555")
    metadata = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "Producer": None, "Creator": None}}[suffix]
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, format=suffix, metadata=metadata)
    plt.close(fig)
    return target


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
