"""Reading user files: size limits, encodings, nesting and numbers become one-line errors."""

import pytest

from fabless.errors import FablessError
from fabless.files import parse_json, parse_toml, read_bytes, read_json, read_text, read_toml


def test_read_bytes_returns_the_file_up_to_the_limit(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 100)
    assert read_bytes(path, "a test file", 100) == b"x" * 100


def test_read_bytes_refuses_a_file_past_the_limit_without_reading_it_all(tmp_path):
    path = tmp_path / "big.toml"
    path.write_bytes(b"x" * (2**20 + 1))
    with pytest.raises(FablessError, match=r"big.toml is larger than 1 MiB, too large for a chip description"):
        read_bytes(path, "a chip description", 2**20)


def test_missing_file_and_directory_are_named(tmp_path):
    with pytest.raises(FablessError, match=r"nope.json does not exist: pass the path of a config"):
        read_bytes(tmp_path / "nope.json", "a config", 10)
    with pytest.raises(FablessError, match=r"is a directory: pass the path of a config, not a folder"):
        read_bytes(tmp_path, "a config", 10)


def test_non_utf8_and_binary_files_are_named(tmp_path):
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b"name = 'caf\xe9'")
    with pytest.raises(FablessError, match=r"latin.toml: not UTF-8 text \(byte 11 is 0xe9\)"):
        read_text(latin, "a chip description", 100)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"a\x00b")
    with pytest.raises(FablessError, match=r"bin.toml: not a text file"):
        read_text(binary, "a chip description", 100)


def test_a_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf{\"a\": 1}")
    assert read_json(path, "a config", 100) == {"a": 1}


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_json_refuses_non_standard_numbers(text):
    with pytest.raises(FablessError, match=r"x.json: not valid JSON"):
        parse_json(text, "x.json")


def test_json_nesting_and_huge_integers_are_one_line_errors():
    with pytest.raises(FablessError, match=r"nested too deeply"):
        parse_json("[" * 100_000 + "]" * 100_000, "deep.json")
    with pytest.raises(FablessError, match=r"huge.json: not valid JSON"):
        parse_json("1" * 5000, "huge.json")


def test_json_syntax_error_gives_line_and_column():
    expected = r"bad.json: not valid JSON \(Expecting property name enclosed in double quotes at line 2, column 6\)"
    with pytest.raises(FablessError, match=expected):
        parse_json('{"a":\n  1, }', "bad.json")


def test_toml_errors_are_one_line(tmp_path):
    with pytest.raises(FablessError, match=r"c.toml: not valid TOML"):
        parse_toml("a = ", "c.toml")
    with pytest.raises(FablessError, match=r"c.toml: not valid TOML"):
        parse_toml("a = " + "9" * 5000, "c.toml")
    with pytest.raises(FablessError, match=r"nested too deeply"):
        parse_toml("a = " + "[" * 100_000 + "]" * 100_000, "c.toml")
    path = tmp_path / "ok.toml"
    path.write_text("[core]\nclock_ghz = 1.5\n")
    assert read_toml(path, "a chip description", 100) == {"core": {"clock_ghz": 1.5}}
