"""Assembler text, mutated from tests/funcsim/gemm_example.s, read by `fabless.isa.assemble`."""

import random
import re
from functools import cache
from pathlib import Path

from fabless.isa import Program, assemble, decode_program, disassemble, encode_program

from . import hostile
from .calls import call_library
from .cases import Case, Expect, Verdict
from .kinds import Kind

SEED = Path(__file__).resolve().parents[1] / "funcsim" / "gemm_example.s"
FILE = "program.s"
_FIELD = re.compile(r"(\w+)=(\S+)")
_BAD_NUMBERS = ("nan", "inf", "-1", "1e300", "9" * 5000, "0x" + "f" * 80, "true", "abc", "1.5", "", "0b102", "--3")


@cache
def seed_lines() -> tuple[str, ...]:
    return tuple(SEED.read_text().splitlines())


def generate(rng: random.Random, index: int) -> Case:
    label, data, expect = _mutate(rng, list(seed_lines()))
    return Case(kind="assembler", index=index, mutation=label, expect=expect, files={FILE: data}, names=(FILE,))


def _mutate(rng: random.Random, lines: list[str]) -> tuple[str, bytes, Expect]:
    text = "\n".join(lines) + "\n"
    fielded = [i for i, line in enumerate(lines) if _FIELD.search(line.split("#")[0])]
    at = rng.choice(fielded)
    words = lines[at].split("#")[0].split()
    field_at = rng.randrange(1, len(words))
    name = words[field_at].split("=")[0]
    operation = rng.choices(
        (
            "value",
            "zero",
            "drop-field",
            "repeat-field",
            "unknown-field",
            "mnemonic",
            "bare-word",
            "semaphores",
            "stream",
            "repeat-line",
            "drop-line",
            "long-line",
            "control",
            "bytes",
        ),
        weights=(12, 2, 2, 2, 1, 1, 1, 3, 2, 1, 1, 1, 1, 5),
    )[0]
    edit = f"line {at + 1}"
    if operation in ("value", "zero"):
        value = rng.choice(_BAD_NUMBERS) if operation == "value" else "0"
        words[field_at] = f"{name}={value}"
        # Zero is a legal address and flag but not a legal row count: whether it fits is the field's business.
        return _lines(lines, at, words, f"{edit} {name}={value[:20]}", Expect.INVALID if value != "0" else Expect.ANY)
    if operation == "drop-field":
        del words[field_at]
        return _lines(lines, at, words, f"{edit} without {name}", Expect.ANY)
    if operation == "repeat-field":
        words.append(f"{name}=1")
        return _lines(lines, at, words, f"{edit} {name} given twice", Expect.INVALID)
    if operation == "unknown-field":
        words.append("bogus=1")
        return _lines(lines, at, words, f"{edit} unknown field", Expect.INVALID)
    if operation == "mnemonic":
        words[0] = rng.choice(("mxu.explode", "dma", "", "DMA.LOAD", "halt.now"))
        return _lines(lines, at, [w for w in words if w], f"{edit} mnemonic {words[0]!r}", Expect.INVALID)
    if operation == "bare-word":
        words[field_at] = name
        return _lines(lines, at, words, f"{edit} {name} without =", Expect.INVALID)
    if operation == "semaphores":
        value = rng.choice(("-1", "0", "4", "1e300", "9" * 5000, "abc", "5 5", "٣", "²"))
        changed = text.replace(".semaphores 5", f".semaphores {value}")
        return f".semaphores {value[:20]}", changed.encode(), Expect.INVALID
    if operation == "stream":
        value = rng.choice((*hostile.INJECTIONS, "", "dma0 mxu0", hostile.CONTROL_TEXT, hostile.LONG_TEXT, "mxu9999"))
        changed = text.replace(".stream mxu0", f".stream {value}")
        return f".stream {value[:20]!r}", changed.encode(), Expect.ANY if value == "mxu9999" else Expect.INVALID
    if operation == "repeat-line":
        lines.insert(at, lines[at])
        return f"{edit} repeated", _text(lines), Expect.ANY
    if operation == "drop-line":
        del lines[at]
        return f"{edit} removed", _text(lines), Expect.ANY
    if operation == "long-line":
        lines.insert(at, "dma.load " + "x" * 100_000)
        return f"a 100,000-character line before {edit}", _text(lines), Expect.INVALID
    if operation == "control":
        words[field_at] += "\x00\x1b[2J"
        return _lines(lines, at, words, f"{edit} control characters after {name}", Expect.INVALID)
    # Read as the CLI reads text, undecodable bytes become U+FFFD: harmless in a comment.
    return hostile.mutate_bytes(rng, text.encode(), non_utf8=Expect.ANY, random_expect=_blank_is_empty)


def _lines(lines: list[str], at: int, words: list[str], label: str, expect: Expect) -> tuple[str, bytes, Expect]:
    lines[at] = " ".join(words)
    return label, _text(lines), expect


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _blank_is_empty(noise: bytes) -> Expect:
    # A byte of blank space or a lone '#' is an empty program, which assembles to nothing.
    return Expect.ANY if noise.decode("utf-8", "replace").split("#", 1)[0].strip() == "" else Expect.INVALID


def execute(case: Case, folder: Path) -> Verdict:
    text = Path(FILE).read_bytes().decode("utf-8-sig", errors="replace")
    return call_library(lambda: assemble(text, origin=FILE), round_trip_problem)


def round_trip_problem(program: Program) -> str | None:
    """An accepted program must encode to words that decode to it, and print text that reads back."""
    if not same_program(decode_program(encode_program(program)), program):
        return "its binary encoding decodes to a different program"
    if not same_program(assemble(disassemble(program)), program):
        return "its disassembly assembles to a different program"
    return None


def same_program(a: Program, b: Program) -> bool:
    # Programs compare by identity (simulators cache by it): compare what they hold.
    return a.semaphores == b.semaphores and dict(a.streams) == dict(b.streams)


KIND = Kind("assembler", "assembler text (assemble, then encode/decode and disassemble round trips)", generate, execute)
