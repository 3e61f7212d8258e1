"""Every format round-trips losslessly, and the canonical YAML is stable byte for byte."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
import yaml_rs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loopscope
from loopscope.ledger.files import bundled_path
from loopscope.ledger.yaml_format import format_number, format_string

from .strategies import ledgers, texts

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _roundtrip(ledger, fmt: str):
    folder = Path(tempfile.mkdtemp())
    try:
        target = {"yaml": folder / "l.yaml", "json": folder / "l.json", "csv": folder / "csv", "folder": folder / "yaml"}[fmt]
        ledger.save(target, None if fmt in ("yaml", "json", "folder") else "csv")
        return loopscope.load(target), target
    finally:
        pass


@SETTINGS
@given(ledgers())
def test_every_format_roundtrips_losslessly(ledger):
    for fmt in ("yaml", "json", "csv", "folder"):
        again, _ = _roundtrip(ledger, fmt)
        assert again.sections() == ledger.sections(), fmt


@SETTINGS
@given(ledgers())
def test_conversion_chain_through_all_formats_changes_nothing(ledger):
    current = ledger
    for fmt in ("csv", "json", "yaml", "csv", "folder"):
        current, _ = _roundtrip(current, fmt)
    assert current.sections() == ledger.sections()


@SETTINGS
@given(ledgers())
def test_canonical_yaml_is_a_fixed_point(ledger):
    _, target = _roundtrip(ledger, "yaml")
    first = target.read_bytes()
    again = loopscope.load(target)
    again.save(target)
    assert target.read_bytes() == first


@settings(max_examples=300, deadline=None)
@given(texts)
def test_strings_read_back_as_the_same_strings(value):
    written = format_string(value)
    assert yaml_rs.loads(f"k: {written}\n", parse_datetime=False) == {"k": value}
    assert yaml_rs.loads(f"k: [{written}]\n", parse_datetime=False) == {"k": [value]}
    assert yaml_rs.loads(f"k: {{a: {written}}}\n", parse_datetime=False) == {"k": {"a": value}}
    # PyYAML (used only to find line numbers) must at least parse what we write
    yaml.safe_load(f"k: {written}\n")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-10**18, 10**18)))
def test_numbers_read_back_exactly(value):
    written = format_number(value)
    assert yaml_rs.loads(f"k: {written}\n") == {"k": value}
    if isinstance(value, float):
        assert float(written) == value


def test_big_round_numbers_are_written_readably():
    assert format_number(100e9) == "100e9"
    assert format_number(22.4e9) == "22.4e9"
    assert format_number(350e6) == "350e6"
    assert format_number(1.4e12) == "1.4e12"
    assert format_number(0.66) == "0.66"
    assert format_number(18000.0) == "18000"


def test_bundled_dataset_roundtrips_byte_for_byte(tmp_path):
    source = bundled_path()
    ledger = loopscope.load(source)
    ledger.save(tmp_path)
    originals = sorted(p.name for p in source.glob("*.yaml"))
    assert sorted(p.name for p in tmp_path.glob("*.yaml")) == originals
    for name in originals:
        assert (tmp_path / name).read_bytes() == (source / name).read_bytes(), name


def test_bundled_dataset_survives_every_format(tmp_path):
    ledger = loopscope.load()
    for fmt, target in (("json", tmp_path / "x.json"), ("csv", tmp_path / "csv"), ("yaml", tmp_path / "x.yaml")):
        ledger.save(target, fmt)
        assert loopscope.load(target).sections() == ledger.sections(), fmt


def test_saving_a_folder_keeps_each_entity_in_its_file(tmp_path):
    shutil.copytree(bundled_path(), tmp_path / "data")
    ledger = loopscope.load(tmp_path / "data")
    assert ledger.origins[("deals", "nvidia-openai-loi-2025")] == "deals-openai.yaml"
    ledger.save(tmp_path / "data")
    assert loopscope.load(tmp_path / "data").origins == ledger.origins


def test_json_file_has_the_documented_sections(tmp_path):
    loopscope.load().save(tmp_path / "x.json")
    data = json.loads((tmp_path / "x.json").read_text())
    assert list(data) == ["parties", "deals", "figures", "rates"]
    deal = data["deals"][0]
    assert {"id", "kind", "from", "to", "announced", "amount", "history", "sources"} <= set(deal)


def test_csv_folder_has_the_documented_files(tmp_path):
    loopscope.load().save(tmp_path, "csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "deals.csv", "figures.csv", "parties.csv", "rates.csv", "sources.csv"]
    header = (tmp_path / "deals.csv").read_text().splitlines()[0]
    assert header.startswith("id,kind,from,to,title,announced,amount_value,amount_currency,amount_kind")


@pytest.mark.parametrize("name", ["x.yaml", "x.json"])
def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path, name):
    loopscope.load().save(tmp_path / name)
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_saving_keeps_permissions_and_gives_new_files_the_usual_ones(tmp_path):
    import os
    import stat

    import loopscope

    ledger = loopscope.load()
    umask = os.umask(0o022)
    try:
        ledger.save(tmp_path / "new.json")
        assert stat.S_IMODE(os.stat(tmp_path / "new.json").st_mode) == 0o644
        os.chmod(tmp_path / "new.json", 0o640)
        ledger.save(tmp_path / "new.json")
        assert stat.S_IMODE(os.stat(tmp_path / "new.json").st_mode) == 0o640
    finally:
        os.umask(umask)
