"""loopscope: make circular financing visible and measurable.

>>> import loopscope
>>> ledger = loopscope.load()          # the bundled ai-2025 dataset
>>> ledger.flows()                     # one row per dated money movement
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


__all__ = ["DEAL_KINDS", "Ledger", "LedgerError", "Problem", "__version__", "load"]
