"""Range checks for values a user gives, and the physical bounds they are held to.

Each check returns the value as a plain int or float, or raises a one-line `FablessError`
naming the parameter, the range and what was given ("batch: must be a whole number from
1 to 1,048,576 (got 0)"). NaN, infinities, bools and strings never pass. The bounds sit
far past any real deployment; they exist so that no input can overflow a float, make a
loop run for hours or price an impossible machine.
"""

import math
import numbers

from fabless.errors import FablessError

MAX_TOKENS = 2**20
"""Tokens in one prompt, one answer or one context: 1,048,576, the longest context
windows served in 2025 (Gemini, Llama 4 Maverick: 1M)."""
MAX_BATCH = 2**20
"""Sequences one replica runs at once; engines run hundreds to a few thousand."""
MAX_STEP_TOKENS = 2**24
"""Tokens one engine step processes; engines push at most tens of thousands."""
MAX_CHIPS = 2**16
"""Chips in one deployment: 65,536, past the largest inference clusters of 2025."""
MAX_SLO_S = 86_400.0
"""A latency objective past a day bounds nothing a simulation could tell apart."""


def whole(name: str, value: object, low: int, high: int) -> int:
    """`value` as an int from `low` to `high`."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and low <= int(value) <= high:
        return int(value)
    raise FablessError(f"{name}: must be a whole number from {_bound(low)} to {_bound(high)} (got {shown(value)})")


def real(name: str, value: object, low: float, high: float, above: bool = False) -> float:
    """`value` as a finite float from `low` (or, with `above`, past it) to `high`."""
    number = _float(value)
    if number is not None and (number > low if above else number >= low) and number <= high:
        return number
    start = f"above {_bound(low)} and at most" if above else f"from {_bound(low)} to"
    raise FablessError(f"{name}: must be a finite number {start} {_bound(high)} (got {shown(value)})")


def shown(value: object) -> str:
    """A short repr for an error message; a 10,000-digit number is not echoed whole."""
    try:
        text = repr(value)
    except ValueError:  # ints past 4,300 digits refuse str()
        return "a number of more than 4,300 digits"
    return clip(text, 40)


def clip(text: str, limit: int = 80) -> str:
    """`text` cut to `limit` characters, ending "...", so an error repeating a huge argument stays short."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int past 1e308
        return None
    return number if math.isfinite(number) else None


def _bound(limit: float) -> str:
    if isinstance(limit, int) or (limit.is_integer() and abs(limit) < 1e15):
        return f"{int(limit):,}"
    return f"{limit:g}"
