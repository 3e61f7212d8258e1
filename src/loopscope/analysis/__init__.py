"""Analyses: pure functions from a ledger, a flows table or a matrix to typed results.

One module per concept: :mod:`.cycles` (round trips), :mod:`.circulation` (maximum circulation and
reciprocity), :mod:`.hodge` (Helmholtz-Hodge decomposition), :mod:`.finn` (Finn's cycling index) and
:mod:`.exposure` (per company).  :mod:`.network` turns every accepted input into one shape.
"""

from .network import FlowNetwork, as_network

__all__ = ["FlowNetwork", "as_network"]
