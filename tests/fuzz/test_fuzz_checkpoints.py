"""Checkpoints: damaged safetensors and GGUF files are refused in one line naming the file."""

import pytest

from .check import assert_kind_is_hardened


@pytest.mark.parametrize(("kind", "cases"), [("safetensors", 200), ("gguf", 120)])
def test_mutated_checkpoints_load_or_fail_cleanly(kind: str, cases: int) -> None:
    assert_kind_is_hardened(kind, cases)
