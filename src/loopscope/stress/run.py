"""Run a stress scenario on the ledger: balance sheets, shocks, a model, and the cascade it gives.

:func:`stress_test` is the one entry point; :class:`StressResult` the one result, whatever the
model.  Losses are measured against the baseline of :func:`~loopscope.stress.balance_sheets`: the
plans as announced, in which every commitment is paid.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from ..ledger import Ledger
from .balance import DISTRIBUTIONS, BalanceSheets, _scatter, balance_sheets
from .scenario import MODEL_NAMES, EquityFalls, FundingFreeze, PaysFraction, RevenueFalls, Scenario, ScenarioError, Size, load_scenario

#: samples cleared per batch (the progress callback is called after each)
BATCH = 2_000


@dataclass(frozen=True)
class Outcome:
    """One run's per-party arrays, shape (S, n): S = 1 for the central run, else one row per sample.

    * ``loss``: US dollars lost against the baseline (see :func:`stress_test` for each model);
    * ``lost_inflows``, ``outside_loss``, ``write_downs``: the parts of ``loss`` for the clearing
      models (payments from the network not received; outside revenue and funding lost; stakes
      written down); NaN for the other models, whose loss is a single figure;
    * ``shortfall``: what the party owed in the horizon and did not pay (NaN for the models
      without payments);
    * ``defaulted``; ``default_round`` (1: failed at the shock; 0: survived).
    """

    loss: np.ndarray
    lost_inflows: np.ndarray
    outside_loss: np.ndarray
    write_downs: np.ndarray
    shortfall: np.ndarray
    defaulted: np.ndarray
    default_round: np.ndarray

    def cascade(self, parties, sample: int = 0) -> list[list[str]]:
        """The parties failing in each round, in order."""
        rounds = self.default_round[sample]
        return [[parties[i] for i in np.flatnonzero(rounds == r)] for r in range(1, int(rounds.max(initial=0)) + 1)
                if (rounds == r).any()]


@dataclass(frozen=True)
class StressResult:
    """A scenario's result: the central run and, with ``samples``, the Monte Carlo draws.

    ``value_before``: each party's market value or valuation (NaN when the ledger has none);
    ``central``: the run with central amounts and shock sizes; ``draws``: the samples (None
    without); ``assumptions``: everything the numbers rest on, in words.
    """

    scenario: Scenario
    model: str
    parties: tuple[str, ...]
    start: date
    end: date
    value_before: np.ndarray
    central: Outcome
    draws: Outcome | None
    samples: int
    seed: int | None
    assumptions: tuple[str, ...]

    @property
    def value_after(self) -> np.ndarray:
        return self.value_before - self.central.loss[0]

    @property
    def loss_share(self) -> np.ndarray:
        """Central loss as a share of the value before (NaN without a value)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.value_before > 0, self.central.loss[0] / self.value_before, math.nan)

    def cascade(self) -> list[list[str]]:
        """The central run's cascade: the parties failing in round 1, 2, …"""
        return self.central.cascade(self.parties)

    def default_probability(self) -> np.ndarray | None:
        return None if self.draws is None else self.draws.defaulted.mean(axis=0)

    def loss_quantiles(self, q=(0.05, 0.5, 0.95)) -> np.ndarray | None:
        """Quantiles of each party's loss over the samples, shape (len(q), n)."""
        return None if self.draws is None else np.quantile(self.draws.loss, q, axis=0)

    def most_likely_cascade(self) -> tuple[list[list[str]], float] | None:
        """The cascade (who fails in which round) seen most often over the samples, and its share."""
        if self.draws is None:
            return None
        seen = Counter(tuple(map(tuple, self.draws.cascade(self.parties, s))) for s in range(self.samples))
        cascade, count = seen.most_common(1)[0]
        return [list(r) for r in cascade], count / self.samples

    def to_dict(self) -> dict[str, Any]:
        def num(x):
            return None if x is None or not math.isfinite(x) else float(x)

        c = self.central
        rows = []
        probability = self.default_probability()
        quantiles = self.loss_quantiles()
        for i, party in enumerate(self.parties):
            row = {
                "party": party, "value_before_usd": num(self.value_before[i]), "value_after_usd": num(self.value_after[i]),
                "loss_usd": num(c.loss[0, i]), "loss_share_of_value": num(self.loss_share[i]),
                "lost_inflows_usd": num(c.lost_inflows[0, i]), "outside_loss_usd": num(c.outside_loss[0, i]),
                "write_downs_usd": num(c.write_downs[0, i]), "shortfall_usd": num(c.shortfall[0, i]),
                "defaulted": bool(c.defaulted[0, i]), "default_round": int(c.default_round[0, i]),
            }
            if probability is not None:
                row["default_probability"] = float(probability[i])
                row["loss_usd_p05"], row["loss_usd_median"], row["loss_usd_p95"] = (num(v) for v in quantiles[:, i])
            rows.append(row)
        out = {
            "scenario": self.scenario.model_dump(mode="json"), "model": self.model, "model_name": MODEL_NAMES[self.model],
            "horizon": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "parties": rows, "cascade": self.cascade(),
            "totals": {"loss_usd": float(c.loss[0].sum()), "defaults": int(c.defaulted[0].sum()),
                       "shortfall_usd": num(np.nansum(c.shortfall[0])) if self.model in ("en", "rv") else None},
            "samples": self.samples, "seed": self.seed, "assumptions": list(self.assumptions),
        }
        if self.draws is not None:
            cascade, share = self.most_likely_cascade()
            totals = self.draws.loss.sum(axis=1)
            defaults = self.draws.defaulted.sum(axis=1)
            out["monte_carlo"] = {
                "most_likely_cascade": cascade, "most_likely_cascade_share": share,
                "total_loss_usd": dict(zip(("p05", "median", "p95"), np.quantile(totals, [0.05, 0.5, 0.95]).tolist())),
                "defaults": {"mean": float(defaults.mean()), "max": int(defaults.max())},
            }
        return out


def _sizes(size: Size, samples: int, rng: np.random.Generator | None) -> np.ndarray:
    """The central size (1,) or ``samples`` draws from the size's distribution."""
    if rng is None:
        return np.array([size.value])
    low, high = size.bounds
    if low == high:
        return np.full(samples, size.value)
    if size.distribution == "uniform":
        return rng.uniform(low, high, samples)
    return rng.triangular(low, size.value, high, samples)


def _mask(parties, index: dict[str, int], n: int) -> np.ndarray:
    mask = np.zeros(n, bool)
    if parties == "all":
        mask[:] = True
    else:
        mask[[index[p] for p in parties]] = True
    return mask


def _shock_sizes(scenario: Scenario, samples: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Each shock's size per sample (S,), drawn once for all samples so that batching cannot
    change them; the central sizes (1,) without ``rng``.  A funding freeze has no size (ones)."""
    sizes = []
    for shock in scenario.shocks:
        size = shock.fraction if isinstance(shock, PaysFraction) else getattr(shock, "by", None)
        sizes.append(np.ones(max(samples, 1)) if size is None else _sizes(size, samples, rng))
    return sizes


def _evaluate(sheets: BalanceSheets, scenario: Scenario, model: str, amounts: np.ndarray, stake_amounts: np.ndarray,
              sizes: list[np.ndarray]) -> Outcome:
    """Shock the sheets for each row of ``amounts`` (with the shock ``sizes`` of each row) and run
    the model on all rows at once."""
    S = amounts.shape[0]
    parties = sheets.parties
    n = len(parties)
    index = {p: i for i, p in enumerate(parties)}
    terms = sheets.terms
    src, dst = terms["src"].to_numpy(), terms["dst"].to_numpy()
    base = sheets.assemble(amounts, stake_amounts)
    owed0 = base.liabilities.sum(axis=2)
    inflow0 = base.liabilities.sum(axis=1)
    paid = amounts.copy()  # what is paid as planned, flow by flow
    cancelled = np.zeros(amounts.shape[1], bool)  # flows that are no longer owed at all
    outside = base.outside_revenue.copy()
    funding = base.funding.copy()
    fall = np.zeros((S, n))  # the share by which each party's market value falls
    pays = np.ones((S, n))  # the share of its commitments each party pays at most
    for shock, size in zip(scenario.shocks, sizes):
        if isinstance(shock, PaysFraction):
            i = index[shock.party]
            f = size
            paid[:, src == i] *= f[:, None]
            pays[:, i] = np.minimum(pays[:, i], f)
            funding[:, i] = 0.0
        elif isinstance(shock, RevenueFalls):
            outside[:, _mask(shock.parties, index, n)] *= 1 - size[:, None]
        elif isinstance(shock, EquityFalls):
            mask = _mask(shock.parties, index, n)
            y = size[:, None]
            fall[:, mask] = 1 - (1 - fall[:, mask]) * (1 - y)
            funding[:, mask] *= 1 - y
        elif isinstance(shock, FundingFreeze):
            mask = _mask(shock.parties, index, n)
            after = max(shock.after or sheets.start, sheets.start)
            frozen = min(max((sheets.end - after).days / (sheets.end - sheets.start).days, 0.0), 1.0)
            funding[:, mask] *= 1 - frozen
            stop = terms["kind"].isin(("equity", "loan")).to_numpy() & (terms["date"].to_numpy() >= after) & mask[dst]
            cancelled |= stop
    paid[:, cancelled] = 0.0
    trigger = (pays < 1) & (owed0 > 0)
    kept = np.where(cancelled, 0.0, amounts)
    L_kept = _scatter(src, dst, kept, n)  # everything still owed: what a funding freeze called off is not
    cancelled_in = inflow0 - L_kept.sum(axis=1)  # promised investments and loans called off
    # stakes: promised investments that were called off are never made, so never written down
    stakes_kept = stake_amounts.copy()
    if cancelled.any():
        gone = set(zip(terms["deal_id"].to_numpy()[cancelled], terms["date"].to_numpy()[cancelled]))
        dropped = np.array([(d, t) in gone for d, t in zip(sheets.stake_terms["deal_id"], sheets.stake_terms["date"])],
                           dtype=bool)
        stakes_kept[:, dropped] = 0.0
    X = sheets.assemble(amounts, stakes_kept).exposures if cancelled.any() else base.exposures
    write_downs = np.einsum("sij,sj->si", X, fall)
    outside_loss = (base.outside_revenue - outside) + (base.funding - funding)
    nan = np.full((S, n), math.nan)
    if model in ("en", "rv"):
        from .clearing import eisenberg_noe, rogers_veraart

        def clear(L):
            e1 = base.cash + outside + funding
            if model == "en":
                return eisenberg_noe(L, e1)
            return rogers_veraart(L, e1, scenario.parameters.alpha, scenario.parameters.beta)

        L1 = _scatter(src, dst, paid, n)
        c = clear(L1)
        lost = (inflow0 - L1.sum(axis=1)) + c.losses  # called off or cut, plus what clearing could not pay
        shortfall = L_kept.sum(axis=2) - c.payments
        defaulted = c.defaulted | trigger
        if trigger.any():
            # who fails even if the parties told to pay a fraction paid in full fails at the shock
            # (round 1) with them; the others follow from their shortfalls, one round later
            alone = clear(L_kept)
            first = alone.defaulted & (alone.default_round == 1)
            shift = trigger.any(axis=1, keepdims=True).astype(np.int64)
            rounds = np.where(trigger | (c.defaulted & first), 1, np.where(c.defaulted, c.default_round + shift, 0))
        else:
            rounds = np.where(c.defaulted, c.default_round, 0)
        loss = lost + outside_loss + write_downs
        return Outcome(loss, lost, outside_loss, write_downs, np.maximum(shortfall, 0.0), defaulted, rounds)

    V = sheets.equity
    lost_from_triggers = np.einsum("si,sij->sj", (1 - pays) * trigger, L_kept)  # what the cut payments cost
    if model == "debtrank":
        from .debtrank import debtrank

        # one exposure matrix (central amounts): i's assets on j are what j owes i and i's stake in j;
        # a fall in j's value is j's own distress, passed on to its holders by the propagation
        A = sheets.liabilities.T + sheets.exposures
        capital = _capital(V, A)
        h0 = np.clip((outside_loss + cancelled_in) / capital, 0.0, 1.0)
        h0 = np.maximum(h0, fall)
        h0 = np.where(trigger, np.maximum(h0, 1 - pays), h0)
        d = debtrank(A, capital, h0, linear=scenario.parameters.linear)
        h = np.atleast_2d(d.h)
        defaulted = np.atleast_2d(d.defaulted)
        rounds = np.where(defaulted, np.atleast_2d(d.distress_round), 0)
        return Outcome(h * capital, nan, nan, nan, nan, defaulted, rounds)
    if model == "furfine":
        from .cascades import furfine

        # per sample: what j still owes i, and i's stake in j after its fall (the write-down is a
        # direct loss, so a failure costs only what is left of the stake)
        A = np.swapaxes(L_kept, 1, 2) + X * (1 - fall)[:, None, :]
        capital = _capital(V, sheets.liabilities.T + sheets.exposures)
        direct = outside_loss + write_downs + cancelled_in
        recovery = np.where(trigger, np.maximum(scenario.parameters.recovery, pays), scenario.parameters.recovery)
        f = furfine(A, np.maximum(capital - direct, 0.0), trigger | (direct >= capital), recovery=recovery)
        return Outcome(capital - np.atleast_2d(f.value_after), nan, nan, nan, nan, np.atleast_2d(f.defaulted),
                       np.atleast_2d(f.default_round))
    # egj: cross-holdings are the shares the ledger states, else stakes over the held party's value;
    # a fall in a party's value is a fall of its own assets, which the holdings pass on
    from .cascades import elliott_golub_jackson

    capital = _capital(V, sheets.liabilities.T + sheets.exposures)
    with np.errstate(invalid="ignore", divide="ignore"):
        C = np.where(sheets.holdings > 0, sheets.holdings,
                     np.where(np.isfinite(V) & (V > 0), sheets.exposures / np.where(V > 0, V, 1), 0.0))
    np.fill_diagonal(C, 0.0)
    column = C.sum(axis=0)
    C = C * np.where(column > 0.9, 0.9 / np.where(column > 0, column, 1), 1.0)
    # book values V = (I − C)⁻¹ D start at the capital (a valuation prices the whole firm, stakes held
    # by others included), so the primitive assets are D = (I − C) V
    primitive = np.maximum((np.eye(n) - C) @ capital, 0.0)
    shocked = np.maximum(primitive * (1 - fall) - outside_loss - cancelled_in - lost_from_triggers, 0.0)
    shocked = np.where(trigger, shocked * pays, shocked)
    cascade = elliott_golub_jackson(C, primitive, np.full(n, scenario.parameters.threshold),
                                    scenario.parameters.failure_cost * capital, shocked)
    return Outcome(np.atleast_2d(cascade.losses), nan, nan, nan, nan, np.atleast_2d(cascade.defaulted),
                   np.atleast_2d(cascade.default_round))


def _capital(V: np.ndarray, A: np.ndarray) -> np.ndarray:
    """The exposure models' capital: the market value or valuation, else the party's assets on the
    network (so losing all of them is full distress), else 1 dollar (nothing to lose in the network)."""
    on_network = A.sum(axis=1)
    return np.where(np.isfinite(V) & (V > 0), V, np.where(on_network > 0, on_network, 1.0))


def stress_test(ledger: Ledger, scenario: str | Scenario = "openai-cannot-pay", model: str | None = None,
                samples: int = 0, seed: int | None = 0, as_of: date | str | None = None,
                progress: Callable[[int, int], None] | None = None) -> StressResult:
    """Run a scenario on the ledger with one of the models.

    Parameters
    ----------
    ledger : the deal ledger
    scenario : a built-in name (:data:`~loopscope.stress.scenario.BUILTIN`), a YAML file or a
        :class:`~loopscope.stress.scenario.Scenario`
    model : ``en``, ``rv``, ``egj``, ``debtrank`` or ``furfine`` (default: the scenario's)
    samples : Monte Carlo samples (0: the central run only); amounts are drawn within their ranges
        (:data:`~loopscope.stress.balance.DISTRIBUTIONS`), shock sizes from the scenario's
        distributions, all samples cleared at once in batches of :data:`BATCH`
    seed : the random seed; the same seed gives the same samples
    as_of : start of the horizon (default: the scenario's, else the ledger's as-of date)
    progress : called with (samples done, samples) after each batch

    Notes
    -----
    The baseline is :func:`~loopscope.stress.balance_sheets` with outside funding: the plans as
    announced, every commitment paid.  A scenario's shocks change the flows paid (a party pays a
    fraction; promised investments and loans are called off in a funding freeze), the outside
    revenue, the outside funding and the value of stakes; then the model decides who else fails.

    * ``en`` / ``rv``: the greatest clearing vector (Eisenberg & Noe 2001; Rogers & Veraart 2013
      with the scenario's ``alpha``, ``beta``) on the shocked obligations and outside assets.  A
      party's loss is the payments it was owed and did not receive, plus the outside revenue and
      funding it lost, plus the write-down of its stakes.  A party told to pay a fraction fails in
      round 1, with everyone who would fail even if it paid in full; the others follow, one round
      later than the clearing finds them.  Money a party no longer pays is not counted as its gain.
    * ``debtrank``: DebtRank (Battiston et al. 2012; ``linear``: Bardoscia et al. 2015) on the
      exposures (what others owe a party in the horizon, plus its stakes); capital is the party's
      market value or valuation, else its assets on the network.  The initial distress is the
      direct loss (outside revenue and funding, promised investments called off) over capital, the
      fall of a party's own value, and ``1 − fraction`` for a party that pays only a fraction; the
      holders of a party's stakes lose through the propagation, not twice.
    * ``furfine``: Furfine (2003) sequential defaults on the same capital, with the exposures of each
      sample (stakes after their write-down, which is a direct loss); the parties told to pay a
      fraction, and those whose direct loss exceeds their capital, fail first; ``recovery`` is
      recovered from a failed debtor, and at least the fraction from one that pays a fraction.
    * ``egj``: Elliott, Golub & Jackson (2014): cross-holdings are the shares the ledger states, else
      stakes as shares of the held party's value (scaled down where they would add up to more than
      90%), primitive assets set so
      that book values start at the capital above; a fall in a party's value lowers its primitive assets
      (the holdings pass it on); a party fails below ``threshold`` of its value and then loses
      ``failure_cost`` of it.

    DebtRank and EGJ take one matrix: their samples draw the shocks and the amounts that feed the
    direct losses, with the exposures at central amounts.
    """
    scenario = load_scenario(scenario)
    model = model or scenario.model
    if model not in MODEL_NAMES:
        raise ValueError(f"model must be one of {', '.join(MODEL_NAMES)}, not {model!r}")
    if samples < 0:
        raise ValueError(f"samples must be 0 or more, not {samples}")
    b = scenario.balance
    sheets = balance_sheets(ledger, as_of=as_of or b.as_of, horizon=b.horizon, revenue_growth=b.revenue_growth,
                            backstop_share=b.backstop_share, outside_funding=b.outside_funding)
    unknown = sorted(scenario.parties() - set(sheets.parties))
    if unknown:
        raise ScenarioError(f"scenario {scenario.name!r} names parties the ledger does not have: {', '.join(unknown)}")
    central = _evaluate(sheets, scenario, model, *sheets.draw(0), _shock_sizes(scenario, 0, None))
    draws = None
    if samples:
        amounts, stakes = sheets.draw(samples, seed)
        sizes = _shock_sizes(scenario, samples, np.random.default_rng(None if seed is None else [seed, 1]))
        parts = []
        for start in range(0, samples, BATCH):
            stop = min(start + BATCH, samples)
            parts.append(_evaluate(sheets, scenario, model, amounts[start:stop], stakes[start:stop],
                                   [size[start:stop] for size in sizes]))
            if progress is not None:
                progress(stop, samples)
        draws = Outcome(*(np.concatenate([getattr(p, f) for p in parts]) for f in Outcome.__dataclass_fields__))
    assumptions = (
        *sheets.assumptions,
        *(f"shock: {text}" for text in scenario.describe()),
        f"model: {MODEL_NAMES[model]}" + _parameters(scenario, model),
        *((f"Monte Carlo: {samples} samples, seed {seed}; amounts drawn per deal: "
           + "; ".join(f"{k}: {v}" for k, v in DISTRIBUTIONS.items() if k != "exact"),) if samples else ()),
    )
    return StressResult(scenario, model, sheets.parties, sheets.start, sheets.end, sheets.equity, central, draws,
                        samples, seed, assumptions)


def _parameters(scenario: Scenario, model: str) -> str:
    p = scenario.parameters
    return {
        "en": "", "rv": f" (alpha {p.alpha}, beta {p.beta})", "furfine": f" (recovery {p.recovery:.0%})",
        "debtrank": " (linear)" if p.linear else " (original)",
        "egj": f" (threshold {p.threshold:.0%} of value, failure cost {p.failure_cost:.0%} of value)",
    }[model]
