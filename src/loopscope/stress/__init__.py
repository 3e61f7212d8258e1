"""Stress tests: clearing and contagion models, and (to come) scenarios built from the ledger.

:mod:`.clearing`: Eisenberg-Noe and Rogers-Veraart greatest clearing vectors, exact and batched over
scenarios.  :mod:`.debtrank`: DebtRank and linear DebtRank.
:mod:`.cascades`: Furfine's sequential defaults and Elliott-Golub-Jackson cross-holdings.
:mod:`.balance`: the models' inputs built from the ledger, with every assumption stated.
"""

from .balance import BalanceSheets, balance_sheets
from .cascades import Cascade, elliott_golub_jackson, furfine
from .clearing import Clearing, eisenberg_noe, rogers_veraart
from .debtrank import Distress, debtrank

__all__ = [
    "BalanceSheets", "balance_sheets", "Cascade", "Clearing", "Distress", "debtrank", "eisenberg_noe", "elliott_golub_jackson", "furfine", "rogers_veraart",
]
