"""Do deal announcements move share prices?  An event study with the market model.

:func:`event_study` takes the ledger's deals and a table of daily closes and, for every listed party
of every deal, measures the abnormal return around the announcement: the return beyond what the
market's move that day predicts.  It tests it against the stock's ordinary day-to-day noise and
turns it into the market value the announcement added.  :func:`market_model` is the computation for
one event, on plain arrays.

Method (MacKinlay 1997; Campbell, Lo & MacKinlay 1997, ch. 4), in trading days:

* **Returns**: simple daily returns of closes, ``R_t = P_t / P_{t-1} − 1`` (log returns
  ``ln(P_t / P_{t-1})`` optionally).  The trading days are those of the market index (default
  ``SPY``), which must be in the prices.  A return needs closes on two consecutive trading days: a
  day without a close leaves that day's and the next day's return missing (not filled).
* **Day 0** is the first trading day on or after the announcement date: a deal announced on a
  Saturday counts from Monday.  The time of day is unknown, so the default event window
  ``[−1, +1]`` also covers news released after the close (its move shows on day +1) and news
  that leaked the day before.  Deals of one party whose day 0 is the same trading day (announced the same
  day, or over a weekend and the Monday) are **one event**: all their deal ids are listed and the
  value is counted once.
* **Estimation window**: the ``estimation`` (L1) trading days ending ``gap`` days before the event
  window starts; for the defaults (250, gap 10, window [−1, +1]) days −260 … −11.  Days without a
  return and days inside another event window of the same party are left out, so L1 in the
  formulas below is the number of returns used; with fewer than ``min_estimation`` (120) the event is *not estimable*
  and says why.
* **Market model**, fitted by ordinary least squares on the estimation window:
  ``R_it = α_i + β_i R_mt + ε_it``, ``σ̂² = SSR / (L1 − 2)``.  Abnormal returns in the event window:
  ``AR_it = R_it − α̂_i − β̂_i R_mt``; cumulative: ``CAR = Σ AR_it`` over the L2 event days.
* **Variance**: the exact one, with the correction for the estimation error of α̂ and β̂
  (Campbell, Lo & MacKinlay 1997, section 4.4): ``V = σ̂² (I + X* (XᵀX)⁻¹ X*ᵀ)`` where ``X`` holds
  ``[1, R_mt]`` of the estimation window and ``X*`` of the event window; ``Var(CAR) = γᵀ V γ``
  with ``γ`` a vector of ones.  For the market model that is ``σ̂² (L2 + L2²/L1 + (ΣR*_m −
  L2 R̄_m)² / Σ(R_m − R̄_m)²)``.  (MacKinlay 1997, section 4, drops the correction for large L1,
  ``Var(CAR) ≈ L2 σ̂²``; :func:`market_model` reports it as ``car_se_approx`` for comparison.)
* **Test**: ``t = CAR / √Var(CAR)``, two-sided p-value from Student's t with ``L1 − 2`` degrees of
  freedom, exact under normal, independent disturbances.  An event is significant when ``p <
  level`` (5 %).  Each day's ``AR / √V_tt`` is given too.
* **Market value added** = ``CAR × market capitalisation on the day before the event window``
  (the close that day × shares outstanding); with log returns ``(e^CAR − 1) ×`` the capitalisation.
  Shares outstanding come from the price file's ``shares_outstanding`` column (the latest on or
  before that day), else from the ledger: its latest ``shares_outstanding`` figure dated on or
  before the announcement, else its latest ``market_cap`` figure dated on or before the
  announcement divided by the last close on or before the figure's date (the implied number of
  shares).  Without
  either, the value added is None with the reason.  In the ticker's price currency (the price
  file's ``currency`` column, else the ``currency`` argument; with neither the value added is
  unknown, with the reason: closes in yen are never taken for dollars), which every row carries,
  with its standard error (CAR's × the capitalisation): a value added whose CAR is not
  significant is mostly noise, and the tables say so.
* **Overlapping windows**: events of one party whose event windows share days are flagged
  (``overlaps``): their CARs include the same days.  The per-party total ``value_added`` leaves
  out every event that overlaps another of the party's (no day is counted twice);
  ``value_added_with_overlaps`` adds them all and double counts the shared days.  The days of
  the party's other event windows are left out of an estimation window (that news is not normal
  performance and would inflate σ̂), and the event's notes say so.

Both parties of a deal are studied when they have a ticker; parties without one, tickers missing
from the prices and the market index itself are listed as skipped with the reason.  Every deal
counts, whatever its later status: the announcement happened.

Caveats: the market model assumes the market's return is not itself moved by the news (for the
largest companies of an index it partly is, which biases CARs towards zero); announcements are
clustered in time (one party's events overlap; several parties share a day, so their CARs are
correlated and a t-test across parties would overstate significance); ``announced`` dates are
those of the first report, not always the press release; for shares listed abroad (e.g. ``9984.T``)
the market index's trading days are not the exchange's and a local index fits better; a ledger's
``market_cap`` figure on another day than the event gives the implied share count only if no split,
issuance or buyback came in between.

References
----------
.. [1] A. C. MacKinlay, "Event Studies in Economics and Finance", Journal of Economic Literature
   35(1):13-39, 1997.
.. [2] J. Y. Campbell, A. W. Lo, A. C. MacKinlay, *The Econometrics of Financial Markets*,
   Princeton University Press, 1997, chapter 4 ("Event-Study Analysis").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

#: Calendar days between an announcement and day 0 beyond which a note asks whether prices are missing.
_LONG_WAIT = 4


# ---------------------------------------------------------------------------------------------
# one event: the market model on arrays
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketModel:
    """The market model of one event (see the module for the formulas).

    ``alpha``, ``beta``: OLS estimates on the ``n`` estimation returns; ``sigma``: the standard
    deviation of the disturbances, √(SSR / (n − 2)); ``dof`` = n − 2.  ``ar``: the abnormal return
    of each event day and ``ar_t`` each divided by its standard error; ``car`` their sum,
    ``car_se`` its standard error with the estimation-error correction, ``car_se_approx`` = √L2 σ̂
    (without it), ``t`` = car / car_se, ``p`` the two-sided p-value (Student's t, dof).
    """

    alpha: float
    beta: float
    sigma: float
    n: int
    dof: int
    ar: tuple[float, ...]
    ar_t: tuple[float, ...]
    car: float
    car_se: float
    car_se_approx: float
    t: float
    p: float


def market_model(
    stock: Any, market: Any, event_stock: Any, event_market: Any,
) -> MarketModel:
    """Fit ``R_stock = α + β R_market + ε`` on the estimation returns and measure the abnormal
    returns of the event window (returns as fractions; every value finite).

    Examples
    --------
    >>> m = market_model([0.01, -0.02, 0.03, 0.0], [0.01, -0.01, 0.02, 0.0], [0.05], [0.01])
    >>> round(m.beta, 6), round(m.alpha, 6), round(m.car, 6)   # β = Sxy / Sxx = 0.0008 / 0.0005
    (1.6, -0.003, 0.037)
    """
    from scipy import stats

    y, x = np.asarray(stock, dtype=float), np.asarray(market, dtype=float)
    ys, xs = np.asarray(event_stock, dtype=float), np.asarray(event_market, dtype=float)
    if y.ndim != 1 or y.shape != x.shape or ys.ndim != 1 or ys.shape != xs.shape:
        raise ValueError("stock and market returns must be one-dimensional and of the same length (each window)")
    if len(y) < 3 or len(ys) < 1:
        raise ValueError(f"need at least 3 estimation returns and 1 event return, got {len(y)} and {len(ys)}")
    if not (np.isfinite(y).all() and np.isfinite(x).all() and np.isfinite(ys).all() and np.isfinite(xs).all()):
        raise ValueError("returns must be finite (leave out the days without one)")
    n = len(y)
    if float(((x - x.mean()) ** 2).sum()) <= 0:
        raise ValueError("the market's returns do not vary in the estimation window: β cannot be estimated")
    X = np.column_stack([np.ones(n), x])
    xtx_inv = np.linalg.inv(X.T @ X)
    alpha, beta = xtx_inv @ (X.T @ y)
    residuals = y - alpha - beta * x
    dof = n - 2
    sigma2 = float(residuals @ residuals) / dof
    Xs = np.column_stack([np.ones(len(xs)), xs])
    ar = ys - alpha - beta * xs
    V = sigma2 * (np.eye(len(xs)) + Xs @ xtx_inv @ Xs.T)
    car = float(ar.sum())
    car_se = math.sqrt(float(V.sum()))
    t = car / car_se if car_se > 0 else math.copysign(math.inf, car) if car else math.nan
    p = float(2 * stats.t.sf(abs(t), dof)) if not math.isnan(t) else math.nan
    ar_se = np.sqrt(np.diag(V))
    ar_t = np.divide(ar, ar_se, out=np.full(len(ar), math.nan), where=ar_se > 0)
    return MarketModel(
        alpha=float(alpha), beta=float(beta), sigma=math.sqrt(sigma2), n=n, dof=dof,
        ar=tuple(float(a) for a in ar), ar_t=tuple(float(a) for a in ar_t), car=car, car_se=car_se,
        car_se_approx=math.sqrt(len(xs) * sigma2), t=float(t), p=p,
    )


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One party's announcement event: one or more deals whose day 0 is the same trading day.

    ``event_date``: the (earliest) announcement date; ``day0``: the first trading day on or after
    it (None if the prices do not reach it); ``deals``, ``titles``, ``announced``: the deals of
    the event.  ``window_start``/``window_end``: the event window's first and last trading day;
    ``estimation_start``/``estimation_end``: the estimation window's, ``n_estimation`` the returns
    in it.  ``alpha``, ``beta``, ``sigma``, ``ar`` (one per event day, see
    :attr:`EventStudy.days`), ``ar_t``, ``car``, ``car_se``, ``t``, ``p``, ``dof``: see
    :class:`MarketModel`; None (empty for ``ar``) when the event is not estimable, and ``reason``
    says why.  ``significant``: ``p < level``.  ``close_before``, ``shares``,
    ``market_cap_before``: on ``market_cap_date``, the day before the event window;
    ``market_cap_basis`` says where the share count comes from; ``value_added`` = CAR × market
    cap (None with ``value_reason`` when it cannot be computed), ``value_added_se`` its standard
    error (CAR's standard error × market cap), in ``currency`` (None when the prices do not say
    and no ``currency`` was given).  ``overlaps``:
    day 0 of the party's other events whose windows share days with this one's.  ``notes``:
    anything else worth knowing (weekend announcement, contaminated estimation window...).
    """

    party: str
    name: str
    ticker: str
    event_date: date
    day0: date | None
    deals: tuple[str, ...]
    titles: tuple[str, ...]
    announced: tuple[date, ...]
    window_start: date | None
    window_end: date | None
    estimation_start: date | None
    estimation_end: date | None
    n_estimation: int
    alpha: float | None
    beta: float | None
    sigma: float | None
    ar: tuple[float, ...]
    ar_t: tuple[float, ...]
    car: float | None
    car_se: float | None
    t: float | None
    p: float | None
    dof: int | None
    significant: bool
    close_before: float | None
    shares: float | None
    market_cap_date: date | None
    market_cap_before: float | None
    market_cap_basis: str | None
    value_added: float | None
    value_added_se: float | None
    value_reason: str | None
    currency: str | None
    overlaps: tuple[date, ...]
    reason: str | None
    notes: tuple[str, ...] = field(default=())

    @property
    def estimable(self) -> bool:
        return self.car is not None

    def to_dict(self, days: tuple[int, ...] | None = None) -> dict[str, Any]:
        out = {name: _jsonable(getattr(self, name)) for name in self.__dataclass_fields__}
        if days is not None:
            out["days"] = list(days)
        return out


@dataclass(frozen=True)
class PartyTotal:
    """One party's events added up.

    ``events``: all its events; ``estimated``: those with a CAR; ``significant``: those with
    ``p < level`` (``positive`` of them with a positive CAR); ``valued``: those with a value added.
    ``value_added``: the sum over its valued events whose windows overlap none of its other events
    (no day counted twice); ``value_added_with_overlaps``: the sum over all valued events, which
    double counts the days overlapping windows share; ``overlapping``: how many events overlap
    another.  ``value_added_se``: the standard error of ``value_added``, treating the events as
    independent (they are not quite: see the module's caveats); ``value_added_significant``: the part
    of ``value_added`` from significant events.  In ``currency`` (None when the prices do not say).
    """

    party: str
    name: str
    ticker: str
    currency: str | None
    events: int
    estimated: int
    significant: int
    positive: int
    valued: int
    overlapping: int
    value_added: float
    value_added_with_overlaps: float
    value_added_se: float = 0.0
    value_added_significant: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {name: _jsonable(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Skipped:
    """A party of some deals that could not be studied, and why."""

    party: str
    name: str
    ticker: str | None
    reason: str
    deals: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {name: _jsonable(getattr(self, name)) for name in self.__dataclass_fields__}


EVENT_COLUMNS = (
    "party", "ticker", "event_date", "day0", "deals", "alpha", "beta", "sigma", "n_estimation", "car", "car_se",
    "t", "p", "significant", "market_cap_before", "value_added", "value_added_se", "currency", "overlaps", "reason",
)


@dataclass(frozen=True)
class EventStudy:
    """The result of :func:`event_study`: one :class:`Event` per party and announcement day,
    a :class:`PartyTotal` per studied party (largest value added first), the skipped parties
    and the parameters.  ``prices_start``/``prices_end``: the market index's first and last day."""

    events: tuple[Event, ...]
    parties: tuple[PartyTotal, ...]
    skipped: tuple[Skipped, ...]
    market: str
    estimation: int
    gap: int
    window: tuple[int, int]
    min_estimation: int
    level: float
    returns: str
    prices_start: date
    prices_end: date

    @property
    def days(self) -> tuple[int, ...]:
        """The event days relative to day 0, e.g. (−1, 0, 1)."""
        return tuple(range(self.window[0], self.window[1] + 1))

    @property
    def estimation_days(self) -> tuple[int, int]:
        """The estimation window relative to day 0, e.g. (−260, −11)."""
        end = self.window[0] - self.gap
        return end - self.estimation + 1, end

    def event(self, party: str, day0: date | str) -> Event:
        """The event of ``party`` with day 0 (or announcement date) ``day0``."""
        day = date.fromisoformat(day0) if isinstance(day0, str) else day0
        for e in self.events:
            if e.party == party and (e.day0 == day or day in e.announced):
                return e
        raise KeyError(f"no event of {party} on {day}")

    def parameters(self) -> dict[str, Any]:
        return {
            "market": self.market, "estimation": self.estimation, "gap": self.gap, "window": list(self.window),
            "estimation_days": list(self.estimation_days), "min_estimation": self.min_estimation,
            "level": self.level, "returns": self.returns, "prices_start": self.prices_start.isoformat(),
            "prices_end": self.prices_end.isoformat(),
            "variance": "exact, with the estimation-error correction (Campbell, Lo & MacKinlay 1997, section 4.4)",
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-safe (dates as ISO text, NaN and infinities as None)."""
        return {
            "parameters": self.parameters(),
            "events": [e.to_dict(self.days) for e in self.events],
            "parties": [p.to_dict() for p in self.parties],
            "skipped": [s.to_dict() for s in self.skipped],
        }

    def to_frame(self):
        """One row per event: :data:`EVENT_COLUMNS` with the abnormal return of each day
        (``ar-1``, ``ar+0``, ``ar+1``) after ``sigma``; deal ids and overlaps joined by ', '."""
        import pandas as pd

        labels = [f"ar{d:+d}" for d in self.days]
        rows = []
        for e in self.events:
            row: dict[str, Any] = {}
            for column in EVENT_COLUMNS:
                value = getattr(e, column)
                if column == "deals":
                    value = ", ".join(value)
                elif column == "overlaps":
                    value = ", ".join(d.isoformat() for d in value)
                row[column] = math.nan if value is None and column not in ("day0", "reason") else value
                if column == "sigma":
                    row.update({label: (e.ar[i] if e.ar else math.nan) for i, label in enumerate(labels)})
            rows.append(row)
        at = EVENT_COLUMNS.index("sigma") + 1
        columns = list(EVENT_COLUMNS[:at]) + labels + list(EVENT_COLUMNS[at:])
        frame = pd.DataFrame(rows, columns=columns)
        for column in ("event_date", "day0"):
            frame[column] = pd.to_datetime(frame[column])
        return frame

    def parties_frame(self):
        """One row per studied party (the fields of :class:`PartyTotal`), indexed by party."""
        import pandas as pd

        columns = list(PartyTotal.__dataclass_fields__)
        return pd.DataFrame([p.to_dict() for p in self.parties], columns=columns).set_index("party")

    def skipped_frame(self):
        """One row per skipped party: party, name, ticker, reason, deals (joined by ', ')."""
        import pandas as pd

        rows = [{**s.to_dict(), "deals": ", ".join(s.deals)} for s in self.skipped]
        return pd.DataFrame(rows, columns=list(Skipped.__dataclass_fields__))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    return value


# ---------------------------------------------------------------------------------------------
# the study
# ---------------------------------------------------------------------------------------------


def event_study(
    ledger: Any,
    prices: Any,
    market: str = "SPY",
    estimation: int = 250,
    gap: int = 10,
    window: tuple[int, int] = (-1, 1),
    *,
    min_estimation: int = 120,
    level: float = 0.05,
    returns: str = "simple",
    currency: str | None = None,
) -> EventStudy:
    """Abnormal returns around every deal announcement of the ledger's listed parties, with
    t-statistics and the market value each announcement added (method: see the module).

    Parameters
    ----------
    ledger
        A :class:`~loopscope.Ledger`: its parties' tickers, its deals' announcement dates and its
        ``shares_outstanding`` / ``market_cap`` figures.
    prices
        Daily closes: a price CSV path or a frame as :func:`loopscope.interop.prices.read_prices`
        returns it (or a wide frame, dates × tickers); see :mod:`loopscope.interop.prices`.
    market
        The ticker of the market index in the prices (``SPY``, ``^GSPC``...); its trading days are
        the study's.
    estimation, gap, window
        L1, the estimation window's length in trading days; how many trading days before the
        event window it ends; the event window (first, last day relative to day 0).
    min_estimation
        The fewest estimation returns an event needs (else it is not estimable).
    level
        Significance level of the two-sided t-test.
    returns
        ``simple`` or ``log``.
    currency
        The currency of the closes of tickers the prices give none for.  Without it (the default)
        such a ticker's value added is unknown, with the reason: a close in yen is never taken for
        dollars.

    Returns
    -------
    EventStudy
        The events, per-party totals, skipped parties and the parameters.

    Raises
    ------
    ValueError
        Parameters out of range, or the market index missing from the prices.
    loopscope.LedgerError
        A price CSV with problems.
    """
    import pandas as pd

    from ..interop.prices import as_prices

    first, last = (int(w) for w in window)
    if first > last:
        raise ValueError(f"the event window {window} ends before it starts")
    if gap < 1:
        raise ValueError(f"gap must be at least 1 (the estimation window ends gap days before the event window), got {gap}")
    if estimation < 3:
        raise ValueError(f"the estimation window needs at least 3 days, got {estimation}")
    if not 3 <= min_estimation <= estimation:
        raise ValueError(f"min_estimation must be between 3 and estimation ({estimation}), got {min_estimation}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if returns not in ("simple", "log"):
        raise ValueError(f"returns must be 'simple' or 'log', got {returns!r}")
    frame = as_prices(str(prices) if isinstance(prices, Path) else prices)
    tickers = set(frame["ticker"])
    if market not in tickers:
        shown = ", ".join(sorted(tickers)[:12]) + (" ..." if len(tickers) > 12 else "")
        raise ValueError(f"the market index {market!r} is not in the prices (they have: {shown}); "
                         "add its closes or choose another (--market on the command line, market= in Python)")
    closes = frame.pivot(index="date", columns="ticker", values="close").sort_index()
    calendar = closes.index[closes[market].notna()]
    on_calendar = closes.reindex(calendar)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = on_calendar / on_calendar.shift(1)
        daily = np.log(ratio) if returns == "log" else ratio - 1
    days = [d.date() for d in calendar]
    currency_of: dict[str, str] = {}
    if "currency" in frame:
        for ticker, value in frame.dropna(subset=["currency"]).groupby("ticker")["currency"].first().items():
            currency_of[str(ticker)] = str(value)
    shares_of: dict[str, pd.Series] = {}
    if "shares_outstanding" in frame:
        given = frame.dropna(subset=["shares_outstanding"])
        for ticker, rows in given.groupby("ticker"):
            shares_of[str(ticker)] = rows.set_index("date")["shares_outstanding"].sort_index()

    # parties and their deals --------------------------------------------------------------
    skipped: dict[str, tuple[str | None, str, list[str]]] = {}
    groups: dict[tuple[str, Any], list] = {}
    for deal in sorted(ledger.deals, key=lambda d: (d.announced, d.id)):
        for party_id in (deal.src, deal.dst):
            party = _party(ledger, party_id)
            ticker = party.ticker if party is not None else None
            reason = None
            if party is None:
                reason = "not among the ledger's parties"
            elif ticker is None:
                reason = "no ticker in the ledger (not listed)"
            elif ticker == market:
                reason = f"its ticker {ticker} is the market index"
            elif ticker not in tickers:
                reason = f"ticker {ticker} is not in the prices"
            if reason is not None:
                skipped.setdefault(party_id, (ticker, reason, []))[2].append(deal.id)
                continue
            position = int(calendar.searchsorted(pd.Timestamp(deal.announced), side="left"))
            known = deal.announced >= days[0] and position < len(days)
            groups.setdefault((party_id, position if known else deal.announced), []).append(deal)

    # one event per party and day 0 ----------------------------------------------------------
    drafts = []
    for (party_id, key), deals in groups.items():
        party = ledger.party(party_id)
        ticker = party.ticker
        position = key if isinstance(key, int) else None
        drafts.append(_Draft(party_id, party.name, ticker, deals, position))
    for draft in drafts:
        if draft.position is not None:
            draft.start, draft.end = draft.position + first, draft.position + last
    by_party: dict[str, list[_Draft]] = {}
    for draft in drafts:
        by_party.setdefault(draft.party, []).append(draft)

    L2 = last - first + 1
    events = []
    for draft in drafts:
        ticker = draft.ticker
        ccy = currency_of.get(ticker, currency)
        notes: list[str] = []
        event_date = min(d.announced for d in draft.deals)
        out: dict[str, Any] = {
            "party": draft.party, "name": draft.name, "ticker": ticker, "event_date": event_date, "day0": None,
            "deals": tuple(d.id for d in draft.deals), "titles": tuple(d.title for d in draft.deals),
            "announced": tuple(d.announced for d in draft.deals), "window_start": None, "window_end": None,
            "estimation_start": None, "estimation_end": None, "n_estimation": 0, "alpha": None, "beta": None,
            "sigma": None, "ar": (), "ar_t": (), "car": None, "car_se": None, "t": None, "p": None, "dof": None,
            "significant": False, "close_before": None, "shares": None, "market_cap_date": None,
            "market_cap_before": None, "market_cap_basis": None, "value_added": None, "value_added_se": None,
            "value_reason": None,
            "currency": ccy, "overlaps": (), "reason": None,
        }
        others = [o for o in by_party[draft.party] if o is not draft and o.position is not None]
        if draft.position is None:
            if event_date < days[0]:
                out["reason"] = f"announced before the market index's first price ({days[0]})"
            else:
                out["reason"] = f"announced after the market index's last price ({days[-1]}): no day 0 yet"
        else:
            day0 = days[draft.position]
            out["day0"] = day0
            for deal in draft.deals:
                if deal.announced != day0:
                    wait = (day0 - deal.announced).days
                    what = "a weekend or holiday" if wait <= _LONG_WAIT else f"a day {wait} days before the next price"
                    notes.append(f"{deal.id} was announced on {what} ({deal.announced}): day 0 is {day0}")
            out["overlaps"] = tuple(sorted({days[o.position] for o in others if o.start <= draft.end and draft.start <= o.end}))
            if draft.start < 1 or draft.end >= len(days):
                edge = "starts before the second" if draft.start < 1 else "ends after the last"
                out["reason"] = (f"the event window (days {first:+d} … {last:+d}) {edge} price of the market index "
                                 f"({days[0] if draft.start < 1 else days[-1]})")
            else:
                out["window_start"], out["window_end"] = days[draft.start], days[draft.end]
                _estimate(out, notes, draft, others, daily, days, ticker, market, estimation, gap, min_estimation, L2,
                          level, first)
        if out["car"] is not None:
            before = draft.start - 1
            out["market_cap_date"] = days[before]
            close = float(on_calendar[ticker].iloc[before])
            out["close_before"] = close
            if ccy is None:
                shares, basis, why = None, None, (f"the currency of {ticker}'s closes is not known: add a currency "
                                                  "column to the prices or give the currency (--currency)")
            else:
                shares, basis, why = _shares(ledger, draft.party, ticker, days[before], event_date, ccy,
                                             shares_of.get(ticker), closes[ticker].dropna())
            if shares is None:
                out["value_reason"] = why
            else:
                out["shares"], out["market_cap_basis"] = shares, basis
                cap = close * shares
                out["market_cap_before"] = cap
                change = math.expm1(out["car"]) if returns == "log" else out["car"]
                out["value_added"] = change * cap
                # its standard error, from CAR's (delta method for log returns)
                slope = math.exp(out["car"]) if returns == "log" else 1.0
                out["value_added_se"] = slope * out["car_se"] * cap
        else:
            out["value_reason"] = "no CAR (the event is not estimable)"
        events.append(Event(**out, notes=tuple(notes)))
    events.sort(key=lambda e: (e.day0 or e.event_date, e.event_date, e.party))

    totals = []
    for party_id, party_events in _by(events).items():
        valued = [e for e in party_events if e.value_added is not None]
        first_event = party_events[0]
        totals.append(PartyTotal(
            party=party_id, name=first_event.name, ticker=first_event.ticker, currency=first_event.currency,
            events=len(party_events), estimated=sum(e.estimable for e in party_events),
            significant=sum(e.significant for e in party_events),
            positive=sum(e.significant and (e.car or 0) > 0 for e in party_events), valued=len(valued),
            overlapping=sum(bool(e.overlaps) for e in party_events),
            value_added=float(sum(e.value_added for e in valued if not e.overlaps)),  # type: ignore[misc]
            value_added_with_overlaps=float(sum(e.value_added for e in valued)),  # type: ignore[misc]
            value_added_se=math.sqrt(sum(e.value_added_se ** 2 for e in valued if not e.overlaps)),  # type: ignore[misc]
            value_added_significant=float(sum(e.value_added for e in valued  # type: ignore[misc]
                                              if not e.overlaps and e.significant)),
        ))
    totals.sort(key=lambda t: (-t.value_added, t.party))
    skipped_rows = tuple(
        Skipped(party_id, _party(ledger, party_id).name if _party(ledger, party_id) else party_id, ticker, reason,
                tuple(deal_ids))
        for party_id, (ticker, reason, deal_ids) in sorted(skipped.items())
    )
    return EventStudy(
        events=tuple(events), parties=tuple(totals), skipped=skipped_rows, market=market, estimation=estimation,
        gap=gap, window=(first, last), min_estimation=min_estimation, level=level, returns=returns,
        prices_start=days[0], prices_end=days[-1],
    )


class _Draft:
    """An event being assembled: a party, its deals with one day 0, and the window positions."""

    def __init__(self, party: str, name: str, ticker: str, deals: list, position: int | None):
        self.party, self.name, self.ticker, self.deals, self.position = party, name, ticker, deals, position
        self.start = self.end = -1


def _party(ledger: Any, party_id: str):
    try:
        return ledger.party(party_id)
    except KeyError:
        return None


def _by(events: list[Event]) -> dict[str, list[Event]]:
    grouped: dict[str, list[Event]] = {}
    for e in events:
        grouped.setdefault(e.party, []).append(e)
    return grouped


def _estimate(out: dict, notes: list[str], draft: _Draft, others: list[_Draft], daily, days: list[date], ticker: str,
              market: str, estimation: int, gap: int, min_estimation: int, L2: int, level: float, first: int) -> None:
    """Fill ``out`` with the market model of one event (or the reason it is not estimable)."""
    stock = daily[ticker].to_numpy(dtype=float)
    index = daily[market].to_numpy(dtype=float)
    end = draft.start - gap
    start = end - estimation + 1
    lo = max(start, 1)  # the first trading day has no return
    if end < lo:
        out["reason"] = (f"no returns before the estimation window's end (day {first - gap:+d}): "
                         f"the market index's prices start on {days[0]}")
        return
    out["estimation_start"], out["estimation_end"] = days[lo], days[end]
    y, x = stock[lo:end + 1], index[lo:end + 1]
    valid = np.isfinite(y) & np.isfinite(x)
    for other in others:  # the party's other news is not normal performance
        a, b = max(other.start, lo), min(other.end, end)
        if a <= b:
            valid[a - lo:b - lo + 1] = False
            ids = ", ".join(d.id for d in other.deals)
            notes.append(f"left out of the estimation window: days {days[a]} … {days[b]}, in the event window of "
                         f"{days[other.position]} ({ids})")
    n = int(valid.sum())
    out["n_estimation"] = n
    if n < min_estimation:
        out["reason"] = (f"only {n} returns of {ticker} in the estimation window ({days[lo]} … {days[end]}; "
                         f"asked for {estimation} days); at least {min_estimation} are needed")
        return
    if n < estimation:
        notes.append(f"the estimation window has {n} returns, not {estimation} (missing prices, a short history "
                     "or other events left out)")
    ys, xs = stock[draft.start:draft.end + 1], index[draft.start:draft.end + 1]
    missing = [k for k in range(L2) if not (np.isfinite(ys[k]) and np.isfinite(xs[k]))]
    if missing:
        k = missing[0]
        out["reason"] = (f"no return of {ticker} on day {first + k:+d} ({days[draft.start + k]}): "
                         "no close that day or the trading day before")
        return
    try:
        model = market_model(y[valid], x[valid], ys, xs)
    except ValueError as exc:
        out["reason"] = str(exc)
        return
    if not model.sigma > 0:
        out["reason"] = "the market model fits the estimation window exactly (σ = 0): no test possible"
        return
    out.update(alpha=model.alpha, beta=model.beta, sigma=model.sigma, ar=model.ar, ar_t=model.ar_t, car=model.car,
               car_se=model.car_se, t=model.t, p=model.p, dof=model.dof, significant=bool(model.p < level))


def _shares(ledger: Any, party: str, ticker: str, before: date, announced: date, currency: str, given,
            closes) -> tuple[float | None, str | None, str]:
    """Shares outstanding for the market cap before an event: (shares, basis, reason if none)."""
    import pandas as pd

    if given is not None:
        known = given[given.index <= pd.Timestamp(before)]
        if len(known):
            return float(known.iloc[-1]), f"shares_outstanding in the prices ({known.index[-1].date()})", ""
    figures = [f for f in ledger.figures_of(party, "shares_outstanding") if f.as_of <= announced and f.unit == "shares"]
    if figures:
        f = figures[-1]
        return float(f.value), f"ledger figure {f.id} (shares_outstanding, {f.as_of})", ""
    caps = [f for f in ledger.figures_of(party, "market_cap") if f.as_of <= announced]
    if not caps:
        return None, None, (f"no shares outstanding: not in the prices for {ticker} on or before {before}, and no "
                            f"shares_outstanding or market_cap figure of {party} dated on or before {announced}")
    f = caps[-1]
    cap = _convert(ledger, f.value, f.unit, currency, f.as_of)
    if cap is None:
        return None, None, (f"the ledger's market_cap figure {f.id} is in {f.unit} and the prices of {ticker} in "
                            f"{currency}, and the ledger has no exchange rate between them")
    known = closes[closes.index <= pd.Timestamp(f.as_of)]
    if not len(known):
        return None, None, (f"the ledger's market_cap figure {f.id} is dated {f.as_of}, before the first price of "
                            f"{ticker} ({closes.index[0].date()}): no close to derive the shares from")
    close, on = float(known.iloc[-1]), known.index[-1].date()
    shares = cap / close
    return shares, (f"ledger figure {f.id} (market_cap {f.value:.4g} {f.unit}, {f.as_of}) / close {close:.4g} "
                    f"on {on} = {shares:.4g} shares"), ""


def _convert(ledger: Any, value: float, unit: str, to: str, on: date) -> float | None:
    if unit == to:
        return value
    try:
        usd = value * (ledger.rate(unit, on) if unit != "USD" else 1.0)
        return usd / (ledger.rate(to, on) if to != "USD" else 1.0)
    except KeyError:
        return None
