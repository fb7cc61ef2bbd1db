"""Hostile program files: every failure is one FablessError naming the file, the place and the field."""

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.errors import FablessError
from fabless.isa import (
    DmaLoad,
    MxuLoadWeights,
    Program,
    SemSignal,
    SemWait,
    VpuFill,
    assemble,
    decode_program,
    encode,
    encode_program,
    load_program,
)
from fabless.isa import load as load_module
from fabless.isa.encoding import MAGIC

EXAMPLE = """\
.semaphores 2
.stream dma0
dma.load hbm_addr=0x0 sram_addr=0x0 rows=4 row_bytes=64 hbm_stride=64 sram_stride=64
sem.signal sem=0
.stream vpu
sem.wait sem=0
vpu.fill dst_addr=0x100 dst_stride=64 dst_dtype=fp32 rows=4 cols=16 imm=-1.5
sem.signal sem=1
"""
PROGRAM = Program(
    {
        "dma0": (DmaLoad(hbm_addr=0, sram_addr=0, rows=4, row_bytes=64, hbm_stride=64, sram_stride=64),
                 SemSignal(sem=0)),
        "c1.mxu0": (MxuLoadWeights(w_addr=0, w_stride=16, k=8, n=8, dtype="bf16"), SemWait(sem=0)),
    },
    semaphores=2,
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (".stream dma0\nsem.signal sem=" + "9" * 500,
         r"prog.s:2: sem.signal: sem= has 500 characters, more than any value of the field needs"),
        (".stream dma0\nsem.signal sem=" + "9" * 5000,
         r"prog.s:2: the line has 5,015 characters, more than any instruction needs"),
        (".stream vpu\nvpu.fill dst_addr=0 dst_stride=0 dst_dtype=fp32 rows=1 cols=1 imm=1e39",
         r"prog.s:2: vpu.fill: imm=1e\+39 does not fit fp32 \(largest 3.40282e\+38\)"),
        (".stream vpu\nvpu.fill dst_addr=0 dst_stride=0 dst_dtype=fp32 rows=1 cols=1 imm=1e999",
         r"prog.s:2: vpu.fill: imm=1e999 does not fit fp32"),
        (".stream dma0\nsem.signal sem=-1", r"prog.s:2: sem.signal: sem=-1 does not fit its 16-bit field"),
        (".stream dma0\nsem.signal sem=0 count=0",
         r"prog.s:2: sem.signal: count=0 does not fit .* \(allowed 1..65535\)"),
        (".semaphores ²\n", r"prog.s:1: write `.semaphores <count>` with a count of 0..65536"),
        (".semaphores 99999999999999\n", r"prog.s:1: write `.semaphores <count>`"),
        (".semaphores 70000\n", r"prog.s: semaphores=70000 must be a whole number from 0 to 65536"),
        (".semaphores 1\n.semaphores 2\n", r"prog.s:2: `.semaphores` given twice \(first on line 1\)"),
        (".semaphores 0\n.stream dma0\nsem.signal sem=0",
         r"prog.s:3: sem.signal uses semaphore 0 but the program declares 0 \(`.semaphores 0`\): raise the count"),
        (".stream dma٣\n", r"prog.s:1: stream name 'dma٣' is not \[c<core>.\]dma<i>"),
        (".stream c99999999.dma0\n", r"prog.s:1: stream name 'c99999999.dma0': cores go up to c65535"),
        (".stream dma0\nsem.signal sem=0\n.stream c0.dma0\nsem.signal sem=0",
         r"prog.s: streams dma0 and c0.dma0 both run on dma0: merge them"),
        (".stream dma0\nfoo.bar x=1", r"prog.s:2: unknown mnemonic 'foo.bar': known are "),
    ],
)
def test_assembler_mistakes_name_the_line_and_the_field(text, message):
    with pytest.raises(FablessError, match=message) as error:
        assemble(text, origin="prog.s")
    assert "\n" not in str(error.value)


def test_written_infinities_are_fp32_immediates():
    text = ".stream vpu\nvpu.fill dst_addr=0 dst_stride=0 dst_dtype=fp32 rows=1 cols=1 imm=-inf\n"
    assert assemble(text).streams["vpu"][0] == VpuFill(dst_addr=0, dst_stride=0, dst_dtype="fp32", rows=1, cols=1,
                                                        imm=float("-inf"))


def _header(semaphores: int, streams: int) -> bytes:
    return MAGIC + struct.pack("<II", semaphores, streams)


def _stream(name: bytes, count: int) -> bytes:
    return struct.pack("<H", len(name)) + name + struct.pack("<I", count)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"FABLPRG", r"prog.bin is not a Fabless program \(no FABLPRG1 header\)"),
        (MAGIC + b"\x01", r"prog.bin is truncated at byte 9"),
        (_header(70000, 0), r"prog.bin: byte 8: semaphore count 70,000 is past 65,536"),
        (_header(0, 0xFFFFFFFF), r"prog.bin: byte 12: stream count is 4,294,967,295, at least 25,769,803,770 bytes, "
                                 r"but 0 follow: the file is truncated or corrupt"),
        (_header(0, 1) + _stream(b"dma0", 0xFFFFFFFF),
         r"prog.bin: byte 22: instruction count of stream dma0 is 4,294,967,295, .* but 0 follow"),
        (_header(0, 1) + _stream(b"\xff\xfe", 0), r"prog.bin: byte 16: stream name b'\\xff\\xfe' is not"),
        (_header(0, 1) + _stream(b"gpu0", 0), r"prog.bin: byte 16: stream name b'gpu0' is not"),
        (_header(0, 2) + _stream(b"dma0", 0) + _stream(b"dma0", 0), r"prog.bin: byte 26: stream dma0 appears twice"),
        (_header(0, 1) + _stream(b"dma0", 1) + b"\xff" + bytes(31),
         r"prog.bin: byte 26: dma0\[0\]: unknown opcode 0xff"),
        (_header(0, 1) + _stream(b"mxu0", 1) + encode(SemSignal(sem=0, count=1)),
         r"prog.bin: mxu0\[0\] sem.signal uses semaphore 0 but the program declares 0"),
        (_header(0, 1) + _stream(b"mxu0", 1) + encode(DmaLoad(hbm_addr=0, sram_addr=0, rows=1, row_bytes=1,
                                                              hbm_stride=0, sram_stride=0)),
         r"prog.bin: mxu0\[0\] dma.load runs on a dma engine, not on mxu"),
        (_header(0, 0) + b"\x00", r"prog.bin has 1 stray bytes after its last stream"),
    ],
)
def test_binary_mistakes_name_the_byte_and_the_field(data, message):
    with pytest.raises(FablessError, match=message):
        decode_program(data, origin="prog.bin")


def test_a_zero_count_field_in_a_word_names_the_field():
    word = bytearray(encode(SemSignal(sem=0, count=1)))
    word[3] = 0  # count occupies bits 24..39: clear its low byte
    data = _header(1, 1) + _stream(b"dma0", 1) + bytes(word)
    with pytest.raises(FablessError, match=r"prog.bin: byte 26: dma0\[0\]: sem.signal: count=0 does not fit"):
        decode_program(data, origin="prog.bin")


def test_load_program_reads_text_and_binary_by_content(tmp_path):
    text = tmp_path / "prog.s"
    text.write_text(EXAMPLE)
    binary = tmp_path / "prog.out"
    binary.write_bytes(encode_program(PROGRAM))
    assert load_program(text).instruction_count == 5
    assert load_program(binary).streams == PROGRAM.streams


def test_load_program_refuses_undecodable_missing_and_huge_files(tmp_path, monkeypatch):
    path = tmp_path / "prog.s"
    path.write_bytes(b".stream dma0\nsem.signal sem=\xff\n")
    with pytest.raises(FablessError, match=r"prog.s: not UTF-8 text \(byte 28 is 0xff\)"):
        load_program(path)
    with pytest.raises(FablessError, match=r"nope.s does not exist: pass the path of a program"):
        load_program(tmp_path / "nope.s")
    (tmp_path / "bad.bin").write_text(EXAMPLE)
    with pytest.raises(FablessError, match=r"bad.bin is not a Fabless program"):
        load_program(tmp_path / "bad.bin")
    monkeypatch.setattr(load_module, "PROGRAM_LIMIT_BYTES", 64)
    path.write_text(EXAMPLE)
    with pytest.raises(FablessError, match=r"prog.s is larger than 64 bytes, too large for a program"):
        load_program(path)


def _decodes_or_fails(data: bytes) -> None:
    try:
        program = decode_program(data, origin="fuzz.bin")
    except FablessError as error:
        assert "\n" not in str(error) and "fuzz.bin" in str(error)
        return
    assert decode_program(encode_program(program)).streams == program.streams


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_decode_or_give_a_one_line_error(data):
    _decodes_or_fails(MAGIC + data)


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(0, len(encode_program(PROGRAM))), flips=st.lists(st.tuples(st.integers(0, 10**6),
                                                                                   st.integers(0, 255)), max_size=4))
def test_truncated_and_mutated_binaries_decode_or_give_a_one_line_error(cut, flips):
    data = bytearray(encode_program(PROGRAM)[:cut])
    for at, value in flips:
        if data:
            data[at % len(data)] = value
    _decodes_or_fails(bytes(data))


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_mutated_assembler_text_assembles_or_gives_a_one_line_error(data):
    text = list(EXAMPLE)
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, len(text) - 1))
        text[at:at + data.draw(st.integers(0, 3))] = data.draw(
            st.sampled_from(["", "=", " ", "\n", ".", "#", "9" * 30, "-", "x", "²", "0x", "nan", "1e99"]))
    try:
        program = assemble("".join(text), origin="fuzz.s")
    except FablessError as error:
        assert "\n" not in str(error) and str(error).startswith("fuzz.s")
        return
    assert assemble(encode_and_back(program)).streams == program.streams


def encode_and_back(program: Program) -> str:
    from fabless.isa import disassemble

    return disassemble(decode_program(encode_program(program)))
