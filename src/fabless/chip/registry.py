"""Load chip descriptions from TOML: the presets shipped in `fabless/data/chips`, or a user's file."""

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError, unknown_name_error

_PRESETS = resources.files("fabless") / "data" / "chips"


def preset_names() -> list[str]:
    """Names of the shipped chip presets, sorted."""
    return sorted(p.name.removesuffix(".toml") for p in _PRESETS.iterdir() if p.name.endswith(".toml"))


def load_chip(name_or_path: str | Path) -> ChipSpec:
    """A preset by name (`h100`, `fab1`) or a chip description file (`path/to/chip.toml`)."""
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text:
        path = Path(text)
        if not path.is_file():
            raise FablessError(f"chip file {text} does not exist: pass a preset name or a .toml path")
        return parse_chip(path.read_text(), origin=str(path))
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
    try:
        raw = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as error:
        raise FablessError(f"{origin}: not valid TOML ({error})") from None
    try:
        return ChipSpec.model_validate(raw)
    except ValidationError as error:
        raise FablessError(f"{origin}: {_first_problem(error)}") from None


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    field = ".".join(str(part) for part in problem["loc"]) or "top level"
    message = problem["msg"].removeprefix("Value error, ")
    got = problem.get("input")
    if problem["type"] == "missing":
        return f"{field} is missing: add it to the description"
    if isinstance(got, dict | list):
        return f"{field}: {message}"
    return f"{field}: {message} (got {got!r})"
