"""The chip's instruction set: instructions, programs, binary encoding and assembler text.

The semantics of every instruction are in docs/isa.md; `fabless.funcsim` executes them.
"""

from fabless.isa.asm import assemble, disassemble, format_instruction, parse_instruction
from fabless.isa.dtypes import BinaryOp, Broadcast, Dtype, NormKind, ReduceOp, UnaryOp
from fabless.isa.encoding import decode, decode_program, encode, encode_program
from fabless.isa.fields import MNEMONICS, OPCODES, WORD_BYTES, FieldSpec, Instruction
from fabless.isa.instructions import (
    DmaGather,
    DmaLoad,
    DmaScatter,
    DmaStore,
    Halt,
    LinkSend,
    MxuGemm,
    MxuLoadWeights,
    MxuMatmul,
    MxuStore,
    SemSignal,
    SemWait,
    VpuBinary,
    VpuFill,
    VpuNorm,
    VpuReduce,
    VpuRope,
    VpuTranspose,
    VpuUnary,
)
from fabless.isa.load import PROGRAM_LIMIT_BYTES, load_program
from fabless.isa.program import Program, ProgramBuilder, StreamId, parse_stream

__all__ = [
    # instructions
    "Instruction",
    "Halt",
    "SemSignal",
    "SemWait",
    "DmaLoad",
    "DmaStore",
    "DmaGather",
    "DmaScatter",
    "LinkSend",
    "MxuLoadWeights",
    "MxuMatmul",
    "MxuGemm",
    "MxuStore",
    "VpuUnary",
    "VpuBinary",
    "VpuReduce",
    "VpuNorm",
    "VpuRope",
    "VpuTranspose",
    "VpuFill",
    # field types
    "Dtype",
    "UnaryOp",
    "BinaryOp",
    "ReduceOp",
    "NormKind",
    "Broadcast",
    "FieldSpec",
    "OPCODES",
    "MNEMONICS",
    "WORD_BYTES",
    # programs
    "Program",
    "ProgramBuilder",
    "StreamId",
    "parse_stream",
    # encodings
    "encode",
    "decode",
    "encode_program",
    "decode_program",
    "assemble",
    "disassemble",
    "format_instruction",
    "parse_instruction",
    # files
    "load_program",
    "PROGRAM_LIMIT_BYTES",
]
