"""Shared fixtures of the RTL tests: chips of any array shape and cached Verilator builds."""

from collections.abc import Callable
from pathlib import Path

import pytest

from fabless.chip import ChipSpec, load_chip
from fabless.rtl.config import RtlConfig, with_array
from fabless.rtl.verilator import VerilatorModel, build_verilator, verilator_missing

ACC_ROWS = 64


def _array_chip(rows: int, cols: int) -> ChipSpec:
    row_bytes = 1 << (max(rows, cols) - 1).bit_length()
    spad = max(1024, 16 * rows * cols, 2 * row_bytes)
    return with_array(load_chip("small-test"), rows, cols, spad_bytes=spad, acc_rows=ACC_ROWS)


@pytest.fixture(scope="session")
def array_chip() -> Callable[[int, int], ChipSpec]:
    """array_chip(rows, cols): small-test with that MXU, a 64-row accumulator, a small scratchpad."""
    return _array_chip


@pytest.fixture(scope="session")
def verilated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int, int], VerilatorModel]:
    """verilated(rows, cols): a Verilator model of that core, built once per session."""
    problem = verilator_missing()
    if problem:
        pytest.skip(f"needs Verilator: {problem}")
    cache: Path = tmp_path_factory.mktemp("verilator")
    models: dict[tuple[int, int], VerilatorModel] = {}

    def get(rows: int, cols: int) -> VerilatorModel:
        if (rows, cols) not in models:
            config = RtlConfig.from_chip(_array_chip(rows, cols))
            models[rows, cols] = build_verilator(config, cache, optimize=False)
        return models[rows, cols]

    return get
