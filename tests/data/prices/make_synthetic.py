"""Make ``synthetic.csv``: SYNTHETIC daily prices for the event-study tests (not market data).

Run from anywhere: ``python tests/data/prices/make_synthetic.py``; it rewrites ``synthetic.csv``
beside this script, byte for byte the same each time (fixed seed).

What it holds (long layout: ``date,ticker,close,shares_outstanding,currency``):

* trading days: Monday to Friday from 2023-01-02 to 2025-06-30, less the holidays in ``HOLIDAYS``;
* ``SPY``, the market index: daily simple returns drawn from N(0.0004, 0.01²);
* ``AAA``, ``BBB``, ``CCC``: simple returns from a known market model,
  ``R = ALPHA + BETA · R_SPY + N(0, SIGMA²)``, plus the abnormal returns in ``PLANTED`` on their
  day: +24 % for AAA on Monday 2024-10-07 (the test ledger announces it on Saturday 2024-10-05),
  +10 % for CCC on 2025-02-04, nothing for BBB (its null event of 2024-11-13 has no planted return);
* AAA has a ``shares_outstanding`` column (``SHARES``); BBB and CCC leave it empty (the test
  ledger gives them a market_cap and a shares_outstanding figure);
* CCC has no close on ``CCC_GAPS`` (did not trade): its returns of those days and the next are missing.

The test (tests/test_event_study.py) imports the constants below, so the truth lives in one place.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

SEED = 20251006
START, END = date(2023, 1, 2), date(2025, 6, 30)
HOLIDAYS = (date(2023, 7, 4), date(2023, 12, 25), date(2024, 7, 4), date(2024, 12, 25), date(2025, 1, 1))
MARKET = "SPY"
MARKET_MEAN, MARKET_SD = 0.0004, 0.01
ALPHA = {"AAA": 0.0002, "BBB": 0.0, "CCC": 0.0003}
BETA = {"AAA": 1.5, "BBB": 0.8, "CCC": 1.1}
SIGMA = {"AAA": 0.02, "BBB": 0.015, "CCC": 0.025}
START_PRICE = {"SPY": 400.0, "AAA": 150.0, "BBB": 60.0, "CCC": 25.0}
PLANTED = {("AAA", date(2024, 10, 7)): 0.24, ("CCC", date(2025, 2, 4)): 0.10}
SHARES = {"AAA": 1.6e9}
CCC_GAPS = (date(2024, 12, 2), date(2024, 12, 3))
FILE = Path(__file__).with_name("synthetic.csv")


def trading_days() -> list[date]:
    days, day = [], START
    while day <= END:
        if day.weekday() < 5 and day not in HOLIDAYS:
            days.append(day)
        day += timedelta(days=1)
    return days


def make() -> str:
    """The CSV text."""
    rng = np.random.default_rng(SEED)
    days = trading_days()
    n = len(days)
    market = rng.normal(MARKET_MEAN, MARKET_SD, n)
    market[0] = 0.0  # the first day has no return
    returns = {MARKET: market}
    for ticker in ("AAA", "BBB", "CCC"):
        r = ALPHA[ticker] + BETA[ticker] * market + rng.normal(0.0, SIGMA[ticker], n)
        for (planted_ticker, day), ar in PLANTED.items():
            if planted_ticker == ticker:
                r[days.index(day)] += ar
        r[0] = 0.0
        returns[ticker] = r
    lines = ["date,ticker,close,shares_outstanding,currency"]
    for ticker in (MARKET, "AAA", "BBB", "CCC"):
        closes = START_PRICE[ticker] * np.cumprod(1.0 + returns[ticker])
        for day, close in zip(days, closes):
            if ticker == "CCC" and day in CCC_GAPS:
                continue
            shares = f"{SHARES[ticker]:.0f}" if ticker in SHARES else ""
            lines.append(f"{day.isoformat()},{ticker},{close:.6f},{shares},USD")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    FILE.write_text(make(), encoding="utf-8")
    print(f"wrote {FILE} (SYNTHETIC)")
