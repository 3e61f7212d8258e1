"""The sourced deal ledger: data model, formats, validation and the :class:`Ledger`."""

from .ledger import Ledger
from .model import Amount, Deal, Figure, Horizon, Link, Party, Period, Quantity, Rate, Source, StatusEvent
from .problems import LedgerError, Problem
from .vocabulary import DEAL_KINDS

__all__ = [
    "Amount", "DEAL_KINDS", "Deal", "Figure", "Horizon", "Ledger", "LedgerError", "Link", "Party", "Period",
    "Problem", "Quantity", "Rate", "Source", "StatusEvent",
]
