"""Binary encoding: one 256-bit little-endian word per instruction, and a program file.

Word: bits 0-7 the opcode, then each field in declaration order from bit 8 upwards, fp32
immediates as their IEEE bits; bits past the last field are zero.
Program file: magic `FABLPRG1`, u32 semaphores, u32 stream count, then per stream a u16
name length, the UTF-8 name, a u32 instruction count and the words (all little-endian).
"""

import struct

import numpy as np

from fabless.errors import FablessError
from fabless.isa.fields import OPCODE_BITS, OPCODES, WORD_BYTES, Instruction
from fabless.isa.program import Program

MAGIC = b"FABLPRG1"


def encode(instr: Instruction) -> bytes:
    """The instruction's 32-byte word."""
    word = instr.OPCODE
    for spec in instr.LAYOUT:
        value = getattr(instr, spec.name)
        if spec.is_f32:
            value = int(np.float32(value).view(np.uint32))
        word |= int(value) << spec.shift
    return word.to_bytes(WORD_BYTES, "little")


def decode(word: bytes) -> Instruction:
    """The instruction a 32-byte word holds; unknown opcodes and stray bits are errors."""
    if len(word) != WORD_BYTES:
        raise FablessError(f"an instruction word is {WORD_BYTES} bytes, got {len(word)}")
    bits = int.from_bytes(word, "little")
    opcode = bits & ((1 << OPCODE_BITS) - 1)
    cls = OPCODES.get(opcode)
    if cls is None:
        raise FablessError(f"unknown opcode {opcode:#04x}: the word is corrupt or from a newer ISA")
    values: dict[str, object] = {}
    end = OPCODE_BITS
    for spec in cls.LAYOUT:
        raw = (bits >> spec.shift) & ((1 << spec.bits) - 1)
        values[spec.name] = float(np.uint32(raw).view(np.float32)) if spec.is_f32 else raw
        end = spec.shift + spec.bits
    if bits >> end:
        raise FablessError(f"{cls.MNEMONIC} word has bits set past its last field: it is corrupt")
    return cls(**values)


def encode_program(program: Program) -> bytes:
    parts = [MAGIC, struct.pack("<II", program.semaphores, len(program.streams))]
    for name, code in program.streams.items():
        raw = name.encode()
        parts.append(struct.pack("<H", len(raw)) + raw + struct.pack("<I", len(code)))
        parts.extend(encode(instr) for instr in code)
    return b"".join(parts)


def decode_program(data: bytes, origin: str = "program") -> Program:
    """Read a program file; a truncated or corrupt file is an error naming the byte offset."""
    reader = _Reader(data, origin)
    if reader.take(len(MAGIC)) != MAGIC:
        raise FablessError(f"{origin} is not a Fabless program (no {MAGIC.decode()} header)")
    semaphores, count = struct.unpack("<II", reader.take(8))
    streams: dict[str, tuple[Instruction, ...]] = {}
    for _ in range(count):
        (length,) = struct.unpack("<H", reader.take(2))
        name = reader.take(length).decode(errors="replace")
        (size,) = struct.unpack("<I", reader.take(4))
        code = []
        for index in range(size):
            at = reader.offset
            word = reader.take(WORD_BYTES)
            try:
                code.append(decode(word))
            except FablessError as error:
                raise FablessError(f"{origin}: {name}[{index}] at byte {at}: {error}") from None
        streams[name] = tuple(code)
    if reader.offset != len(data):
        raise FablessError(f"{origin} has {len(data) - reader.offset} stray bytes after its last stream")
    return Program(streams, semaphores)


class _Reader:
    def __init__(self, data: bytes, origin: str) -> None:
        self.data, self.origin, self.offset = data, origin, 0

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise FablessError(f"{self.origin} is truncated at byte {len(self.data)}")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk
