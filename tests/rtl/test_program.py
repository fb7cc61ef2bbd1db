"""The core accepts exactly the int8 MXU subset and says why it rejects the rest."""

import pytest

from fabless.errors import FablessError
from fabless.isa import (
    Dtype,
    Halt,
    MxuLoadWeights,
    MxuMatmul,
    MxuStore,
    Program,
    SemSignal,
)
from fabless.rtl.program import core_stream


def _stream(*code) -> Program:  # type: ignore[no-untyped-def]
    return Program({"mxu0": code}, semaphores=1)


def test_the_stream_ends_at_its_first_halt():
    ldw = MxuLoadWeights(w_addr=0, w_stride=4, k=4, n=4, dtype=Dtype.INT8)
    assert core_stream(_stream(ldw, Halt(), ldw)) == (ldw, Halt())


@pytest.mark.parametrize(("instr", "message"), [
    (MxuLoadWeights(w_addr=0, w_stride=8, k=4, n=4, dtype=Dtype.BF16),
     "mxu0[0] mxu.ldw w_addr=0x0 w_stride=8 k=4 n=4 dtype=bf16 transposed=0: the RTL MXU is int8 only"),
    (MxuMatmul(x_addr=0, x_stride=4, m=1, k=4, x_dtype=Dtype.FP8E4M3, acc_row=0),
     "the RTL MXU is int8 only: quantise X to int8"),
    (MxuStore(acc_row=0, m=1, n=4, acc_dtype=Dtype.INT32, out_addr=0, out_stride=16,
              out_dtype=Dtype.INT32, use_col_scale=1),
     "the RTL store path has no fp32 scaling"),
    (MxuStore(acc_row=0, m=1, n=4, acc_dtype=Dtype.FP32, out_addr=0, out_stride=16, out_dtype=Dtype.BF16),
     "copies int32/fp32 words or saturates int32 to int8 only"),
    (SemSignal(sem=0), "sem.signal is outside the RTL core"),
])
def test_unsupported_instructions_are_rejected_with_the_reason(instr, message):
    with pytest.raises(FablessError, match=message.replace("[", r"\[").replace("]", r"\]")):
        core_stream(_stream(instr))


def test_programs_with_other_streams_are_rejected():
    with pytest.raises(FablessError, match="the RTL core runs one mxu0 stream, the program has mxu0, vpu"):
        core_stream(Program({"mxu0": (Halt(),), "vpu": (Halt(),)}))
