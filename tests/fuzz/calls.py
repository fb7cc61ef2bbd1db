"""Call Fabless as a user would, in-process, and turn what happens into a `Verdict`."""

import contextlib
import io
import json
import math
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fabless.cli.app import INTERNAL_ERROR_EXIT, main
from fabless.errors import FablessError

from .cases import Status, Verdict

T = TypeVar("T")
USAGE_EXIT = 2
_NOT_A_NUMBER = re.compile(r"\b(nan|inf|infinity)\b", re.IGNORECASE)


def call_library(load: Callable[[], T], use: Callable[[T], str | None] = lambda _: None) -> Verdict:
    """Load an input, then use it; `use` returns why its result is implausible, or None.

    Any exception but a `FablessError` escapes to the worker, which records it as a crash.
    """
    try:
        loaded = load()
    except FablessError as error:
        return Verdict(Status.REJECTED, str(error))
    try:
        problem = use(loaded)
    except FablessError as error:
        return Verdict(Status.REJECTED, str(error), downstream=True)
    return Verdict(Status.IMPLAUSIBLE, problem) if problem else Verdict(Status.ACCEPTED)


def implausible_number(what: str, value: float) -> str | None:
    """Why a time, size or count computed from an accepted input cannot be right, if it cannot."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{what} is {value!r}, not a number"
    if not math.isfinite(value) or value <= 0:
        return f"{what} is {value!r}"
    return None


def call_cli(argv: Sequence[str]) -> Verdict:
    """`fabless ARGV` through the real entry point, with stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    sys.argv = ["fabless", *argv]
    code: Any = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code if exit_.code is not None else 0
    stderr = err.getvalue().strip()
    if code == INTERNAL_ERROR_EXIT or "Traceback (most recent call last)" in stderr:
        return Verdict(Status.CRASHED, stderr.splitlines()[-1] if stderr else f"exit {code}")
    if code == USAGE_EXIT:
        one_line = stderr.startswith("error:") and "\n" not in stderr
        return Verdict(Status.REJECTED if one_line else Status.UNCLEAR, stderr if one_line else _squash(stderr))
    if code != 0:
        return Verdict(Status.CRASHED, f"exit {code}: {_squash(stderr)}")
    problem = _implausible_output(out.getvalue(), json_expected="--json" in argv)
    return Verdict(Status.IMPLAUSIBLE, problem) if problem else Verdict(Status.ACCEPTED)


def _implausible_output(stdout: str, json_expected: bool) -> str | None:
    if not json_expected:
        found = _NOT_A_NUMBER.search(stdout)
        return f"printed {found.group(0)!r}" if found else None
    try:
        document = json.loads(stdout, parse_constant=lambda name: _Constant(name))
    except json.JSONDecodeError as error:
        return f"--json printed no JSON ({error.msg})"
    return _implausible_json(document, "")


class _Constant(str):
    """NaN or Infinity in printed JSON, kept to be reported."""


def _implausible_json(value: Any, where: str) -> str | None:
    if isinstance(value, _Constant):
        return f"{where or 'output'} is {value}"
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = ((f"[{i}]", v) for i, v in enumerate(value))
    else:
        # Times are never negative; a negative TTFT is what an unchecked negative input prints.
        if where.endswith("_s") and isinstance(value, int | float) and value < 0:
            return f"{where} is {value}"
        return None
    for key, item in items:
        problem = _implausible_json(item, f"{where}.{key}" if not key.startswith("[") else where + key)
        if problem:
            return problem
    return None


def _squash(text: str) -> str:
    """A multi-line message as one line for the report."""
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())[:400]
