"""What every input kind provides to the harness."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .cases import Case, Verdict


@dataclass(frozen=True)
class Kind:
    name: str
    summary: str
    generate: Callable[[random.Random, int], Case]  # the case at an index, from an rng seeded for it
    execute: Callable[[Case, Path], Verdict]  # runs in the worker, inside the case's folder
