"""Whatever a chip file holds, loading it gives a chip within the bounds or one FablessError line."""

import math
import re
from importlib import resources
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.chip import ChipSpec, parse_chip
from fabless.errors import FablessError

PRESETS = {name: (resources.files("fabless") / "data" / "chips" / f"{name}.toml").read_text()
           for name in ("fab1", "h100", "tpu-v5e")}
HOSTILE_NUMBERS = [
    "nan", "-inf", "inf", "-1", "0", "-0.0", "1e300", "true", '"3"', "9" * 5000, "1" + "0" * 400,
    "1.5", "4294967296", "[1, 2]", "{ v = 1 }", "{ a = { b = { c = 1 } } }", "1979-05-27",
]
HOSTILE_STRINGS = ['""', '"Fab1"', '"a\\u0000b"', '"x\\ny"', '"\\u202e"', f'"{"x" * 2000}"', "7", "false"]
NUMBER = re.compile(r"(?<==\s)-?\d[\w.+-]*")
STRING = re.compile(r'(?<==\s)"[^"\n]*"')
mutation = st.tuples(st.sampled_from(["number", "string", "drop", "nest"]), st.integers(0, 10**6),
                     st.integers(0, 10**6))


def _mutate(text: str, kind: str, at: int, choice: int) -> str:
    if kind in ("number", "string"):
        pattern, values = (NUMBER, HOSTILE_NUMBERS) if kind == "number" else (STRING, HOSTILE_STRINGS)
        spots = list(pattern.finditer(text))
        spot = spots[at % len(spots)]
        return text[:spot.start()] + values[choice % len(values)] + text[spot.end():]
    lines = text.split("\n")
    line = lines[at % len(lines)]
    if kind == "drop":
        lines[at % len(lines)] = ""
    elif line.startswith("["):
        lines[at % len(lines)] = f"[{line.strip('[]')}.{line.strip('[]')}]"
    elif " = " in line:
        key, _, value = line.partition(" = ")
        lines[at % len(lines)] = f"{key} = {{ nested = {value} }}"
    return "\n".join(lines)


def _numbers(tree: Any) -> list[float]:
    if isinstance(tree, dict):
        return [n for value in tree.values() for n in _numbers(value)]
    return [tree] if isinstance(tree, int | float) and not isinstance(tree, bool) else []


@settings(max_examples=100, deadline=None)
@given(preset=st.sampled_from(sorted(PRESETS)), mutations=st.lists(mutation, min_size=1, max_size=4))
def test_a_mutated_preset_is_a_bounded_chip_or_one_error_line(preset: str, mutations: list[tuple[str, int, int]]):
    text = PRESETS[preset]
    for kind, at, choice in mutations:
        text = _mutate(text, kind, at, choice)
    try:
        chip = parse_chip(text, origin="fuzzed.toml")
    except FablessError as error:
        message = str(error)
        assert message.startswith("fuzzed.toml: ") and "\n" not in message and len(message) < 600
        return
    assert all(math.isfinite(n) and abs(n) <= 1e10 for n in _numbers(chip.model_dump()))
    assert ChipSpec.model_validate(chip.model_dump()) == chip
