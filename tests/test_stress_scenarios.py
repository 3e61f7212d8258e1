"""Scenarios on the bundled ledger: the shocks do what they say, results are measured against the
plan, Monte Carlo is reproducible and batched correctly, and bad scenario files are named precisely."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import loopscope
from loopscope.stress import BUILTIN, ScenarioError, balance_sheets, load_scenario, stress_test
from loopscope.stress import run as run_module

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
MODELS = ("en", "rv", "debtrank", "furfine", "egj")


@pytest.fixture(scope="module")
def ledger():
    return loopscope.load()


def scenario(**changes):
    data = {"name": "test", "shocks": [{"type": "revenue_falls", "parties": "all", "by": 0.0}]}
    data.update(changes)
    return load_scenario(loopscope.stress.Scenario.model_validate(data))


def test_every_builtin_quotes_a_sentence_of_the_articles():
    texts = " ".join(p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")) if SEEDS.is_dir() else None
    for name in BUILTIN:
        s = load_scenario(name)
        assert s.name == name and s.title and s.title_de and s.quote.url.startswith("https://")
        if texts is not None:  # the seed articles sit beside the checkout in CI
            assert s.quote.text in texts, name


@pytest.mark.parametrize("model", MODELS)
def test_no_shock_no_losses_no_defaults(ledger, model):
    r = stress_test(ledger, scenario(), model=model)
    assert (r.central.loss == 0).all() and not r.central.defaulted.any() and r.cascade() == []


def test_openai_cannot_pay_costs_each_creditor_what_openai_owed_it(ledger):
    r = stress_test(ledger, "openai-cannot-pay")
    sheets = balance_sheets(ledger)
    i = r.parties.index("openai")
    assert r.cascade()[0] == ["openai"]
    assert r.central.shortfall[0, i] == pytest.approx(sheets.liabilities[i].sum())
    for j in np.flatnonzero(sheets.liabilities[i]):
        if not r.central.defaulted[0, j]:
            # nobody else falls short, so each creditor misses exactly OpenAI's debt to it
            assert r.central.lost_inflows[0, j] == pytest.approx(sheets.liabilities[i, j], rel=1e-9)
    oracle = r.parties.index("oracle")
    assert r.loss_share[oracle] == pytest.approx(sheets.liabilities[i, oracle] / sheets.equity[oracle])
    assert r.central.outside_loss[0, i] == pytest.approx(sheets.funding[i])  # who cannot pay raises nothing


def test_a_funding_freeze_leaves_each_party_its_cash_revenue_and_inflows(ledger):
    r = stress_test(ledger, "capital-markets-close", as_of="2025-11-08")
    sheets = balance_sheets(ledger, as_of="2025-11-08")
    c = r.central
    # round 1: parties that needed outside funding or promised investments (which no longer arrive)
    needy = {p for p, f in zip(sheets.parties, sheets.funding) if f > 1e6}
    promised = sheets.terms[sheets.terms.kind.isin(["equity", "loan"])]
    investees = {sheets.parties[j] for j in promised.dst}
    assert r.cascade()[0] and set(r.cascade()[0]) <= needy | investees
    assert "anthropic" in r.cascade()[0] and "anthropic" in investees - needy
    assert c.outside_loss[0] == pytest.approx(sheets.funding)
    openai, nvidia = sheets.parties.index("openai"), sheets.parties.index("nvidia")
    assert sheets.liabilities[nvidia, openai] > 0 and c.lost_inflows[0, openai] >= sheets.liabilities[nvidia, openai]
    assert (c.shortfall[0] >= 0).all() and (c.loss[0] >= -1e-6).all()


@pytest.mark.parametrize("model", MODELS)
def test_a_bigger_shock_never_helps(ledger, model):
    totals = []
    for by in (0.1, 0.4, 0.8):
        shocks = [{"type": "revenue_falls", "parties": "all", "by": by},
                  {"type": "pays_fraction", "party": "openai", "fraction": 1 - by}]
        r = stress_test(ledger, scenario(shocks=shocks), model=model)
        totals.append((r.central.loss[0].sum(), r.central.defaulted[0].sum()))
    losses, defaults = zip(*totals)
    assert losses[0] <= losses[1] + 1e-3 <= losses[2] + 2e-3
    assert defaults[0] <= defaults[1] <= defaults[2]


def test_valuation_reset_writes_stakes_down(ledger):
    r = stress_test(ledger, "valuation-reset")
    sheets = balance_sheets(ledger)
    assert r.central.write_downs[0] == pytest.approx(0.5 * sheets.exposures.sum(axis=1))


@pytest.mark.parametrize("model", MODELS)
def test_monte_carlo_is_reproducible_and_batched_like_one_run(ledger, model, monkeypatch):
    r = stress_test(ledger, "perfect-storm", model=model, samples=300, seed=7)
    again = stress_test(ledger, "perfect-storm", model=model, samples=300, seed=7)
    other = stress_test(ledger, "perfect-storm", model=model, samples=300, seed=8)
    assert r.draws.loss.shape == (300, len(r.parties))
    assert (r.draws.loss == again.draws.loss).all() and not (r.draws.loss == other.draws.loss).all()
    monkeypatch.setattr(run_module, "BATCH", 64)
    batched = stress_test(ledger, "perfect-storm", model=model, samples=300, seed=7)
    assert batched.draws.loss == pytest.approx(r.draws.loss, rel=1e-12, abs=1e-3)
    assert (batched.draws.default_round == r.draws.default_round).all()
    p = r.default_probability()
    assert ((0 <= p) & (p <= 1)).all()
    q = r.loss_quantiles()
    assert (q[0] <= q[1] + 1e-6).all() and (q[1] <= q[2] + 1e-6).all()
    cascade, share = r.most_likely_cascade()
    assert 0 < share <= 1
    json.dumps(r.to_dict(), allow_nan=False)


def test_sampled_shock_sizes_stay_in_their_ranges(ledger):
    r = stress_test(ledger, "openai-cannot-pay", samples=500, seed=1)
    sheets = balance_sheets(ledger)
    i = r.parties.index("openai")
    # OpenAI pays between 0 and 25% of its debts, so its creditors lose between 75% and 100%
    oracle = r.parties.index("oracle")
    owed = r.draws.lost_inflows[:, oracle]
    debt = sheets.liabilities[i, oracle]
    assert owed.min() >= 0.75 * debt * (1 - 1e-9) and owed.max() <= debt * (1 + 1e-9)
    assert np.ptp(owed) > 0.1 * debt


def test_scenario_files_and_their_errors(tmp_path, ledger):
    good = tmp_path / "good.yaml"
    good.write_text("name: half\nshocks:\n  - type: pays_fraction\n    party: openai\n    fraction: 0.5\nmodel: rv\n"
                    "parameters: {alpha: 0.3, beta: 0.8}\nbalance: {horizon: 3}\n", encoding="utf-8")
    s = load_scenario(str(good))
    assert s.model == "rv" and s.parameters.alpha == 0.3 and s.balance.horizon == 3
    r = stress_test(ledger, str(good))
    assert r.model == "rv" and any("alpha 0.3" in a for a in r.assumptions)
    assert (r.end - r.start).days in (365 * 3, 365 * 3 + 1)

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nshocks:\n  - type: pays_fraction\n    party: openai\n    fraction: 1.5\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.yaml:5: shocks\.0\.fraction\.value: .*less than or equal to 1"):
        load_scenario(str(bad))
    typo = tmp_path / "typo.yaml"
    typo.write_text("name: typo\nshocks:\n  - type: revenue_falls\n    by: 0.2\nmodle: en\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"typo\.yaml:5: modle: Extra inputs are not permitted"):
        load_scenario(str(typo))
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"broken\.yaml:\d+: not valid YAML"):
        load_scenario(str(broken))
    with pytest.raises(ScenarioError, match="neither a scenario file nor a built-in"):
        load_scenario("no-such-scenario")
    stranger = tmp_path / "stranger.yaml"
    stranger.write_text("name: x\nshocks:\n  - {type: pays_fraction, party: acme, fraction: 0}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="parties the ledger does not have: acme"):
        stress_test(ledger, str(stranger))
    with pytest.raises(ValueError, match="model must be one of"):
        stress_test(ledger, "openai-cannot-pay", model="xyz")


def test_the_stress_command(tmp_path):
    from typer.testing import CliRunner

    from loopscope.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["stress", "--scenario", "openai-cannot-pay"])
    assert result.exit_code == 0, result.output
    assert "keinesfalls in der Lage" in result.output and "round 1: OpenAI" in result.output
    assert "Oracle" in result.output and "assumptions" in result.output and "model: Eisenberg-Noe" in result.output
    german = runner.invoke(app, ["stress", "-s", "valuation-reset", "--lang", "de", "--samples", "200", "--seed", "3"])
    assert german.exit_code == 0, german.output
    assert "Verluste gegenüber dem Plan" in german.output and "Ausfallwahrsch." in german.output
    assert "häufigste Kaskade in 200 Stichproben" in german.output and "Mrd. $" in german.output
    document = json.loads(runner.invoke(app, ["stress", "-s", "perfect-storm", "-m", "furfine", "--json", "--samples", "50"]).stdout)
    direct = stress_test(loopscope.load(), "perfect-storm", model="furfine", samples=50, seed=0).to_dict()
    assert document["model"] == "furfine" and document["cascade"] == direct["cascade"]
    assert document["monte_carlo"] == direct["monte_carlo"]
    assert [p["loss_usd"] for p in document["parties"]] == [p["loss_usd"] for p in direct["parties"]]
    listing = runner.invoke(app, ["stress", "--list"])
    assert all(name in listing.output for name in BUILTIN)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nshocks: []\n", encoding="utf-8")
    failed = runner.invoke(app, ["stress", "-s", str(bad)])
    assert failed.exit_code == 1 and "bad.yaml:2: shocks:" in failed.output


def test_shocks_from_command_line_flags():
    from typer.testing import CliRunner

    from loopscope.cli import app

    runner = CliRunner()
    args = ["stress", "--json", "--pays", "openai=50%", "--revenue-falls", "oracle=0.2", "--funding-freeze", "start"]
    document = json.loads(runner.invoke(app, args).stdout)
    shocks = document["scenario"]["shocks"]
    assert [s["type"] for s in shocks] == ["pays_fraction", "revenue_falls", "funding_freeze"]
    assert shocks[0]["fraction"]["value"] == 0.5 and shocks[1]["parties"] == ["oracle"] and shocks[2]["after"] is None
    same = stress_test(loopscope.load(), loopscope.stress.Scenario.model_validate(
        {"name": "x", "shocks": [{"type": "pays_fraction", "party": "openai", "fraction": 0.5},
                                 {"type": "revenue_falls", "parties": ["oracle"], "by": 0.2},
                                 {"type": "funding_freeze"}]})).to_dict()
    assert document["totals"] == same["totals"] and document["cascade"] == same["cascade"]
    both = runner.invoke(app, ["stress", "-s", "valuation-reset", "--pays", "openai=0"])
    assert both.exit_code == 2 and "not both" in both.output
    bad = runner.invoke(app, ["stress", "--equity-falls", "all=1.5"])
    assert bad.exit_code == 2 and "PARTY=SHARE" in bad.output


def test_who_fails_at_the_shock_stays_in_round_one_when_shocks_combine(ledger):
    """Anthropic fails as soon as capital markets close; adding 'OpenAI cannot pay' must not push it
    to round 2 (its failure does not depend on OpenAI)."""
    closed = stress_test(ledger, "capital-markets-close").cascade()
    storm = stress_test(ledger, "perfect-storm").cascade()
    assert "anthropic" in closed[0] and "anthropic" in storm[0] and "openai" in storm[0]


@pytest.mark.parametrize("model", MODELS)
def test_paying_more_means_losing_less(ledger, model):
    totals = []
    for fraction in (0.0, 0.5, 0.9):
        s = scenario(shocks=[{"type": "pays_fraction", "party": "openai", "fraction": fraction}])
        totals.append(stress_test(ledger, s, model=model).central.loss[0].sum())
    assert totals[0] >= totals[1] >= totals[2]
    if model not in ("en", "rv"):  # the clearing models: OpenAI, unfunded, cannot pay even half
        assert totals[0] > totals[1] > totals[2]


@pytest.mark.parametrize("model", MODELS)
def test_a_stake_is_not_lost_twice(ledger, model):
    """OpenAI's value falls to nothing: Nvidia and Microsoft lose their stakes once (EGJ adds their
    share of OpenAI's failure cost; DebtRank a little propagation), never twice."""
    s = scenario(shocks=[{"type": "equity_falls", "parties": ["openai"], "by": 1.0}])
    r = stress_test(ledger, s, model=model)
    sheets = balance_sheets(ledger)
    openai = sheets.parties.index("openai")
    for holder in ("nvidia", "microsoft"):
        i = sheets.parties.index(holder)
        stake = sheets.exposures[i, openai]
        assert stake > 0
        extra = 0.2 * sheets.equity[openai] * sheets.holdings[i, openai] + 0.2 * stake if model == "egj" else 0.02 * stake
        assert stake * 0.999 <= r.central.loss[0, i] <= stake + extra, holder


def test_investments_called_off_are_not_written_down(ledger):
    reset = stress_test(ledger, "valuation-reset", as_of="2025-11-08").central.write_downs[0].sum()
    storm = stress_test(ledger, "perfect-storm", as_of="2025-11-08").central.write_downs[0].sum()
    sheets = balance_sheets(ledger, as_of="2025-11-08")
    promised = sheets.terms[sheets.terms.kind == "equity"].amount.sum()
    assert promised > 0 and storm < reset  # the freeze called the promised stakes off before they fell


def test_a_report_of_a_ledger_without_openai_has_no_stress_section(tmp_path):
    from typer.testing import CliRunner

    from loopscope.cli import app
    from loopscope.ledger import Ledger

    full = loopscope.load()
    keep = {"nvidia", "oracle", "coreweave", "microsoft"}
    small = Ledger([p for p in full.parties if p.id in keep], [d for d in full.deals if d.src in keep and d.dst in keep],
                   [f for f in full.figures if f.party in keep and getattr(f, "counterparty", None) in keep | {None}],
                   full.rates)
    small.save(tmp_path / "small.json")
    runner = CliRunner()
    result = runner.invoke(app, ["report", str(tmp_path / "small.json"), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="stress"' not in html and 'id="gap"' in html
    asked = runner.invoke(app, ["report", str(tmp_path / "small.json"), "-o", str(tmp_path / "r.html"), "-s", "openai-cannot-pay"])
    assert asked.exit_code == 1 and "does not have: openai" in asked.output
    chosen = runner.invoke(app, ["report", str(tmp_path / "small.json"), "-o", str(tmp_path / "r.html"), "-s", "valuation-reset"])
    assert chosen.exit_code == 0 and 'id="stress"' in (tmp_path / "r.html").read_text(encoding="utf-8")
