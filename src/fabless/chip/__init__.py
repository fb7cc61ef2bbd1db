"""Chip descriptions: the validated spec and the preset registry."""

from fabless.chip.registry import load_chip, load_chips, parse_chip, preset_names
from fabless.chip.spec import DTYPE_BYTES, ChipSpec, Core, Hbm, Links, MatrixUnit, Sram, VectorUnit

__all__ = [
    "ChipSpec",
    "Core",
    "MatrixUnit",
    "VectorUnit",
    "Sram",
    "Hbm",
    "Links",
    "DTYPE_BYTES",
    "load_chip",
    "load_chips",
    "parse_chip",
    "preset_names",
]
