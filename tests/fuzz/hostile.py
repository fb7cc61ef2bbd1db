"""Hostile values and byte-level mutations shared by every input kind.

Each mutation returns what it did (for the report) and what a correct Fabless must do with
the result, so a generator never has to guess.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .cases import Expect
from .emit import Raw

HUGE_DIGITS = Raw("9" * 5000)
DEEP_DEPTH = 50_000
LONG_TEXT = "A" * 100_000
# Syntax that would do harm if pasted unescaped into generated Verilog, an HTML report or a shell.
INJECTIONS = (
    "x); endmodule module evil(input clk); initial $finish; //",
    "<script>alert(1)</script>&amp;<b>",
    "$(touch pwned); `id` | tee out && rm -rf ./* ; echo '",
)
CONTROL_TEXT = "a\x00b\x1b[31mred\x07\u202e"


def deep_list(depth: int = DEEP_DEPTH) -> Raw:
    return Raw("[" * depth + "]" * depth)


@dataclass(frozen=True)
class Slot:
    """What one value of a seed file may hold, so a replacement knows if it is impossible."""

    read: bool = True  # Fabless reads it; a key it ignores may hold anything
    free_text: bool = False  # a name or a note: printable text of any content is fine
    zero_ok: bool = False
    negative_ok: bool = False
    integer: bool = False  # a count: a fraction is impossible
    null_ok: bool = False  # JSON null means "derive it" (head_dim, n_inner)


@dataclass(frozen=True)
class Replacement:
    label: str
    value: Any
    expect: Expect


def replacement(rng: random.Random, seed_value: Any, slot: Slot) -> Replacement:
    """A hostile value for a slot whose seed holds `seed_value`."""
    choices = _for_text(slot) if isinstance(seed_value, str) else _for_number(seed_value, slot)
    choices += _wrong_shapes(seed_value, slot)
    label, value, expect = rng.choice(choices)
    return Replacement(label, value, expect if slot.read else Expect.ANY)


def _for_number(seed_value: Any, slot: Slot) -> list[tuple[str, Any, Expect]]:
    bad = Expect.INVALID
    choices: list[tuple[str, Any, Expect]] = [
        ("nan", float("nan"), bad),
        ("inf", float("inf"), bad),
        ("-inf", float("-inf"), bad),
        ("-1", -1, Expect.VALID if slot.negative_ok else bad),
        ("0", 0, Expect.VALID if slot.zero_ok else bad),
        ("1e300", 1e300, bad),
        ("5000 digits", HUGE_DIGITS, bad),
        ("-1e-300", -1e-300, Expect.VALID if slot.negative_ok else bad),
    ]
    if isinstance(seed_value, bool):
        choices.append(("the text 'false'", "false", bad))
    else:
        choices += [("true", True, bad), ("the number as a string", str(seed_value), bad)]
    if slot.integer and isinstance(seed_value, int):
        choices.append(("a fraction", seed_value + 0.5, bad))
    return choices


def _for_text(slot: Slot) -> list[tuple[str, Any, Expect]]:
    fine = Expect.VALID if slot.free_text else Expect.INVALID
    return [
        ("empty text", "", Expect.ANY if slot.free_text else Expect.INVALID),
        ("control characters", CONTROL_TEXT, Expect.INVALID),
        ("100,000 characters", LONG_TEXT, Expect.INVALID),
        *((f"injection {i}", text, fine) for i, text in enumerate(INJECTIONS)),
        ("a number", 7, Expect.INVALID),
    ]


def _wrong_shapes(seed_value: Any, slot: Slot) -> list[tuple[str, Any, Expect]]:
    bad = Expect.INVALID
    return [
        ("a list", [1, "two", None] if seed_value is not None else [1], bad),
        ("a table", {"a": 1, "nested": {"b": [2]}}, bad),
        ("null", None, Expect.VALID if slot.null_ok else bad),
        (f"{DEEP_DEPTH} nested lists", deep_list(), bad),
    ]


# Byte-level mutations of a whole file.


def truncate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    keep = rng.randrange(len(data))
    return f"truncated to {keep} of {len(data)} bytes", data[:keep]


def flip_bits(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    mutable = bytearray(data)
    spots = sorted(rng.randrange(len(data)) for _ in range(rng.randint(1, 4)))
    for spot in spots:
        mutable[spot] ^= 1 << rng.randrange(8)
    return f"bits flipped at bytes {spots}", bytes(mutable)


def random_bytes(rng: random.Random) -> tuple[str, bytes]:
    size = rng.choice((1, 7, 64, 4096))
    return f"{size} random bytes", rng.randbytes(size)


def insert_non_utf8(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    at = rng.randrange(len(data) + 1)
    return f"bytes ff fe c3 28 inserted at {at}", data[:at] + b"\xff\xfe\xc3\x28" + data[at:]


def add_bom(data: bytes) -> tuple[str, bytes]:
    return "UTF-8 byte-order mark", b"\xef\xbb\xbf" + data


def mutate_bytes(
    rng: random.Random,
    data: bytes,
    non_utf8: Expect,
    random_expect: Callable[[bytes], Expect] = lambda _: Expect.INVALID,
) -> tuple[str, bytes, Expect]:
    """One byte-level mutation of a whole file; the format says what undecodable or random bytes must do."""
    operation = rng.choice(("truncate", "flip", "random", "non-utf8", "bom"))
    if operation == "truncate":
        return (*truncate(rng, data), Expect.ANY)
    if operation == "flip":
        return (*flip_bits(rng, data), Expect.ANY)
    if operation == "random":
        label, noise = random_bytes(rng)
        return label, noise, random_expect(noise)
    if operation == "non-utf8":
        return (*insert_non_utf8(rng, data), non_utf8)
    return (*add_bom(data), Expect.VALID)
