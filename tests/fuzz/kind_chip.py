"""Chip description TOML files, mutated from the shipped presets, loaded by `load_chip`."""

import random
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from fabless.chip import ChipSpec, load_chip
from fabless.model import Precision, load_model_config
from fabless.perf import decode_time, estimate_gemm

from .calls import call_library, implausible_number
from .cases import Case, Expect, Verdict
from .emit import toml_text
from .hostile import Slot
from .kinds import Kind
from .textfile import mutated_file_case
from .tree import Path as TreePath

FILE = "chip.toml"
_FREE_TEXT = {"display_name", "vendor", "generation", "notes"}  # process_node is a node-class token
_ZERO_OK = {"shared_sram_mib", "links.count", "links.gb_s_per_direction"}
_COUNTS = {"count", "rows", "cols", "weight_buffers", "lanes", "cores", "stacks", "domain_chips", "dies"}


@cache
def seeds() -> dict[str, dict[str, Any]]:
    """Every shipped preset, parsed."""
    folder = resources.files("fabless") / "data" / "chips"
    return {
        entry.name: tomllib.loads(entry.read_text())
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    }


def slot_of(where: TreePath) -> Slot:
    dotted = ".".join(str(part) for part in where)
    free = where[0] == "sources" or where[-1] in _FREE_TEXT
    return Slot(free_text=free, zero_ok=dotted in _ZERO_OK, integer=where[-1] in _COUNTS and where[0] != "sources")


def generate(rng: random.Random, index: int) -> Case:
    preset, tree = rng.choice(sorted(seeds().items()))
    return mutated_file_case(rng, index, "chip", preset, tree, FILE, toml_text, slot_of, duplicate=Expect.INVALID)


def execute(case: Case, folder: Path) -> Verdict:
    return call_library(lambda: load_chip(FILE), _use)


def _use(chip: ChipSpec) -> str | None:
    gemm = estimate_gemm(chip, 64, 64, 64).time_s
    step = decode_time(chip, load_model_config("smollm2-135m"), Precision(), batch=1, context=128).time_s
    return implausible_number("a 64^3 GEMM's time_s", gemm) or implausible_number("a decode step's time_s", step)


KIND = Kind("chip", "chip description TOML (load_chip, then a GEMM and a decode step)", generate, execute)
