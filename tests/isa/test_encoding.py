"""The binary word layout and field checks of the ISA."""

import pytest

from fabless.errors import FablessError
from fabless.isa import (
    WORD_BYTES,
    DmaLoad,
    Dtype,
    MxuMatmul,
    Program,
    SemSignal,
    VpuUnary,
    decode,
    decode_program,
    encode,
    encode_program,
)


def test_word_layout_puts_opcode_low_and_fields_in_order():
    word = int.from_bytes(encode(SemSignal(sem=3, count=2)), "little")
    assert word == 0x01 | (3 << 8) | (2 << 24)


def test_fp32_immediate_is_stored_as_its_ieee_bits():
    instr = VpuUnary(
        op="add_imm", dst_addr=0, dst_stride=4, dst_dtype="fp32", src_addr=0, src_stride=4,
        src_dtype="fp32", rows=1, cols=1, imm=1.5,
    )
    word = int.from_bytes(encode(instr), "little")
    assert (word >> instr.LAYOUT[-1].shift) & 0xFFFFFFFF == 0x3FC00000


def test_immediate_is_rounded_to_fp32_on_construction():
    instr = VpuUnary(
        op="mul_imm", dst_addr=0, dst_stride=4, dst_dtype="fp32", src_addr=0, src_stride=4,
        src_dtype="fp32", rows=1, cols=1, imm=0.1,
    )
    assert instr.imm == 0.10000000149011612


def test_field_that_does_not_fit_is_rejected_with_its_range():
    message = r"dma.load: sram_addr=268435456 does not fit its 28-bit field \(allowed 0..268435455\)"
    with pytest.raises(FablessError, match=message):
        DmaLoad(hbm_addr=0, sram_addr=1 << 28, rows=1, row_bytes=1, hbm_stride=0, sram_stride=0)


def test_zero_count_is_rejected():
    with pytest.raises(FablessError, match="rows=0 does not fit"):
        DmaLoad(hbm_addr=0, sram_addr=0, rows=0, row_bytes=1, hbm_stride=0, sram_stride=0)


def test_unknown_dtype_name_lists_the_known_ones():
    with pytest.raises(FablessError, match="x_dtype='fp16' is not one of int8, fp8e4m3, fp8e5m2, bf16, fp32, int32"):
        MxuMatmul(x_addr=0, x_stride=0, m=1, k=1, x_dtype="fp16", acc_row=0)


def test_enum_fields_accept_names_and_codes():
    a = MxuMatmul(x_addr=0, x_stride=0, m=1, k=1, x_dtype="bf16", acc_row=0)
    b = MxuMatmul(x_addr=0, x_stride=0, m=1, k=1, x_dtype=3, acc_row=0)
    assert a == b and a.x_dtype is Dtype.BF16


def test_unknown_opcode_and_stray_bits_are_rejected():
    with pytest.raises(FablessError, match="unknown opcode 0xff"):
        decode(bytes([0xFF]) + bytes(WORD_BYTES - 1))
    word = bytearray(encode(SemSignal(sem=1)))
    word[-1] = 0x80
    with pytest.raises(FablessError, match="sem.signal word has bits set past its last field"):
        decode(bytes(word))


def test_truncated_program_file_names_the_byte():
    data = encode_program(Program({"dma0": (SemSignal(sem=0),)}, semaphores=1))
    with pytest.raises(FablessError, match=f"prog.bin is truncated at byte {len(data) - 36}"):
        decode_program(data[:-36], origin="prog.bin")
    with pytest.raises(FablessError, match="prog.bin: byte 22: instruction count of stream dma0 is 1, at least 32 "
                                           "bytes, but 27 follow: the file is truncated or corrupt"):
        decode_program(data[:-5], origin="prog.bin")
    with pytest.raises(FablessError, match="not a Fabless program"):
        decode_program(b"not a program file", origin="prog.bin")
