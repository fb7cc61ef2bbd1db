"""Strict pydantic schemas, range validators with physical ranges, and one-line errors for what they refuse.

Model files are parsed into pydantic models whose fields accept only their JSON type (true
is not a number, "12" is not an integer), finite numbers, and values a real model could
have; `problem_line` turns the first refusal into "num_hidden_layers must be between 1 and
1024 (got -4096)", spelled with the key the file itself uses.
"""

import math
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from fabless.checks import shown
from fabless.errors import FablessError


class StrictModel(BaseModel):
    """A file's schema: exact JSON types, no NaN or infinity, keys Fabless does not read ignored."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="ignore", frozen=True)


Schema = TypeVar("Schema", bound=StrictModel)


def validated(schema: type[Schema], raw: object, origin: str) -> Schema:
    """`raw` parsed by `schema`, or a `FablessError` "ORIGIN: <problem_line>" naming the source."""
    try:
        return schema.model_validate(raw)
    except ValidationError as error:
        raise FablessError(f"{origin}: {problem_line(error, origin)}") from None


def between(low: int, high: int) -> AfterValidator:
    """For `Annotated[int, between(1, 1024)]`: an integer in low..high."""

    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return AfterValidator(check)


def above_zero(high: float) -> AfterValidator:
    """For `Annotated[float, above_zero(0.1)]`: a number in (0, high]; an integer is welcome."""

    def check(value: float) -> float:
        if not 0 < value <= high:
            raise ValueError(f"must be above 0 and at most {high:g}")
        return float(value)

    return AfterValidator(check)


# Names and kinds in model files are a few dozen characters; a longer one is damage, and
# would otherwise flow into tables and traces whole.
MAX_NAME_CHARS = 256


def _plain(value: str) -> str:
    if len(value) > MAX_NAME_CHARS:
        raise ValueError(f"must be at most {MAX_NAME_CHARS} characters")
    # Control characters (NUL, escapes, newlines) would corrupt one-line messages and terminals.
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValueError("must not hold control characters")
    return value


PlainText = Annotated[str, AfterValidator(_plain)]
"""A name or kind from a model file: at most `MAX_NAME_CHARS` characters, no control characters."""


def _json_scalar(value: object) -> object:
    if value is not None and not isinstance(value, str | bool | int | float):
        raise ValueError("must be a number, a string, true, false or null")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return _plain(value) if isinstance(value, str) else value


JsonScalar = Annotated[Any, AfterValidator(_json_scalar)]

_TYPE_WORDS = {
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
}


def problem_line(error: ValidationError, where: str, aliases: Mapping[str, str] | None = None) -> str:
    """The first problem as "field must ... (got ...)"; `where` names the file, for a missing key."""
    problem = error.errors(include_url=False)[0]
    parts = [str(part) for part in problem["loc"]]
    if parts and aliases:
        parts[0] = aliases.get(parts[0], parts[0])
    field = ".".join(parts) or "the top level"
    kind = problem["type"]
    if kind == "missing":
        return f"{field} is missing: add it to {where}"
    if kind == "literal_error":
        message = f"must be {problem['ctx']['expected']}"
    else:
        message = _TYPE_WORDS.get(kind) or problem["msg"].removeprefix("Value error, ")
    return f"{field} {message} (got {shown(problem.get('input'))})"
