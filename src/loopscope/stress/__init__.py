"""Stress tests: clearing and contagion models, and scenarios built from the ledger.

:mod:`.clearing`: Eisenberg-Noe and Rogers-Veraart greatest clearing vectors, exact and batched over
scenarios.  :mod:`.debtrank`: DebtRank and linear DebtRank.
:mod:`.cascades`: Furfine's sequential defaults and Elliott-Golub-Jackson cross-holdings.
:mod:`.balance`: the models' inputs built from the ledger, with every assumption stated.
:mod:`.scenario`: shocks as YAML and the built-in scenarios from the articles.
:mod:`.run`: :func:`stress_test`, a scenario on the ledger with any model, with Monte Carlo.
"""

from .balance import BalanceSheets, balance_sheets
from .cascades import Cascade, elliott_golub_jackson, furfine
from .clearing import Clearing, eisenberg_noe, rogers_veraart
from .debtrank import Distress, debtrank
from .run import StressResult, stress_test
from .scenario import BUILTIN, Scenario, ScenarioError, load_scenario

__all__ = [
    "BUILTIN", "BalanceSheets", "balance_sheets", "Cascade", "Clearing", "Distress", "Scenario", "ScenarioError",
    "StressResult", "debtrank", "eisenberg_noe", "elliott_golub_jackson", "furfine", "load_scenario",
    "rogers_veraart", "stress_test",
]
