"""Binary program files, mutated from the encoded gemm_example.s, read by `fabless.isa.decode_program`.

The file is rebuilt from its parts (header, per stream a name, a count and 32-byte words)
so a mutation can lie about one declared size while the rest stays well formed.
"""

import random
import struct
from functools import cache
from pathlib import Path

from fabless.isa import Program, assemble, decode_program, disassemble, encode

from . import hostile
from .calls import call_library
from .cases import Case, Expect, Verdict
from .kind_assembler import SEED, same_program
from .kinds import Kind

FILE = "program.bin"
MAGIC = b"FABLPRG1"
Stream = tuple[bytes, int, list[bytes]]  # name, declared instruction count, words


@cache
def seed_streams() -> tuple[int, tuple[Stream, ...]]:
    program = assemble(SEED.read_text())
    return program.semaphores, tuple(
        (name.encode(), len(code), [encode(instr) for instr in code]) for name, code in program.streams.items()
    )


def program_bytes(semaphores: int, streams: list[Stream], count: int | None = None) -> bytes:
    parts = [MAGIC, struct.pack("<II", semaphores, len(streams) if count is None else count)]
    for name, declared, words in streams:
        parts += [struct.pack("<H", len(name)), name, struct.pack("<I", declared), *words]
    return b"".join(parts)


def generate(rng: random.Random, index: int) -> Case:
    label, data, expect = _mutate(rng)
    return Case(kind="program", index=index, mutation=label, expect=expect, files={FILE: data}, names=(FILE,))


def _mutate(rng: random.Random) -> tuple[str, bytes, Expect]:
    semaphores, seed = seed_streams()
    streams = [(name, count, list(words)) for name, count, words in seed]
    at = rng.randrange(len(streams))
    name, count, words = streams[at]
    operation = rng.choices(
        (
            "same",
            "semaphores",
            "stream-count",
            "name-length",
            "word-count",
            "name",
            "repeat-stream",
            "repeat-word",
            "stray",
            "truncate",
            "flip",
            "random",
        ),
        weights=(1, 2, 2, 2, 2, 2, 1, 1, 1, 3, 4, 1),
    )[0]
    if operation == "same":
        return "the seed", program_bytes(semaphores, streams), Expect.VALID
    if operation == "semaphores":
        value = rng.choice((0, 2**32 - 1, 2**31))
        return f"semaphores = {value}", program_bytes(value, streams), Expect.INVALID
    if operation == "stream-count":
        value = rng.choice((2**32 - 1, len(streams) + 1, 2**20))
        return f"stream count = {value}", program_bytes(semaphores, streams, value), Expect.INVALID
    if operation == "name-length":
        data = program_bytes(semaphores, streams)
        value = rng.choice((0xFFFF, len(name) + 7))
        # The first stream's name length sits right after the 16-byte header.
        return f"first name length = {value}", data[:16] + struct.pack("<H", value) + data[18:], Expect.INVALID
    if operation == "word-count":
        value = rng.choice((2**32 - 1, count + 1, 2**28))
        streams[at] = (name, value, words)
        return f"stream {at} count = {value}", program_bytes(semaphores, streams), Expect.INVALID
    if operation == "name":
        value = rng.choice((b"\xff\xfe", b"dma0\x00", b"\x1b[2J", hostile.INJECTIONS[0].encode(), b""))
        streams[at] = (value, count, words)
        return f"stream {at} named {value!r}", program_bytes(semaphores, streams), Expect.INVALID
    if operation == "repeat-stream":
        streams.append(streams[at])
        return f"stream {at} given twice", program_bytes(semaphores, streams), Expect.INVALID
    if operation == "repeat-word":
        spot = rng.randrange(len(words))
        words.insert(spot, words[spot])
        streams[at] = (name, count + 1, words)
        return f"stream {at} word {spot} repeated", program_bytes(semaphores, streams), Expect.VALID
    data = program_bytes(semaphores, streams)
    if operation == "stray":
        return "stray bytes at the end", data + rng.randbytes(rng.choice((1, 31, 32))), Expect.INVALID
    if operation == "truncate":
        return (*hostile.truncate(rng, data), Expect.INVALID)
    if operation == "flip":
        return (*hostile.flip_bits(rng, data), Expect.ANY)
    return (*hostile.random_bytes(rng), Expect.INVALID)


def execute(case: Case, folder: Path) -> Verdict:
    data = Path(FILE).read_bytes()
    return call_library(lambda: decode_program(data, origin=FILE), _round_trip_problem)


def _round_trip_problem(program: Program) -> str | None:
    if not same_program(assemble(disassemble(program)), program):
        return "its disassembly assembles to a different program"
    return None


KIND = Kind("program", "binary program (decode_program, then a disassembly round trip)", generate, execute)
