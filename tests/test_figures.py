"""Static figures: deterministic, captioned, in every format, with clear refusals."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import loopscope
from loopscope.cli import app
from loopscope.report.figures import save_figure

runner = CliRunner()


@pytest.mark.parametrize("which", ["network", "cycles"])
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
    gap = runner.invoke(app, ["figure", "gap", "-o", str(tmp_path / "g.png")])
    assert gap.exit_code == 2 and "stress-test module" in gap.output
    bad = runner.invoke(app, ["figure", "network", "-o", str(tmp_path / "n.gif")])
    assert bad.exit_code == 2 and ".png, .svg or .pdf" in bad.output
    assert not (tmp_path / "n.gif").exists()
