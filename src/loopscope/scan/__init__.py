"""Round trips in transaction ledgers of millions of rows: ``loopscope scan`` and ``loopscope synth``.

``spec`` defines what a temporal round trip is; ``load`` validates and prepares a ledger
(``prepared``); the engines (``memory`` here, ``duckdb`` and ``spark`` in ``loopscope.backends``)
answer the same question; ``reference`` holds the brute-force yardsticks; ``synth`` writes labelled
synthetic ledgers.
"""
