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


def _rejected(path: Path) -> str:
    """The one-line error of loading the chip file at `path`, which must name the file."""
    with pytest.raises(FablessError) as raised:
        load_chip(path)
    message = str(raised.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message


@pytest.mark.parametrize("name", [
    'x */ initial $system(\\"touch PWNED\\"); /*',
    'x\\nmodule pwn; initial $system(\\"touch PWNED\\"); endmodule\\n//',
    "Fab1",
    "-fab1",
    "a" * 65,
    "",
])
def test_a_name_that_is_not_a_plain_identifier_is_refused(tmp_path: Path, name: str):
    path = tmp_path / "chip.toml"
    path.write_text(fab1_with('name = "fab1"', f'name = "{name}"'))
    message = _rejected(path)
    assert f"{path}: name: must be 1-64 lowercase letters, digits, '.', '_' or '-'" in message


@pytest.mark.parametrize(("old", "new", "field"), [
    ('vendor = "Fabless"', 'vendor = "Fab\\u001b[2Jless"', "vendor"),
    ('display_name = "', 'display_name = "\\r', "display_name"),
    ('generation = "HBM3E"', 'generation = "HBM3E\\u202e"', "hbm.generation"),
    ('[sources]\n', '[sources]\n"a\\nb" = "x"\n', r"sources.a\nb.[key]"),
    ('[sources]\n', '[sources]\nclock = "\\u0000"\n', "sources.clock"),
    ('notes = """', 'notes = """\\u0007', "notes"),
])
def test_control_characters_in_text_are_refused(tmp_path: Path, old: str, new: str, field: str):
    path = tmp_path / "chip.toml"
    path.write_text(fab1_with(old, new))
    assert f"{path}: {field}: must not hold control characters" in _rejected(path)


@pytest.mark.parametrize(("old", "new", "field"), [
    ('vendor = "Fabless"', f'vendor = "{"v" * 129}"', "vendor"),
    ('[sources]\n', f'[sources]\nclock = "{"s" * 1001}"\n', "sources.clock"),
    ('notes = """', f'notes = """{"n" * 10_001}', "notes"),
])
def test_overlong_text_is_refused(tmp_path: Path, old: str, new: str, field: str):
    path = tmp_path / "chip.toml"
    path.write_text(fab1_with(old, new))
    assert f"{path}: {field}: String should have at most" in _rejected(path)


@pytest.mark.parametrize(("value", "message"), [
    ("nan", "clock_ghz: Input should be a finite number (got nan)"),
    ("inf", "clock_ghz: Input should be a finite number (got inf)"),
    ("1e300", "clock_ghz: Input should be less than or equal to 20 (got 1e+300)"),
    ("true", "clock_ghz: Input should be a valid number (got True)"),
    ('"1.8"', "clock_ghz: Input should be a valid number (got '1.8')"),
    ("{ ghz = 1.8 }", "clock_ghz: Input should be a valid number"),
])
def test_a_number_that_is_not_a_finite_physical_number_is_refused(value: str, message: str):
    with pytest.raises(FablessError) as raised:
        parse_chip(fab1_with("clock_ghz = 1.8", f"clock_ghz = {value}"), origin="t.toml")
    assert str(raised.value) == f"t.toml: {message}"


@pytest.mark.parametrize(("old", "new", "message"), [
    ("cores = 8", "cores = 8.0", "cores: Input should be a valid integer (got 8.0)"),
    ("cores = 8", "cores = true", "cores: Input should be a valid integer (got True)"),
    ("die_area_mm2 = 640", "die_area_mm2 = 60000", "die_area_mm2: Input should be less than or equal to 50000"),
    ("stacks = 8", "stacks = 1000", "hbm.stacks: Input should be less than or equal to 64"),
    ("bf16 = 32768", "bf16 = 1e12", "core.matrix.ops_per_cycle.bf16: Input should be less than or equal to"),
    ("tdp_w = 850", "tdp_w = 1e9", "tdp_w: Input should be less than or equal to 100000"),
])
def test_every_number_has_a_physical_upper_bound(old: str, new: str, message: str):
    with pytest.raises(FablessError, match=f"^t.toml: {message}".replace("(", r"\(").replace(")", r"\)")):
        parse_chip(fab1_with(old, new), origin="t.toml")


def test_a_wafer_scale_die_is_a_valid_description():
    assert parse_chip(fab1_with("die_area_mm2 = 640", "die_area_mm2 = 46225")).die_area_mm2 == 46225


def test_a_huge_value_is_cut_short_in_the_error():
    with pytest.raises(FablessError) as raised:
        parse_chip(fab1_with("cores = 8", f"cores = {'9' * 4000}"), origin="t.toml")
    message = str(raised.value)
    assert message.startswith("t.toml: cores: Input should be less than or equal to 1000000 (got 999")
    assert message.endswith("...)") and len(message) < 200


@pytest.mark.parametrize(("content", "message"), [
    (b"\xff\xfe\x00n\x00a", "not UTF-8 text (byte 0 is 0xff)"),
    (b'name = "fab1"\x00', "not a text file (it holds NUL bytes)"),
    (b"x = " + b"[" * 5000 + b"]" * 5000, "nested too deeply to be a real file"),
    (b"cores = " + b"9" * 5000, "not valid TOML (Exceeds the limit (4300 digits)"),
    (b"a" * (2**20 + 1), "is larger than 1 MiB, too large for a chip description"),
])
def test_a_file_that_is_not_a_chip_description_is_one_line_error(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "chip.toml"
    path.write_bytes(content)
    assert message in _rejected(path)


@pytest.mark.parametrize("node", ["TSMC N3", "<b>N3</b>", "N3; rm -rf", "", "N" * 17])
def test_a_process_node_is_a_short_token(node):
    text = (resources.files("fabless") / "data" / "chips" / "fab1.toml").read_text()
    hostile = text.replace('process_node = "N3"', f"process_node = {node!r}", 1)
    assert hostile != text
    with pytest.raises(FablessError, match=r"^fab1-hostile: process_node: must be a node class such as N3, N4P"):
        parse_chip(hostile, origin="fab1-hostile")
