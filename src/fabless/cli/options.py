"""Options shared by several commands, so they read the same everywhere, and the ranges numbers must lie in.

Every number a user types is checked while the command line is parsed, before any slow
work: a NaN, an infinity, a zero or negative count, or an absurd size is one line naming
the flag and the range it accepts.
"""

import math
from collections.abc import Callable
from typing import Any

import typer

CHIP = typer.Option(..., "--chip", help="Chip preset name (see `fabless chip list`) or path to a .toml.")
MODEL = typer.Option(
    ..., "--model", help="Zoo model name (see `fabless model list`), a config.json, or a checkpoint directory."
)
WEIGHTS = typer.Option("bf16", "--weights", help="Weight dtype: bf16, fp8, int8 or int4.")
ACTIVATIONS = typer.Option("auto", "--activations", help="Activation dtype (auto: 8-bit with 8-bit weights).")
KV_CACHE = typer.Option("auto", "--kv-cache", help="KV-cache dtype (auto: 8-bit with 8-bit weights).")
JSON = typer.Option(False, "--json", help="Print JSON (times in seconds).")

MAX_TOKENS = 2**21
"""Longest prompt or output a command accepts: past any model's context, short of hanging a run."""
MAX_CHIPS = 2**16
MAX_BATCH = 2**16
MAX_SEED = 2**32 - 1


def _describe(low: float, high: float, low_open: bool, high_open: bool, integer: bool) -> str:
    if integer:
        return f"an integer from {low:,} to {high:,}"
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    return f"a number in {left}{low:g}, {high:g}{right}"


def _checker(low: float, high: float, low_open: bool, high_open: bool, integer: bool) -> Callable[[Any], Any]:
    accepted = _describe(low, high, low_open, high_open, integer)

    def check(value: Any) -> Any:
        if value is None:
            return value
        inside = (
            math.isfinite(value)
            and (value > low if low_open else value >= low)
            and (value < high if high_open else value <= high)
        )
        if not inside:
            shown = f"{value:,}" if integer else f"{value:g}"
            raise typer.BadParameter(f"must be {accepted} (got {shown})")
        return value

    return check


def count(default: Any, flag: str, help: str, low: int = 1, high: int = MAX_TOKENS, hidden: bool = False) -> Any:
    """An integer option in [low, high]; the range is appended to the help."""
    return typer.Option(default, flag, help=f"{help} [{low:,}..{high:,}]", hidden=hidden,
                        callback=_checker(low, high, False, False, True))


def number(default: Any, flag: str, help: str, low: float, high: float, *, low_open: bool = True,
           high_open: bool = False) -> Any:
    """A finite float option in a range (open at `low` by default: seconds and rates must be > 0)."""
    accepted = _describe(low, high, low_open, high_open, False).removeprefix("a number in ")
    return typer.Option(default, flag, help=f"{help} {accepted}",
                        callback=_checker(low, high, low_open, high_open, False))


def num_chips(default: int, help: str) -> Any:
    """How many chips: `--num-chips` (a list of chips is `--chips`, one chip `--chip`)."""
    return count(default, "--num-chips", help, high=MAX_CHIPS)


def hidden_alias(flag: str, high: int = MAX_CHIPS, low: int = 1) -> Any:
    """The old spelling of a renamed integer option, accepted for one release and not shown in --help."""
    return count(None, flag, "Old spelling.", low=low, high=high, hidden=True)


def alias(new: Any, old: Any) -> Any:
    """The value given with the old spelling when it was used, else the new option's."""
    return new if old is None else old


def int_list(text: str, option: str, high: int = MAX_BATCH) -> list[int]:
    """Parse `1,8,32` into integers, naming the option on bad input."""
    from fabless.checks import shown
    from fabless.errors import FablessError

    parts = [part.strip() for part in text.split(",")]
    # ASCII digits only, and few of them: int() also takes '١' and '1_000', and 5,000 digits take a while.
    if not all(part.isascii() and part.isdigit() and len(part) <= 12 for part in parts):
        raise FablessError(f"{option} takes comma-separated integers, e.g. 1,32 (got {shown(text)})")
    values = [int(part) for part in parts]
    if min(values) < 1 or max(values) > high:
        raise FablessError(f"{option} values must be integers from 1 to {high:,} (got {shown(text)})")
    return values
