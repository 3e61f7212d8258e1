"""Static figures: deterministic, captioned, in every format, with clear refusals."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import loopscope
from loopscope.cli import app
from loopscope.report.figures import save_figure

runner = CliRunner()


@pytest.mark.parametrize("which", ["network", "cycles", "gap", "stress"])
def test_figures_are_deterministic_and_captioned(tmp_path, which):
    ledger = loopscope.load()
    first = save_figure(which, ledger, tmp_path / "a.svg").read_bytes()
    second = save_figure(which, ledger, tmp_path / "b.svg").read_bytes()
    assert first == second
    text = first.decode("utf-8")
    assert "Source: deal ledger ai-2025 (as of 2026-05-10" in text
    assert save_figure(which, ledger, tmp_path / "a.png").read_bytes() == save_figure(which, ledger, tmp_path / "b.png").read_bytes()
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert save_figure(which, ledger, tmp_path / "a.pdf").read_bytes()[:5] == b"%PDF-"


def test_network_figure_highlights_the_largest_round_trips(tmp_path):
    ledger = loopscope.load()
    svg = save_figure("network", ledger, tmp_path / "n.svg", lang="de").read_text(encoding="utf-8")
    assert "die 3 größten Kreisläufe" in svg and "Quelle: Deal-Ledger ai-2025" in svg
    for party in loopscope.find_cycles(ledger)[0].parties:
        assert ledger.party(party).name in svg


def test_figure_command_and_refusals(tmp_path):
    result = runner.invoke(app, ["figure", "cycles", "-o", str(tmp_path / "c.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c.png").stat().st_size > 10_000
    stress = runner.invoke(app, ["figure", "stress", "-s", "perfect-storm", "-o", str(tmp_path / "s.png")])
    assert stress.exit_code == 0, stress.output
    missing = runner.invoke(app, ["figure", "stress", "-s", "no-such", "-o", str(tmp_path / "x.png")])
    assert missing.exit_code == 1 and "neither a scenario file nor a built-in" in missing.output
    unknown = runner.invoke(app, ["figure", "pie", "-o", str(tmp_path / "p.png")])
    assert unknown.exit_code == 2 and "unknown figure" in unknown.output
    bad = runner.invoke(app, ["figure", "network", "-o", str(tmp_path / "n.gif")])
    assert bad.exit_code == 2 and ".png, .svg or .pdf" in bad.output
    assert not (tmp_path / "n.gif").exists()


def test_gap_and_stress_figures_show_what_they_claim(tmp_path):
    from loopscope.stress import stress_test
    from loopscope.stress.gap import funding_gap

    ledger = loopscope.load()
    gap = save_figure("gap", ledger, tmp_path / "g.svg").read_text(encoding="utf-8")
    short = [p for p in funding_gap(ledger).parties if p.revenue_usd > 0 and (p.gap_usd > 0).any()]
    assert short and all(p.name in gap for p in short[:3])
    assert "revenue: latest annual figure, held flat" in gap
    stress = save_figure("stress", ledger, tmp_path / "s.svg", lang="de", scenario="perfect-storm").read_text(encoding="utf-8")
    r = stress_test(ledger, "perfect-storm")
    assert r.cascade() == [["anthropic", "openai"]]
    assert "Stresstest: Alles zugleich" in stress and "Kaskade: Runde 1: Anthropic, OpenAI" in stress
    assert "Ausfall, Runde 1" in stress
    assert "Teufelskreis" in stress  # the quote the scenario models, in the caption
