"""Every instruction survives its binary word, the program file and the assembler text."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.isa import (
    OPCODES,
    WORD_BYTES,
    Instruction,
    Program,
    assemble,
    decode,
    decode_program,
    disassemble,
    encode,
    encode_program,
)


def field_values(cls: type[Instruction]) -> st.SearchStrategy[dict]:
    parts = {}
    for spec in cls.LAYOUT:
        if spec.enum is not None:
            parts[spec.name] = st.sampled_from(list(spec.enum))
        elif spec.is_f32:
            parts[spec.name] = st.floats(width=32, allow_nan=False)
        else:
            parts[spec.name] = st.integers(spec.minimum, (1 << spec.bits) - 1)
    return st.fixed_dictionaries(parts)


def instructions() -> st.SearchStrategy[Instruction]:
    return st.sampled_from(sorted(OPCODES.values(), key=lambda c: c.OPCODE)).flatmap(
        lambda cls: field_values(cls).map(lambda values: cls(**values))
    )


def programs() -> st.SearchStrategy[Program]:
    def place(code: list[Instruction], semaphores: int) -> Program:
        streams: dict[str, list[Instruction]] = {"dma0": [], "mxu1": [], "vpu": [], "c3.dma2": []}
        for instr in code:
            home = {"dma": "dma0", "mxu": "mxu1", "vpu": "vpu", "any": "c3.dma2"}[instr.ENGINE]
            streams[home].append(instr)
        return Program({name: tuple(c) for name, c in streams.items()}, semaphores)

    return st.builds(place, st.lists(instructions(), max_size=8), st.just(65536))


@pytest.mark.parametrize("cls", sorted(OPCODES.values(), key=lambda c: c.OPCODE), ids=lambda c: c.MNEMONIC)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_instruction_round_trips_through_its_word(cls, data):
    instr = cls(**data.draw(field_values(cls)))
    word = encode(instr)
    assert len(word) == WORD_BYTES
    assert decode(word) == instr


@settings(max_examples=30, deadline=None)
@given(programs())
def test_program_file_round_trips(program):
    back = decode_program(encode_program(program))
    assert back.streams == program.streams and back.semaphores == program.semaphores


@settings(max_examples=30, deadline=None)
@given(programs())
def test_assembler_text_round_trips(program):
    text = disassemble(program)
    back = assemble(text)
    assert back.streams == program.streams and back.semaphores == program.semaphores
    assert disassemble(back) == text
