"""Generate large, valid synthetic ledgers for benchmarks (deterministic for a seed)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from loopscope.ledger.ledger import Ledger
from loopscope.ledger.model import Deal, Party

KINDS = ("equity", "purchase", "credits", "warrant", "backstop", "loan", "lease")


def synthetic_ledger(deals: int, parties: int = 500, seed: int = 0) -> Ledger:
    rng = random.Random(seed)
    party_list = [Party(id=f"p{i}", name=f"Party {i}", kind="company") for i in range(parties)]
    deal_list = []
    start = date(2019, 1, 1)
    for i in range(deals):
        a, b = rng.sample(range(parties), 2)
        day = start + timedelta(days=rng.randrange(2500))
        kind = rng.choice(("exact", "up_to", "estimate", "range"))
        value = round(rng.lognormvariate(21, 2), -3)
        amount = {"currency": "USD", "kind": kind}
        if kind == "range":
            amount.update(low=value, high=value * 2)
        else:
            amount["value"] = value
        record = {
            "id": f"d{i}", "kind": rng.choice(KINDS), "from": f"p{a}", "to": f"p{b}",
            "title": f"Synthetic deal {i} between party {a} and party {b}",
            "announced": day, "amount": amount,
            "horizon": {"start": day, "years": rng.choice((1, 3, 5))},
            "history": [{"date": day, "status": "announced"}],
            "sources": [{"url": f"https://example.org/news/{i}", "publisher": "Example News",
                         "title": f"Report number {i}", "date": day, "quote": "A sentence quoted from the report."}],
        }
        deal_list.append(Deal.model_validate(record))
    return Ledger(party_list, deal_list)
