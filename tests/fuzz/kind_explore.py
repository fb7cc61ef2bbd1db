"""Design-space and workload TOML files for `fabless explore`, mutated from the shipped examples."""

import random
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from fabless.chip import ChipSpec
from fabless.explore import Space, draft_chip, load_space, load_workload

from .calls import call_library, implausible_number
from .cases import Case, Expect, Verdict
from .emit import toml_text
from .hostile import Slot
from .kinds import Kind
from .textfile import mutated_file_case
from .tree import Path as TreePath

SPACE, WORKLOAD = "space.toml", "workload.toml"
_SEEDS = {SPACE: "space-fab1.toml", WORKLOAD: "workload-chat.toml"}
_COUNTS = {"volume", "dies", "lanes", "count", "input", "output", "max_chips"}
# A chip may have no links, or links of no speed (it then fits its models on one chip or is refused).
_ZERO_OK = {"links.count", "links.gb_s_per_direction"}


@cache
def seeds() -> dict[str, dict[str, Any]]:
    folder = resources.files("fabless") / "data" / "explore"
    return {file: tomllib.loads((folder / seed).read_text()) for file, seed in _SEEDS.items()}


def _slot_of(file: str) -> Any:
    def slot_of(where: TreePath) -> Slot:
        names = [part for part in where if isinstance(part, str)]
        last = names[-1] if names else ""
        field = names[1] if file == SPACE and len(names) > 1 and names[0] == "params" else ""
        free = file == WORKLOAD and where == ("name",)
        integer = last in _COUNTS or field.rsplit(".", 1)[-1] in _COUNTS
        return Slot(free_text=free, zero_ok=field in _ZERO_OK, integer=integer)

    return slot_of


def generate(rng: random.Random, index: int) -> Case:
    file = rng.choice(sorted(_SEEDS))
    return mutated_file_case(
        rng, index, "explore-inputs", _SEEDS[file], seeds()[file], file, toml_text, _slot_of(file), Expect.INVALID
    )


def execute(case: Case, folder: Path) -> Verdict:
    (file,) = case.files
    if file == WORKLOAD:
        return call_library(lambda: load_workload(file))
    return call_library(lambda: load_space(file), _use_space)


def _use_space(space: Space) -> str | None:
    """The space's first corner as a chip: what a search's first trial could draft."""
    corner = {param.path: param.corners()[0] for param in space.params}
    chip: ChipSpec = draft_chip(space, corner, "fuzz-corner")
    return implausible_number("the corner chip's die area", chip.die_area_mm2)


KIND = Kind(
    "explore-inputs", "design-space and workload TOML for fabless explore (then a corner chip)", generate, execute
)
