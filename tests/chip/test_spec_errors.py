"""Impossible or misspelt chip descriptions fail with one line that names the field."""

from importlib import resources
from pathlib import Path

import pytest

from fabless.chip import load_chip, parse_chip
from fabless.errors import FablessError

FAB1 = (resources.files("fabless") / "data" / "chips" / "fab1.toml").read_text()


def fab1_with(old: str, new: str) -> str:
    """fab1's description with one line changed; fails loudly if the line is not there."""
    assert FAB1.count(old) == 1, f"fab1.toml no longer has exactly one {old!r}"
    return FAB1.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("bandwidth_tb_s = 8.0", "bandwidth_tb_s = 0", "hbm.bandwidth_tb_s"),
        ("die_area_mm2 = 640", "die_area_mm2 = -640", "die_area_mm2"),
        ("rows = 128", "rows = 0", "core.matrix.rows"),
        ("accumulator_kib = 2048\n", "", "core.matrix.accumulator_kib"),
        ("bf16 = 32768", "bf16 = 0", "ops_per_cycle.bf16"),
        ("count = 16", "count = -1", "links.count"),
        ("clock_ghz = 1.8", "clock_ghz = 0", "clock_ghz"),
        ("clock_ghz = 1.8", "clock_ghz = 1.8\nclock_mhz = 1800", "clock_mhz"),
        ('topology = "torus-3d"', 'topology = "torus-4d"', "links.topology"),
        ("[hbm]\n", "[memory]\n", "hbm"),
    ],
)
def test_impossible_numbers_name_the_field(old: str, new: str, field: str):
    with pytest.raises(FablessError) as raised:
        parse_chip(fab1_with(old, new), origin="test chip")
    message = str(raised.value)
    assert field in message
    assert message.startswith("test chip: ")
    assert "\n" not in message


def test_unchanged_fab1_parses():
    assert parse_chip(FAB1).name == "fab1"


def test_broken_toml_is_reported_as_such():
    with pytest.raises(FablessError, match="not valid TOML"):
        parse_chip("name = ")


@pytest.mark.parametrize(("typo", "suggestion"), [("h300", "h200"), ("tpu-v6", "tpu-v6e"), ("MI300", "mi300x")])
def test_unknown_preset_suggests_the_nearest_names(typo: str, suggestion: str):
    with pytest.raises(FablessError, match="did you mean") as raised:
        load_chip(typo)
    assert suggestion in str(raised.value)


def test_a_chip_file_loads_by_path(tmp_path: Path):
    path = tmp_path / "mychip.toml"
    path.write_text(fab1_with('name = "fab1"', 'name = "mychip"'))
    assert load_chip(path).name == "mychip"


def test_a_missing_chip_file_says_so(tmp_path: Path):
    with pytest.raises(FablessError, match="does not exist"):
        load_chip(tmp_path / "nope.toml")
