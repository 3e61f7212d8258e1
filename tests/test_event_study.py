"""The event study: the market model against independent references (scipy's linregress, the closed
form of the variance), recovery of returns planted in SYNTHETIC prices, the ledger's awkward cases,
the price CSV reader (errors with line and column; a hypothesis round trip) and the yfinance adapter
on a recorded answer (no network)."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
import types
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import loopscope
from loopscope.analysis.event_study import event_study, market_model
from loopscope.interop.prices import as_prices, fetch_prices, parse_prices, read_prices, write_prices
from loopscope.ledger import Ledger, LedgerError
from loopscope.ledger.model import Deal, Figure, Party

PRICES = Path(__file__).parent / "data" / "prices"
SYNTHETIC = PRICES / "synthetic.csv"
SOURCES = [{"url": "https://example.org/deal", "publisher": "Example"}]


def _truth():
    spec = importlib.util.spec_from_file_location("make_synthetic", PRICES / "make_synthetic.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TRUTH = _truth()


def _deal(deal_id: str, src: str, dst: str, day: date) -> Deal:
    return Deal.model_validate({
        "id": deal_id, "kind": "purchase", "from": src, "to": dst, "title": f"title of {deal_id}", "announced": day,
        "amount": {"value": 1e9, "currency": "USD", "kind": "exact"},
        "history": [{"date": day, "status": "announced"}], "sources": SOURCES,
    })


def _figure(figure_id: str, party: str, metric: str, value: float, unit: str, day: date) -> Figure:
    return Figure.model_validate({"id": figure_id, "party": party, "metric": metric, "value": value, "unit": unit,
                                  "kind": "exact", "date": day, "sources": SOURCES})


PARTIES = [
    Party(id="alpha-corp", name="Alpha", kind="company", ticker="AAA"),
    Party(id="beta-inc", name="Beta", kind="company", ticker="BBB"),
    Party(id="gamma", name="Gamma", kind="company", ticker="CCC"),
    Party(id="delta-co", name="Delta", kind="company", ticker="DDD"),  # not in the prices
    Party(id="private-co", name="Private", kind="company"),  # no ticker
    Party(id="index-fund", name="Index fund", kind="fund", ticker="SPY"),  # the market index itself
]
DEALS = [
    _deal("aaa-weekend", "private-co", "alpha-corp", date(2024, 10, 5)),  # a Saturday: day 0 is Monday 7 Oct
    _deal("bbb-null", "beta-inc", "delta-co", date(2024, 11, 13)),  # nothing planted
    _deal("ccc-one", "gamma", "private-co", date(2025, 2, 4)),  # two deals, one day: one event
    _deal("ccc-two", "private-co", "gamma", date(2025, 2, 4)),
    _deal("ccc-early", "gamma", "beta-inc", date(2023, 3, 1)),  # 2 months of prices before it: not estimable
    _deal("aaa-mar-1", "alpha-corp", "private-co", date(2025, 3, 11)),  # overlapping windows
    _deal("aaa-mar-2", "private-co", "alpha-corp", date(2025, 3, 12)),
    _deal("aaa-edge", "alpha-corp", "private-co", date(2025, 6, 30)),  # day +1 after the last price
    _deal("aaa-late", "alpha-corp", "private-co", date(2025, 7, 15)),  # after the last price
    _deal("fund-deal", "index-fund", "private-co", date(2024, 6, 3)),
]
FIGURES = [
    _figure("bbb-cap", "beta-inc", "market_cap", 48e9, "USD", date(2024, 11, 1)),
    _figure("ccc-shares", "gamma", "shares_outstanding", 3e8, "shares", date(2024, 12, 31)),
    _figure("ccc-shares-later", "gamma", "shares_outstanding", 9e8, "shares", date(2025, 3, 1)),  # after the event
]
LEDGER = Ledger(PARTIES, DEALS, FIGURES)


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return read_prices(SYNTHETIC)


@pytest.fixture(scope="module")
def study(prices):
    return event_study(LEDGER, prices)


def _returns(prices: pd.DataFrame, market: str = "SPY") -> pd.DataFrame:
    """Simple returns on the market's trading days, computed here independently of the module."""
    wide = prices.pivot(index="date", columns="ticker", values="close").sort_index()
    wide = wide[wide[market].notna()]
    return wide / wide.shift(1) - 1


# ---------------------------------------------------------------------------------------------
# the market model against independent references
# ---------------------------------------------------------------------------------------------


def test_ols_matches_linregress_on_the_estimation_window(study, prices):
    event = study.event("alpha-corp", date(2024, 10, 7))
    returns = _returns(prices)
    position = returns.index.get_loc(pd.Timestamp("2024-10-07"))
    window = returns.iloc[position - 260:position - 10]  # days −260 … −11
    assert len(window) == 250
    assert (window.index[0].date(), window.index[-1].date()) == (event.estimation_start, event.estimation_end)
    reference = stats.linregress(window["SPY"], window["AAA"])
    assert event.n_estimation == 250 and event.dof == 248
    assert event.beta == pytest.approx(reference.slope, rel=1e-10)
    assert event.alpha == pytest.approx(reference.intercept, rel=1e-8, abs=1e-12)
    residuals = window["AAA"] - reference.intercept - reference.slope * window["SPY"]
    assert event.sigma == pytest.approx(math.sqrt((residuals**2).sum() / 248), rel=1e-10)
    # abnormal returns of days −1, 0, +1 from the reference fit
    days = returns.iloc[position - 1:position + 2]
    expected = days["AAA"] - reference.intercept - reference.slope * days["SPY"]
    assert event.ar == pytest.approx(tuple(expected), rel=1e-8)
    assert event.car == pytest.approx(expected.sum(), rel=1e-8)


def test_car_and_t_by_hand_on_a_tiny_example():
    # estimation returns (market, stock) and a two-day event window
    x = np.array([0.010, -0.004, 0.006, -0.012, 0.003, 0.008])
    y = np.array([0.015, -0.010, 0.004, -0.020, 0.009, 0.010])
    xs, ys = np.array([0.002, -0.005]), np.array([0.050, 0.012])
    n, L2 = len(x), len(xs)
    sxx = ((x - x.mean()) ** 2).sum()
    beta = ((x - x.mean()) * (y - y.mean())).sum() / sxx
    alpha = y.mean() - beta * x.mean()
    sigma2 = ((y - alpha - beta * x) ** 2).sum() / (n - 2)
    car = (ys - alpha - beta * xs).sum()
    # Var(CAR) = σ²[L2 + L2²/n + (ΣR*_m − L2 x̄)² / Sxx]: γᵀ(I + X*(XᵀX)⁻¹X*ᵀ)γ written out for the market model
    var_car = sigma2 * (L2 + L2**2 / n + (xs.sum() - L2 * x.mean()) ** 2 / sxx)
    t = car / math.sqrt(var_car)
    p = 2 * (1 - stats.t.cdf(abs(t), n - 2))
    model = market_model(y, x, ys, xs)
    assert (model.alpha, model.beta) == pytest.approx((alpha, beta), rel=1e-12)
    assert model.car == pytest.approx(car, rel=1e-12)
    assert model.car_se == pytest.approx(math.sqrt(var_car), rel=1e-12)
    assert model.car_se_approx == pytest.approx(math.sqrt(L2 * sigma2), rel=1e-12)
    assert model.car_se > model.car_se_approx  # the estimation-error correction only adds variance
    assert (model.t, model.p, model.dof) == pytest.approx((t, p, n - 2), rel=1e-9)


def test_the_same_tiny_example_through_the_whole_study():
    days = pd.bdate_range("2025-01-06", periods=9)  # Mon 6 Jan … Thu 16 Jan
    market = [100, 101, 100.596, 101.199576, 99.98518, 100.285135, 101.087416, 101.289591, 100.783143]
    stock = [50, 50.75, 50.2425, 50.443470, 49.434601, 49.879512, 50.378307, 52.897222, 53.531989]
    prices = pd.DataFrame({"SPY": market, "TINY": stock}, index=days)
    ledger = Ledger([Party(id="tiny", name="Tiny", kind="company", ticker="TINY"), Party(id="p", name="P", kind="company")],
                    [_deal("news", "p", "tiny", date(2025, 1, 15))])
    result = event_study(ledger, prices, estimation=6, gap=1, window=(0, 1), min_estimation=4)
    event = result.events[0]
    r = pd.DataFrame({"SPY": market, "TINY": stock}).pct_change().to_numpy()
    # day 0 is 15 Jan (row 7); the window is rows 7, 8; the estimation window ends gap=1 day before: rows 1 … 6
    reference = market_model(r[1:7, 1], r[1:7, 0], r[7:9, 1], r[7:9, 0])
    assert result.estimation_days == (-6, -1)
    assert (event.day0, event.estimation_start, event.estimation_end) == (date(2025, 1, 15), date(2025, 1, 7), date(2025, 1, 14))
    assert event.n_estimation == 6
    assert event.car == pytest.approx(reference.car, rel=1e-12) and event.t == pytest.approx(reference.t, rel=1e-12)
    # a wide frame says nothing of currencies: without one given, no value is put on the event
    assert event.value_added is None and event.currency is None
    assert "the currency of TINY's closes is not known" in event.value_reason
    priced = event_study(ledger, prices, estimation=6, gap=1, window=(0, 1), min_estimation=4, currency="USD").events[0]
    assert priced.currency == "USD" and priced.value_added is None and "no shares outstanding" in priced.value_reason


# ---------------------------------------------------------------------------------------------
# SYNTHETIC prices with planted abnormal returns
# ---------------------------------------------------------------------------------------------


def test_the_shipped_synthetic_file_is_what_the_script_makes():
    assert SYNTHETIC.read_text(encoding="utf-8") == TRUTH.make(), "regenerate: python tests/data/prices/make_synthetic.py"


def test_recovers_beta_and_sigma_of_the_known_market_model(study):
    for party, ticker, day in (("alpha-corp", "AAA", date(2024, 10, 7)), ("beta-inc", "BBB", date(2024, 11, 13)),
                               ("gamma", "CCC", date(2025, 2, 4))):
        event = study.event(party, day)
        beta_se = event.sigma / (TRUTH.MARKET_SD * math.sqrt(event.n_estimation))  # ≈ σ / (σ_m √L1)
        assert abs(event.beta - TRUTH.BETA[ticker]) < 3 * beta_se, (ticker, event.beta)
        assert event.sigma == pytest.approx(TRUTH.SIGMA[ticker], rel=0.15)


def test_the_planted_return_is_found_and_significant_and_the_null_is_not(study):
    planted = study.event("alpha-corp", date(2024, 10, 5))  # found by its (Saturday) announcement date
    assert planted.day0 == date(2024, 10, 7)
    assert abs(planted.car - TRUTH.PLANTED[("AAA", date(2024, 10, 7))]) < 2 * planted.car_se
    assert planted.ar[1] == max(planted.ar)  # the jump is on day 0
    assert planted.significant and planted.p < 1e-6 and planted.t > 5
    null = study.event("beta-inc", date(2024, 11, 13))
    assert abs(null.car) < 2 * null.car_se
    assert not null.significant and null.p > 0.05
    ccc = study.event("gamma", date(2025, 2, 4))
    assert abs(ccc.car - TRUTH.PLANTED[("CCC", date(2025, 2, 4))]) < 2 * ccc.car_se


def test_value_added_is_car_times_the_market_cap_before_the_window(study, prices):
    closes = prices.pivot(index="date", columns="ticker", values="close")
    aaa = study.event("alpha-corp", date(2024, 10, 7))
    assert aaa.market_cap_date == date(2024, 10, 3)  # the window starts on Friday 4 Oct
    assert aaa.close_before == closes.loc["2024-10-03", "AAA"]
    assert aaa.shares == TRUTH.SHARES["AAA"] and "in the prices" in aaa.market_cap_basis
    assert aaa.market_cap_before == pytest.approx(closes.loc["2024-10-03", "AAA"] * 1.6e9, rel=1e-12)
    assert aaa.value_added == pytest.approx(aaa.car * aaa.market_cap_before, rel=1e-12)
    assert aaa.value_added_se == pytest.approx(aaa.car_se * aaa.market_cap_before, rel=1e-12)
    assert aaa.currency == "USD"
    total = next(t for t in study.parties if t.party == "alpha-corp")
    alone = [e for e in study.events if e.party == "alpha-corp" and e.value_added is not None and not e.overlaps]
    assert total.value_added_se == pytest.approx(math.sqrt(sum(e.value_added_se ** 2 for e in alone)), rel=1e-12)
    assert total.value_added_significant == pytest.approx(sum(e.value_added for e in alone if e.significant), rel=1e-12)
    # from the ledger's market cap: the implied share count at the figure's date
    bbb = study.event("beta-inc", date(2024, 11, 13))
    assert bbb.shares == pytest.approx(48e9 / closes.loc["2024-11-01", "BBB"], rel=1e-12)
    assert bbb.value_added == pytest.approx(bbb.car * bbb.close_before * bbb.shares, rel=1e-12)
    assert "bbb-cap" in bbb.market_cap_basis
    # from the ledger's shares outstanding: the latest on or before the announcement, not the later one
    ccc = study.event("gamma", date(2025, 2, 4))
    assert ccc.shares == 3e8 and "ccc-shares " in ccc.market_cap_basis
    assert ccc.value_added == pytest.approx(ccc.car * ccc.close_before * 3e8, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# the ledger's awkward cases
# ---------------------------------------------------------------------------------------------


def test_weekend_announcement_counts_from_monday(study):
    event = study.event("alpha-corp", date(2024, 10, 7))
    assert (event.event_date, event.day0) == (date(2024, 10, 5), date(2024, 10, 7))
    assert (event.window_start, event.window_end) == (date(2024, 10, 4), date(2024, 10, 8))
    assert any("weekend" in note for note in event.notes)


def test_two_deals_on_one_day_are_one_event_counted_once(study):
    events = [e for e in study.events if e.party == "gamma" and e.day0 == date(2025, 2, 4)]
    assert len(events) == 1
    assert events[0].deals == ("ccc-one", "ccc-two")
    assert events[0].titles == ("title of ccc-one", "title of ccc-two")
    total = next(t for t in study.parties if t.party == "gamma")
    assert total.value_added == pytest.approx(events[0].value_added)
    # the missing closes of CCC (2 and 3 Dec 2024) cost three returns of the estimation window
    assert events[0].n_estimation == 247 and any("247 returns" in note for note in events[0].notes)


def test_skipped_parties_say_why(study):
    skipped = {s.party: s for s in study.skipped}
    assert set(skipped) == {"private-co", "delta-co", "index-fund"}
    assert "no ticker" in skipped["private-co"].reason
    assert skipped["delta-co"].reason == "ticker DDD is not in the prices" and skipped["delta-co"].deals == ("bbb-null",)
    assert "market index" in skipped["index-fund"].reason
    assert {e.party for e in study.events} == {"alpha-corp", "beta-inc", "gamma"}


def test_events_without_enough_prices_are_not_estimable_with_the_reason(study):
    early = study.event("gamma", date(2023, 3, 1))
    assert early.car is None and early.t is None and early.value_added is None and not early.significant
    assert early.reason.startswith("only 31 returns of CCC in the estimation window") and "at least 120" in early.reason
    assert study.event("beta-inc", date(2023, 3, 1)).car is None  # the other side of that deal
    edge = study.event("alpha-corp", date(2025, 6, 30))
    assert edge.car is None and "ends after the last price" in edge.reason
    late = study.event("alpha-corp", date(2025, 7, 15))
    assert late.day0 is None and "after the market index's last price" in late.reason
    totals = next(t for t in study.parties if t.party == "alpha-corp")
    assert (totals.events, totals.estimated, totals.valued) == (5, 3, 3)


def test_overlapping_windows_are_flagged_and_not_double_counted(study):
    first, second = study.event("alpha-corp", date(2025, 3, 11)), study.event("alpha-corp", date(2025, 3, 12))
    assert first.overlaps == (date(2025, 3, 12),) and second.overlaps == (date(2025, 3, 11),)
    weekend = study.event("alpha-corp", date(2024, 10, 7))
    assert weekend.overlaps == ()
    totals = next(t for t in study.parties if t.party == "alpha-corp")
    assert totals.overlapping == 2
    assert totals.value_added == pytest.approx(weekend.value_added)
    assert totals.value_added_with_overlaps == pytest.approx(weekend.value_added + first.value_added + second.value_added)
    assert (totals.significant, totals.positive) == (1, 1)
    # the planted event's window is kept out of the later events' estimation windows
    assert first.n_estimation == 247 and any("aaa-weekend" in note for note in first.notes)


def test_log_returns_and_parameters(prices):
    result = event_study(LEDGER, prices, returns="log", window=(0, 0), gap=5, estimation=200)
    event = result.event("alpha-corp", date(2024, 10, 7))
    assert result.estimation_days == (-204, -5) and result.days == (0,)
    assert event.value_added == pytest.approx(math.expm1(event.car) * event.market_cap_before, rel=1e-12)
    assert event.car == pytest.approx(event.ar[0]) and event.car == pytest.approx(math.log(1.24), abs=0.06)
    for bad in ({"window": (1, -1)}, {"gap": 0}, {"estimation": 100, "min_estimation": 120}, {"returns": "pct"},
                {"level": 1.5}, {"market": "^GSPC"}):
        with pytest.raises(ValueError):
            event_study(LEDGER, prices, **bad)


def test_results_as_frames_and_json(study):
    frame = study.to_frame()
    assert len(frame) == len(study.events)
    assert {"party", "ticker", "day0", "deals", "ar-1", "ar+0", "ar+1", "car", "t", "p", "value_added"} <= set(frame.columns)
    row = frame[(frame["party"] == "gamma") & (frame["day0"] == "2025-02-04")].iloc[0]
    assert row["deals"] == "ccc-one, ccc-two"
    assert study.parties_frame().loc["alpha-corp", "overlapping"] == 2
    assert set(study.skipped_frame()["party"]) == {"private-co", "delta-co", "index-fund"}
    data = json.loads(json.dumps(study.to_dict(), allow_nan=False))
    assert data["parameters"]["estimation_days"] == [-260, -11] and data["parameters"]["market"] == "SPY"
    event = next(e for e in data["events"] if e["party"] == "alpha-corp" and e["day0"] == "2024-10-07")
    assert event["days"] == [-1, 0, 1] and len(event["ar"]) == 3 and event["currency"] == "USD"
    early = next(e for e in data["events"] if e["day0"] == "2023-03-01")
    assert early["car"] is None and early["reason"]


def test_the_bundled_ledger_without_company_prices_skips_every_party():
    days = pd.bdate_range("2025-01-02", periods=30)
    result = event_study(loopscope.load(), pd.DataFrame({"SPY": np.linspace(500, 520, 30)}, index=days))
    assert result.events == () and result.parties == ()
    reasons = {s.party: s.reason for s in result.skipped}
    assert reasons["amd"] == "ticker AMD is not in the prices" and "no ticker" in reasons["openai"]


# ---------------------------------------------------------------------------------------------
# the price CSV reader
# ---------------------------------------------------------------------------------------------


def _problems(text: str) -> list[tuple[int | None, str | None]]:
    with pytest.raises(LedgerError) as caught:
        parse_prices(text, "p.csv")
    assert all(p.file == "p.csv" for p in caught.value.problems)
    return [(p.line, p.field) for p in caught.value.problems]


def test_price_errors_name_the_line_and_the_column():
    text = (
        "date,ticker,close,shares_outstanding\n"
        "2025-01-02,AMD,120.5,1.6e9\n"
        "2025-13-01,AMD,121\n"  # wrong cell count
        "2025-01-03,AMD,-1,\n"  # non-positive close
        "2025-01-06,AMD,abc,\n"  # not a number
        "2025/01/07,AMD,122,\n"  # bad date
        "2025-01-02,AMD,123,\n"  # duplicate (date, ticker)
        "2025-01-08,,124,\n"  # no ticker
        "2025-01-09,AMD,125,0\n"  # non-positive shares
        "2025-01-10,AMD,,\n"  # empty close
    )
    assert _problems(text) == [(3, None), (4, "close"), (5, "close"), (6, "date"), (7, "ticker"), (8, "ticker"),
                               (9, "shares_outstanding"), (10, "close")]
    assert _problems("date,ticker,close,volume\n2025-01-02,AMD,1,5\n") == [(1, None)]  # unknown column
    assert _problems("") == [(1, None)]  # empty file
    assert _problems("date,ticker,close\n") == [(1, None)]  # a header and no rows
    assert _problems("date,AMD,SPY\n2025-01-02,1,0\n2025-01-02,1,1\n") == [(2, "SPY"), (3, "date")]  # wide
    with pytest.raises(LedgerError, match="unknown column"):
        parse_prices("date,ticker,close,volume\n2025-01-02,AMD,1,5\n")
    with pytest.raises(LedgerError, match="no such file"):
        read_prices(PRICES / "missing.csv")


def test_a_quoted_line_break_keeps_the_line_numbers_right():
    assert _problems('date,ticker,close\n2025-01-02,"AM\nD",1\n2025-01-03,AMD,x\n') == [(2, "ticker"), (4, "close")]


def test_wide_layout_empty_cells_mean_no_trading():
    frame = parse_prices("date,AMD,9984.T,SPY\n2025-01-02,120.5,,590\n\n2025-01-03,121,7000,591.5\n")
    assert list(frame.columns) == ["date", "ticker", "close"]
    assert list(zip(frame["date"].dt.date, frame["ticker"], frame["close"])) == [
        (date(2025, 1, 2), "AMD", 120.5), (date(2025, 1, 2), "SPY", 590.0),
        (date(2025, 1, 3), "AMD", 121.0), (date(2025, 1, 3), "9984.T", 7000.0), (date(2025, 1, 3), "SPY", 591.5),
    ]
    with pytest.raises(LedgerError, match="long layout"):
        parse_prices("date,close\n2025-01-02,1\n")


tickers = st.text(alphabet="ABCXYZ019.^=-,\"", min_size=1, max_size=6).filter(lambda t: t.strip() == t)


@st.composite
def long_frames(draw):
    names = draw(st.lists(tickers, min_size=1, max_size=4, unique=True))
    rows = []
    for name in names:
        days = draw(st.lists(st.dates(date(1990, 1, 1), date(2060, 12, 31)), min_size=1, max_size=6, unique=True))
        currency = draw(st.sampled_from([None, "USD", "JPY"]))
        for day in days:
            close = draw(st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False))
            shares = draw(st.one_of(st.just(math.nan), st.floats(min_value=1.0, max_value=1e13)))
            rows.append((day, name, close, shares, currency))
    rows = draw(st.permutations(rows))
    frame = pd.DataFrame({
        "date": pd.to_datetime([r[0] for r in rows]).astype("datetime64[ns]"),
        "ticker": pd.Series([r[1] for r in rows], dtype=object),
        "close": np.array([r[2] for r in rows], dtype="float64"),
        "shares_outstanding": np.array([r[3] for r in rows], dtype="float64"),
        "currency": pd.Series([r[4] for r in rows], dtype=object),
    })
    return frame


@settings(max_examples=60, deadline=None)
@given(long_frames())
def test_long_frames_survive_a_round_trip_through_csv(tmp_path_factory, frame):
    path = tmp_path_factory.mktemp("prices") / "prices.csv"
    write_prices(frame, path)
    pd.testing.assert_frame_equal(read_prices(path), frame)


# ---------------------------------------------------------------------------------------------
# fetching with yfinance (its answer recorded here: no network)
# ---------------------------------------------------------------------------------------------


def _recorded_download(tickers, start=None, end=None, auto_adjust=None, **kwargs):
    """The shape of ``yfinance.download`` (0.2.48 and later): a date index named Date and columns
    (Price, Ticker), fields sorted, tickers upper-cased; a day one exchange was closed is NaN, and a
    ticker Yahoo does not know is all NaN."""
    _recorded_download.calls.append({"tickers": tickers, "start": start, "end": end, "auto_adjust": auto_adjust, **kwargs})
    index = pd.DatetimeIndex(["2025-10-02", "2025-10-03", "2025-10-06"], name="Date")
    close = {"9984.T": [17000.0, 17250.0, np.nan], "AMD": [169.73, 164.67, 203.71], "NOPE": [np.nan] * 3,
             "SPY": [669.22, 669.21, 671.61]}
    fields = {"Close": close, "High": close, "Low": close, "Open": close,
              "Volume": {t: [1e6] * 3 for t in close}}
    columns = pd.MultiIndex.from_tuples([(f, t) for f in fields for t in close], names=["Price", "Ticker"])
    data = np.column_stack([fields[f][t] for f, t in columns])
    return pd.DataFrame(data, index=index, columns=columns)


def test_fetch_prices_reshapes_the_yfinance_answer(monkeypatch):
    _recorded_download.calls = []
    monkeypatch.setitem(sys.modules, "yfinance", types.SimpleNamespace(download=_recorded_download))
    frame = fetch_prices(["AMD", "SPY", "9984.T", "nope"], "2025-10-02", date(2025, 10, 6))
    call = _recorded_download.calls[0]
    assert call["start"] == "2025-10-02" and call["end"] == "2025-10-07"  # yfinance's end is exclusive
    assert call["auto_adjust"] is True and call["group_by"] == "column"
    assert list(frame.columns) == ["date", "ticker", "close"]
    assert frame.attrs["missing"] == ["nope"]
    got = {(t, d.date()): c for d, t, c in zip(frame["date"], frame["ticker"], frame["close"])}
    assert got == {
        ("AMD", date(2025, 10, 2)): 169.73, ("AMD", date(2025, 10, 3)): 164.67, ("AMD", date(2025, 10, 6)): 203.71,
        ("SPY", date(2025, 10, 2)): 669.22, ("SPY", date(2025, 10, 3)): 669.21, ("SPY", date(2025, 10, 6)): 671.61,
        ("9984.T", date(2025, 10, 2)): 17000.0, ("9984.T", date(2025, 10, 3)): 17250.0,
    }
    pd.testing.assert_frame_equal(as_prices(frame), frame)


def test_fetch_prices_without_yfinance_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "yfinance", None)  # import yfinance raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'loopscope\[market\]'"):
        fetch_prices(["AMD"], date(2025, 1, 1), date(2025, 1, 31) + timedelta(days=1))


def test_the_command_line_runs_the_study_on_a_price_file(tmp_path):
    from typer.testing import CliRunner

    from loopscope.cli import app

    ledger_path = tmp_path / "ledger.yaml"
    LEDGER.save(ledger_path)
    runner = CliRunner()
    run = runner.invoke(app, ["event-study", str(ledger_path), "--prices", str(SYNTHETIC), "--json"])
    assert run.exit_code == 0, run.output
    document = json.loads(run.output)
    expected = event_study(LEDGER, read_prices(SYNTHETIC)).to_dict()
    assert document == json.loads(json.dumps(expected))
    table = runner.invoke(app, ["event-study", str(ledger_path), "--prices", str(SYNTHETIC), "--window=-2,2"])
    assert table.exit_code == 0, table.output
    assert "AR -2" in table.output and "aaa-weekend" in table.output
    assert "[1] only 30 returns of BBB in the estimation window" in table.output
    german = runner.invoke(app, ["event-study", str(ledger_path), "--prices", str(SYNTHETIC), "--lang", "de"])
    assert german.exit_code == 0 and "Wertzuwachs" in german.output
    neither = runner.invoke(app, ["event-study", str(ledger_path)])
    assert neither.exit_code == 2 and "--prices" in neither.output
    bad = tmp_path / "bad.csv"
    bad.write_text("date,ticker,close\n2024-01-02,SPY,abc\n", encoding="utf-8")
    broken = runner.invoke(app, ["event-study", str(ledger_path), "--prices", str(bad)])
    assert broken.exit_code == 1 and "bad.csv:2" in broken.output


def test_without_a_currency_no_value_is_put_on_an_event(tmp_path):
    """A wide price file names no currency: the command says the value is unknown unless --currency is given."""
    from typer.testing import CliRunner

    from loopscope.cli import app
    from loopscope.interop.prices import fetch_range

    ledger_path = tmp_path / "ledger.yaml"
    LEDGER.save(ledger_path)
    wide = tmp_path / "wide.csv"
    frame = read_prices(SYNTHETIC)
    frame.pivot(index="date", columns="ticker", values="close").reset_index().to_csv(wide, index=False)
    runner = CliRunner()
    unknown = json.loads(runner.invoke(app, ["event-study", str(ledger_path), "--prices", str(wide), "--json"]).output)
    valued = json.loads(runner.invoke(app, ["event-study", str(ledger_path), "--prices", str(wide), "--json",
                                            "--currency", "USD"]).output)
    assert all(e["value_added"] is None for e in unknown["events"])
    assert any("currency of BBB's closes is not known" in (e["value_reason"] or "") for e in unknown["events"])
    assert any(e["value_added"] is not None and e["currency"] == "USD" for e in valued["events"])
    with pytest.raises(ValueError, match="no deals"):
        fetch_range([])
    start, end = fetch_range([date(2025, 10, 6), date(2024, 1, 10)], estimation=500, gap=10, window=(-5, 20))
    assert start <= date(2024, 1, 10) - pd.Timedelta(days=(500 + 10 + 5) * 7 // 5).to_pytimedelta()
    assert end >= date(2025, 10, 6) + pd.Timedelta(days=20 * 7 // 5).to_pytimedelta()
