"""Chip descriptions, model configs and serving traces: every mutation loads or is refused in one line."""

import pytest

from .check import assert_kind_is_hardened


@pytest.mark.parametrize("kind", ["chip", "model-config", "trace", "explore-inputs"])
def test_mutated_text_inputs_load_or_fail_cleanly(kind: str) -> None:
    assert_kind_is_hardened(kind, cases=300)
