"""A tiny systolic chip (2 cores, 2 MXUs of 8x8 each, 64 KiB SRAM) for fast simulator tests."""

import pytest

from fabless.chip import ChipSpec, load_chip
from fabless.funcsim import FunctionalSimulator


@pytest.fixture(scope="session")
def tiny_chip() -> ChipSpec:
    raw = load_chip("fab1").model_dump()
    raw.update(name="tiny", cores=2)
    raw["core"]["matrix"].update(count=2, rows=8, cols=8, accumulator_kib=1)
    raw["core"]["sram"]["mib"] = 1 / 16
    return ChipSpec.model_validate(raw)


@pytest.fixture(scope="session")
def make_sim(tiny_chip):
    """A factory of fresh simulators, for hypothesis tests that need one per example."""
    return lambda: FunctionalSimulator(tiny_chip, hbm_bytes=1 << 20)


@pytest.fixture
def sim(make_sim) -> FunctionalSimulator:
    return make_sim()
