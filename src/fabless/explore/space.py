"""The design space: ranges or choices for fields of a base chip description, read from TOML.

A space names a base chip (a preset or a path, relative to the space file) and, under
`[params]`, dotted fields of the chip description with `{ low, high[, step][, log] }` or
`{ choices = [...] }`. Fields that follow from others (`DERIVED`) cannot be set: the design
layer fills them in. Every range is checked at load: both ends of each range, and every
choice, must make a valid chip on their own.
"""

import math
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fabless.chip import ChipSpec, load_chip
from fabless.chip.registry import first_problem
from fabless.chip.spec import RegistryName
from fabless.errors import FablessError, unknown_name_error
from fabless.files import KIB, read_toml

SPACE_FILE_LIMIT_BYTES = 64 * KIB
MAX_CHOICES = 256
MAX_VOLUME = 10**10

DERIVED = {
    "hbm.capacity_gib": "hbm.stacks x the generation's GiB per stack",
    "hbm.bandwidth_tb_s": "hbm.stacks x the generation's TB/s per stack",
    "core.matrix.accumulator_kib": "core.matrix.cols at the base chip's accumulator depth",
    "core.vector.ops_per_cycle": "core.vector.lanes at the base chip's ops per lane",
    "die_area_mm2": "fabless.ppa's die area",
    "tdp_w": "fabless.ppa's TDP",
    "price_usd": "fabless.ppa's unit cost at the space's volume",
    "rental_usd_per_hour": "fabless.ppa's owned chip-hour",
}
"""Fields a space may not set, and what each follows from."""

CHOICE_ONLY = ("process_node", "hbm.generation", "links.topology")
"""Text fields a space may choose among (never a range)."""

Kind = Literal["int", "float", "str"]


def searchable_fields() -> dict[str, Kind]:
    """Every dotted field of a chip description a space may set, with its kind."""
    fields: dict[str, Kind] = {path: "str" for path in CHOICE_ONLY}
    _numeric_fields(ChipSpec, "", fields)
    return {path: kind for path, kind in fields.items() if path not in DERIVED}


def _numeric_fields(model: type[BaseModel], prefix: str, out: dict[str, Kind]) -> None:
    for name, info in model.model_fields.items():
        annotation = info.annotation
        options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
        for option in options:
            if isinstance(option, type) and issubclass(option, BaseModel):
                _numeric_fields(option, f"{prefix}{name}.", out)
            elif option is int:
                out[f"{prefix}{name}"] = "int"
            elif option is float:
                out[f"{prefix}{name}"] = "float"


class _Strict(BaseModel):
    """The strict, frozen schema base of the explore input files (spaces and workloads)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class ParamSpec(_Strict):
    """One field's range or choices, as written in the file."""

    low: float | None = None
    high: float | None = None
    step: float | None = Field(default=None, gt=0)
    log: bool = False
    choices: list[int | float | str] | None = Field(default=None, min_length=1, max_length=MAX_CHOICES)

    @model_validator(mode="after")
    def _range_or_choices(self) -> "ParamSpec":
        if self.choices is not None:
            if self.low is not None or self.high is not None or self.step is not None or self.log:
                raise ValueError("give either choices or low/high, not both")
            if len(set(map(repr, self.choices))) != len(self.choices):
                raise ValueError("choices repeat a value")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give low and high, or choices")
        if self.low > self.high:
            raise ValueError(f"empty range: low {self.low:g} is above high {self.high:g}")
        if self.log and (self.low <= 0 or self.step is not None):
            raise ValueError("a log range needs low > 0 and no step")
        return self


class SpaceFile(_Strict):
    base: str = Field(min_length=1, max_length=4096, description="preset name or chip TOML path")
    prefix: RegistryName = Field(max_length=40, description="generated chips are named <prefix>-t<trial>")
    volume: int = Field(default=100_000, ge=1, le=MAX_VOLUME, description="chips built, for unit cost")
    params: dict[str, ParamSpec] = Field(min_length=1, max_length=64)


@dataclass(frozen=True)
class Param:
    """One searched field: its kind and its range (`low`..`high` by `step`) or its choices."""

    path: str
    kind: Kind
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    choices: tuple[int | float | str, ...] | None = None

    def corners(self) -> tuple[int | float | str, ...]:
        """The values that bound what this parameter can give a chip."""
        if self.choices is not None:
            return self.choices
        assert self.low is not None and self.high is not None
        cast = int if self.kind == "int" else float
        return (cast(self.low), cast(self.high))


@dataclass(frozen=True)
class Space:
    """A validated design space: the base chip and the searched fields, in file order."""

    origin: str
    base: ChipSpec
    prefix: str
    volume: int
    params: tuple[Param, ...]

    def names(self) -> tuple[str, ...]:
        return tuple(param.path for param in self.params)


def load_space(path: str | Path) -> Space:
    """Read and check a space file; any problem is one line naming the file and field."""
    raw = read_toml(path, "a design space", SPACE_FILE_LIMIT_BYTES)
    return parse_space(raw, str(path), Path(path).parent)


def parse_space(raw: dict[str, Any], origin: str, folder: Path | None = None) -> Space:
    try:
        spec = SpaceFile.model_validate(raw)
    except ValidationError as error:
        raise FablessError(f"{origin}: {first_problem(error)}") from None
    base = _load_base(spec.base, origin, folder)
    if base.family != "systolic":
        raise FablessError(f"{origin}: base: {base.name} is a {base.family} chip; explore searches systolic chips")
    known = searchable_fields()
    params = tuple(_param(origin, path, given, known) for path, given in spec.params.items())
    space = Space(origin=origin, base=base, prefix=spec.prefix, volume=spec.volume, params=params)
    for param in params:
        for value in param.corners():
            _check_value(space, param, value)
    return space


def _load_base(base: str, origin: str, folder: Path | None) -> ChipSpec:
    target: str | Path = base
    if base.endswith(".toml") or "/" in base:
        path = Path(base)
        target = folder / path if not path.is_absolute() and folder is not None else path
    try:
        return load_chip(target)
    except FablessError as error:
        raise FablessError(f"{origin}: base: {error}") from None


def _param(origin: str, path: str, given: ParamSpec, known: dict[str, Kind]) -> Param:
    where = f"{origin}: params.{path}"
    if path in DERIVED:
        raise FablessError(f"{where}: is derived ({DERIVED[path]}), not searched; remove it")
    if path not in known:
        message = str(unknown_name_error("field", path, sorted(known)))
        raise FablessError(f"{where}: {message}")
    kind = known[path]
    # Every numeric field of a chip is a size, a count or a rate: none is negative.
    numbers = [v for v in (*(given.choices or ()), given.low, given.high) if isinstance(v, int | float)]
    if any(v < 0 for v in numbers):
        raise FablessError(f"{where}: values must not be negative (got {min(numbers)!r})")
    if given.choices is not None:
        for value in given.choices:
            _check_choice_type(where, kind, value)
        return Param(path=path, kind=kind, choices=tuple(given.choices))
    if kind == "str":
        raise FablessError(f"{where}: a text field takes choices = [...], not a range")
    assert given.low is not None and given.high is not None
    if kind == "int" and not all(float(v).is_integer() for v in (given.low, given.high, given.step or 1)):
        raise FablessError(f"{where}: is a whole number; low, high and step must be whole")
    if given.step is not None and given.step > given.high - given.low > 0:
        raise FablessError(f"{where}: step {given.step:g} is larger than the range {given.low:g}..{given.high:g}")
    if given.step is not None and not math.isclose((given.high - given.low) / given.step,
                                                   round((given.high - given.low) / given.step), abs_tol=1e-9):
        raise FablessError(f"{where}: high - low ({given.high - given.low:g}) is not a multiple of step {given.step:g}")
    return Param(path=path, kind=kind, low=given.low, high=given.high, step=given.step, log=given.log)


def _check_choice_type(where: str, kind: Kind, value: object) -> None:
    ok = {"str": isinstance(value, str), "int": isinstance(value, int),
          "float": isinstance(value, int | float) and not isinstance(value, str)}[kind]
    if not ok:
        wanted = {"str": "text", "int": "whole numbers", "float": "numbers"}[kind]
        raise FablessError(f"{where}: choices must be {wanted} (got {value!r})")


def _check_value(space: Space, param: Param, value: int | float | str) -> None:
    """Refuse a value that alone makes the base chip invalid (a range end or a choice)."""
    from fabless.explore.design import DesignError, draft_chip

    try:
        draft_chip(space, {param.path: value}, f"{space.prefix}-check")
    except DesignError as error:
        raise FablessError(
            f"{space.origin}: params.{param.path}: value {value!r} gives no valid chip: {error}"
        ) from None
