"""Load chip descriptions from TOML: the presets shipped in `fabless/data/chips`, or a user's file."""

from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from fabless.checks import clip
from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError, unknown_name_error
from fabless.files import MIB, parse_toml, read_text

_PRESETS = resources.files("fabless") / "data" / "chips"
CHIP_FILE_LIMIT_BYTES = MIB
"""A description is a few kilobytes; anything past 1 MiB is not one."""
_SHOWN_CHARS = 80
"""How much of a bad value or key an error line repeats."""


def preset_names() -> list[str]:
    """Names of the shipped chip presets, sorted."""
    return sorted(p.name.removesuffix(".toml") for p in _PRESETS.iterdir() if p.name.endswith(".toml"))


def load_chip(name_or_path: str | Path) -> ChipSpec:
    """A preset by name (`h100`, `fab1`) or a chip description file (`path/to/chip.toml`)."""
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text:
        toml_text = read_text(text, "a chip description", CHIP_FILE_LIMIT_BYTES)
        return parse_chip(toml_text, origin=text)
    return _load_preset(text.lower())


def load_chips(names: str) -> list[ChipSpec]:
    """Chips from a comma-separated list of names or paths."""
    items = [item.strip() for item in names.split(",") if item.strip()]
    if not items:
        raise FablessError("no chips given: pass --chips with comma-separated names, e.g. h100,fab1")
    return [load_chip(item) for item in items]


@cache
def _load_preset(name: str) -> ChipSpec:
    resource = _PRESETS / f"{name}.toml"
    if not resource.is_file():
        raise unknown_name_error("chip", name, preset_names())
    return parse_chip(resource.read_text(), origin=f"preset {name}")


def parse_chip(toml_text: str, origin: str = "chip description") -> ChipSpec:
    """Validate a chip description; any problem becomes a one-line error naming the field."""
    raw = parse_toml(toml_text, origin)
    try:
        return ChipSpec.model_validate(raw)
    except ValidationError as error:
        raise FablessError(f"{origin}: {first_problem(error)}") from None


def first_problem(error: ValidationError) -> str:
    """The first problem of `error` on one line: the dotted field, the message, what was given."""
    problem = error.errors()[0]
    field = ".".join(_shown(str(part)) for part in problem["loc"]) or "top level"
    message = _shown(problem["msg"].removeprefix("Value error, "), limit=300)
    got = problem.get("input")
    if problem["type"] == "missing":
        return f"{field} is missing: add it to the description"
    if isinstance(got, dict | list):
        return f"{field}: {message}"
    return f"{field}: {message} (got {_shown(repr(got))})"


def _shown(text: str, limit: int = _SHOWN_CHARS) -> str:
    """`text` on one line and at most `limit` characters, for an error message."""
    if not text.isprintable():
        text = repr(text)[1:-1]
    return clip(text, limit)
