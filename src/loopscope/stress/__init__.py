"""Stress tests: clearing and contagion models, and (to come) scenarios built from the ledger.

:mod:`.clearing`: Eisenberg-Noe and Rogers-Veraart greatest clearing vectors, exact and batched over
scenarios.  :mod:`.debtrank`: DebtRank and linear DebtRank.
"""

from .clearing import Clearing, eisenberg_noe, rogers_veraart
from .debtrank import Distress, debtrank

__all__ = ["Clearing", "Distress", "debtrank", "eisenberg_noe", "rogers_veraart"]
