"""The bundled ai-2025 dataset: complete enough, sourced, true to the articles, and as its datasheet says."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

import loopscope
from loopscope.ledger.files import bundled_path

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
NTV = "https://www.n-tv.de/"
CALDER_DE = "https://uncutnews.ch/die-illegale-1-billion-dollar-finanzierungsschleife-der-ki-industrie-was-wirklich-passiert/"


@pytest.fixture(scope="module")
def ledger():
    return loopscope.load()


def _all_sources(ledger):
    for deal in ledger.deals:
        for source in deal.sources:
            yield "deal", deal.id, source
    for figure in ledger.figures:
        for source in figure.sources:
            yield "figure", figure.id, source
    for rate in ledger.rates:
        yield "rate", f"{rate.currency}@{rate.date}", rate.source


def test_size_goals(ledger):
    assert len(ledger.deals) >= 60
    parties_in_deals = {d.src for d in ledger.deals} | {d.dst for d in ledger.deals}
    assert len(parties_in_deals) >= 20


def test_every_deal_and_figure_is_sourced_dated_and_quoted(ledger):
    for kind, ident, source in _all_sources(ledger):
        assert source.url.startswith(("http://", "https://")), (kind, ident)
        assert source.quote, (kind, ident, source.url)
    for deal in ledger.deals:
        assert deal.announced and deal.history[0].date == deal.announced


def test_every_party_takes_part(ledger):
    used = {d.src for d in ledger.deals} | {d.dst for d in ledger.deals} | {f.party for f in ledger.figures}
    assert [p.id for p in ledger.parties if p.id not in used] == []


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


@pytest.mark.skipif(not SEEDS.exists(), reason="the seed articles live in ../shared/seeds")
def test_quotes_from_the_articles_are_verbatim():
    """Every quote attributed to the ntv or the (German) Calder article appears word for word in the seed text."""
    seeds = {NTV: _normal((SEEDS / "000_f0fe781d7721fece.txt").read_text()),
             CALDER_DE: _normal((SEEDS / "002_3512997d92802522.txt").read_text())}
    checked = 0
    for kind, ident, source in _all_sources(loopscope.load()):
        if source.url in seeds:
            for part in re.split(r"\s*(?:\.\.\.|…)\s*", _normal(source.quote)):
                assert part in seeds[source.url], (kind, ident, part)
            checked += 1
    assert checked >= 30


def test_both_articles_are_cited_widely(ledger):
    cited = Counter(source.url for _, _, source in _all_sources(ledger))
    assert cited[NTV] >= 15
    assert cited[CALDER_DE] >= 10


def test_article_claims_and_their_corrections(ledger):
    loi = ledger.deal("nvidia-openai-loi-2025")
    assert (loi.src, loi.dst, loi.kind) == ("nvidia", "openai", "equity")
    assert (loi.amount.value, loi.amount.kind) == (100e9, "up_to")
    assert loi.status == "superseded" and loi.superseded_by == "nvidia-openai-equity-2026"
    replacement = ledger.deal("nvidia-openai-equity-2026")
    assert replacement.amount.value == 30e9
    # as the articles saw it, the letter of intent was live
    assert ledger.as_of("2025-11-08").deal("nvidia-openai-loi-2025").status != "superseded"
    oracle = ledger.deal("openai-oracle-compute-2025")
    assert (oracle.src, oracle.dst, oracle.amount.value) == ("openai", "oracle", 300e9)
    assert NTV in {s.url for s in oracle.sources}


def test_oracle_two_thirds_comes_from_the_data_with_its_source(ledger):
    share = next(f for f in ledger.figures if f.id == "oracle-customer-share-2025-08-31")
    assert (share.party, share.counterparty, share.of, share.unit) == ("oracle", "openai", "rpo", "ratio")
    assert share.value == pytest.approx(2 / 3, abs=0.02)
    assert share.kind == "estimate"  # derived by arithmetic, never disclosed
    assert NTV in {s.url for s in share.sources}
    rpo = ledger.latest_figure("oracle", "rpo")
    assert rpo is not None and rpo.value >= 455e9


def test_notes_speak_to_readers_not_about_how_the_data_was_made(ledger):
    words = re.compile(r"\b(helper|the brief|final report|stored excerpt|seed article|from memory|placeholder)\b", re.I)
    texts = [d.notes or "" for d in ledger.deals] + [e.note or "" for d in ledger.deals for e in d.history]
    texts += [f.notes or "" for f in ledger.figures] + [p.notes or "" for p in ledger.parties]
    assert [t for t in texts if words.search(t)] == []


def test_datasheet_counts_match_the_data(ledger):
    sheet = (bundled_path() / "README.md").read_text()
    kinds = Counter(d.kind for d in ledger.deals)
    assert f"| parties | {len(ledger.parties)} |" in sheet
    described = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    assert f"| deals | {len(ledger.deals)} ({described}) |" in sheet
    assert f"| party figures | {len(ledger.figures)} " in sheet
    citations = [source for kind, _, source in _all_sources(ledger) if kind != "rate"]
    assert f"{len(citations)} citations of {len({s.url for s in citations})} distinct pages" in sheet
    dated = sum(1 for source in citations if source.date is not None)
    assert f"({dated} of {len(citations)} citations)" in sheet
    undisclosed = sum(1 for d in ledger.deals if not d.amount.disclosed)
    assert f"({undisclosed} deals)" in sheet


def test_benchmark_generator_makes_valid_ledgers(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from generate import synthetic_ledger

    ledger = synthetic_ledger(200, parties=20, seed=1)
    ledger.save(tmp_path / "x.yaml")
    assert loopscope.load(tmp_path / "x.yaml").sections() == ledger.sections()
