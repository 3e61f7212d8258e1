"""Talking to other tools: exports for graph and investigation software, imports from them,
and fetchers for reported figures (SEC EDGAR) and share prices.

One module per format or service; each reads or writes a :class:`~loopscope.ledger.Ledger` and
documents its mapping.  Nothing here computes an analysis.
"""
