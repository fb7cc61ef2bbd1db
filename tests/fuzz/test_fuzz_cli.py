"""The command line: hostile flag values and unusable output paths end in one `error:` line, exit 2."""

from .check import assert_kind_is_hardened


def test_hostile_numeric_flags_are_refused_naming_the_flag() -> None:
    assert_kind_is_hardened("cli-flags", cases=200)


def test_unwritable_output_paths_are_refused_naming_the_path() -> None:
    assert_kind_is_hardened("cli-outputs", cases=60)
