"""Analyses: pure functions from a ledger, a flows table or a matrix to typed results.

One module per concept: :mod:`.cycles` (round trips), :mod:`.circulation` (maximum circulation and
reciprocity), :mod:`.hodge` (Helmholtz-Hodge decomposition), :mod:`.finn` (Finn's cycling index) and
:mod:`.exposure` (per company) and :mod:`.event_study` (share prices around announcements).  :mod:`.network` turns every accepted input into one shape.
"""

from .circulation import Circulation, max_circulation, reciprocity
from .cycles import Cycle, Cycles, Step, find_cycles
from .event_study import EventStudy, event_study
from .exposure import Exposure, PartyExposure, exposure
from .finn import FinnCycling, finn_cycling_index
from .hodge import HodgeDecomposition, hodge_decomposition
from .network import FlowNetwork, as_network

__all__ = [
    "Circulation", "Cycle", "Cycles", "EventStudy", "Exposure", "FinnCycling", "FlowNetwork", "HodgeDecomposition",
    "PartyExposure", "Step", "as_network", "event_study", "exposure", "find_cycles", "finn_cycling_index",
    "hodge_decomposition", "max_circulation", "reciprocity",
]
