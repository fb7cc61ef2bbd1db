"""Chips for the cycle-simulator tests: fab1, the test chips in ./chips, and variants."""

from pathlib import Path

import pytest

from fabless.chip import ChipSpec, load_chip

CHIPS = Path(__file__).parent / "chips"


@pytest.fixture
def fab1() -> ChipSpec:
    """fab1 with one weight tile per MXU: the hand-computed cycle counts price every load
    in series; tests that want the shadow tile pass weight_buffers=2."""
    chip = load_chip("fab1")
    matrix = chip.core.matrix.model_copy(update={"weight_buffers": 1})
    return chip.model_copy(update={"core": chip.core.model_copy(update={"matrix": matrix})})


@pytest.fixture
def edge1() -> ChipSpec:
    return load_chip(CHIPS / "edge1.toml")


@pytest.fixture
def wide_port_fab1(fab1: ChipSpec) -> ChipSpec:
    """fab1 with an SRAM port twice as wide, so HBM alone limits a DMA."""
    return fab1.model_copy(update={"core": fab1.core.model_copy(update={
        "sram": fab1.core.sram.model_copy(update={"bytes_per_cycle": 8192})})})
