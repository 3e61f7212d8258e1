"""Stress tests: clearing and contagion models, and (to come) scenarios built from the ledger.

:mod:`.clearing`: Eisenberg-Noe and Rogers-Veraart greatest clearing vectors, exact and batched over
scenarios.
"""

from .clearing import Clearing, eisenberg_noe, rogers_veraart

__all__ = ["Clearing", "eisenberg_noe", "rogers_veraart"]
