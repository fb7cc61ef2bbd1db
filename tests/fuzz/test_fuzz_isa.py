"""Programs: mutated assembler text and binaries assemble, decode and round-trip, or fail in one line."""

import pytest

from .check import assert_kind_is_hardened


@pytest.mark.parametrize("kind", ["assembler", "program"])
def test_mutated_programs_load_or_fail_cleanly(kind: str) -> None:
    assert_kind_is_hardened(kind, cases=300)
