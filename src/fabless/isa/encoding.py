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
from fabless.isa.program import MAX_SEMAPHORES, Program, parse_stream

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
    """Read a program file; every error names the byte offset and the header field or word.

    A count in a header is checked against the bytes left before anything is sized by it.
    """
    reader = _Reader(data, origin)
    if bytes(data[: len(MAGIC)]) != MAGIC:
        raise FablessError(f"{origin} is not a Fabless program (no {MAGIC.decode()} header)")
    reader.take(len(MAGIC))
    at = reader.offset
    semaphores = reader.u32()
    if semaphores > MAX_SEMAPHORES:
        raise FablessError(f"{origin}: byte {at}: semaphore count {semaphores:,} is past {MAX_SEMAPHORES:,}")
    # Every stream takes at least its u16 name length and u32 instruction count.
    count = reader.count("stream count", 6)
    streams: dict[str, tuple[Instruction, ...]] = {}
    for _ in range(count):
        at = reader.offset
        name = reader.name()
        if name in streams:
            raise FablessError(f"{origin}: byte {at}: stream {name} appears twice")
        size = reader.count(f"instruction count of stream {name}", WORD_BYTES)
        streams[name] = tuple(reader.instruction(name, index) for index in range(size))
    if reader.offset != len(data):
        raise FablessError(f"{origin} has {len(data) - reader.offset} stray bytes after its last stream")
    try:
        return Program(streams, semaphores)
    except FablessError as error:
        raise FablessError(f"{origin}: {error}") from None


class _Reader:
    def __init__(self, data: bytes, origin: str) -> None:
        self.data, self.origin, self.offset = data, origin, 0

    def left(self) -> int:
        return len(self.data) - self.offset

    def take(self, size: int) -> bytes:
        if size > self.left():
            raise FablessError(f"{self.origin} is truncated at byte {len(self.data)}")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def u32(self) -> int:
        (value,) = struct.unpack("<I", self.take(4))
        return int(value)

    def count(self, field: str, item_bytes: int) -> int:
        """A u32 count of items of at least `item_bytes` each, checked against the bytes left."""
        at = self.offset
        value = self.u32()
        if value * item_bytes > self.left():
            raise FablessError(
                f"{self.origin}: byte {at}: {field} is {value:,}, at least {value * item_bytes:,} bytes, but "
                f"{self.left():,} follow: the file is truncated or corrupt"
            )
        return value

    def name(self) -> str:
        at = self.offset
        (length,) = struct.unpack("<H", self.take(2))
        raw = self.take(length)
        try:
            name = raw.decode()
            parse_stream(name)
        except (UnicodeDecodeError, FablessError):
            raise FablessError(
                f"{self.origin}: byte {at}: stream name {raw[:32]!r} is not [c<core>.]dma<i>, mxu<i> or vpu: "
                "the file is corrupt"
            ) from None
        return name

    def instruction(self, stream: str, index: int) -> Instruction:
        at = self.offset
        word = self.take(WORD_BYTES)
        try:
            return decode(word)
        except FablessError as error:
            raise FablessError(f"{self.origin}: byte {at}: {stream}[{index}]: {error}") from None
