"""loopscope: make circular financing visible and measurable.

>>> import loopscope
>>> ledger = loopscope.load()          # the bundled ai-2025 dataset
>>> ledger.flows()                     # one row per dated money movement
>>> loopscope.find_cycles(ledger)      # round trips, largest first
>>> loopscope.max_circulation(ledger).circularity   # share of the volume that goes in circles
"""

from __future__ import annotations

from pathlib import Path

from ._version import __version__
from .ledger import DEAL_KINDS, Ledger, LedgerError, Problem


def load(path: str | Path | None = None) -> Ledger:
    """Read and validate a ledger: a YAML file or folder, a JSON file, or a folder of CSV files.

    With no path, the bundled ``ai-2025`` dataset.  Raises :class:`LedgerError` listing every
    problem found (file, line, entity, field, message).
    """
    return Ledger.read(path)


_ANALYSES = (
    "event_study", "exposure", "find_cycles", "finn_cycling_index", "hodge_decomposition", "max_circulation", "reciprocity",
)


def __getattr__(name: str):
    """The analyses, imported on first use: ``import loopscope`` (and the CLI) stays light."""
    if name in _ANALYSES:
        from . import analysis

        return getattr(analysis, name)
    raise AttributeError(f"module 'loopscope' has no attribute {name!r}")


__all__ = [
    "DEAL_KINDS", "Ledger", "LedgerError", "Problem", "__version__", "event_study", "exposure", "find_cycles", "finn_cycling_index",
    "hodge_decomposition", "load", "max_circulation", "reciprocity",
]
