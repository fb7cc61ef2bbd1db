"""A program whose streams wait on each other is reported with every waiting instruction."""

import pytest

from fabless.chip import ChipSpec
from fabless.cyclesim import simulate
from fabless.errors import FablessError
from fabless.isa import DmaLoad, Dtype, LinkSend, MxuGemm, ProgramBuilder, SemSignal, SemWait


def test_two_streams_waiting_on_each_other_deadlock(fab1: ChipSpec) -> None:
    b = ProgramBuilder()
    loaded, consumed = b.semaphore(), b.semaphore()
    b.emit("dma0", DmaLoad(hbm_addr=0, sram_addr=0, rows=1, row_bytes=4096, hbm_stride=0, sram_stride=0),
           SemWait(sem=consumed), SemSignal(sem=loaded))
    b.emit("mxu0", SemWait(sem=loaded),
           MxuGemm(x_addr=0, x_stride=256, w_addr=0, w_stride=256, m=8, k=128, n=128,
                   x_dtype=Dtype.BF16, w_dtype=Dtype.BF16, acc_row=0),
           SemSignal(sem=consumed))
    with pytest.raises(FablessError) as error:
        simulate(fab1, b.build())
    message = str(error.value)
    assert message.startswith("deadlock after cycle ")
    assert "dma0[1] `sem.wait sem=1 count=1` (semaphore is 0)" in message
    assert "mxu0[0] `sem.wait sem=0 count=1` (semaphore is 0)" in message
    assert "\n" not in message


def test_a_wait_nothing_signals_deadlocks_after_the_rest_finishes(fab1: ChipSpec) -> None:
    b = ProgramBuilder()
    never = b.semaphore()
    b.emit("dma0", DmaLoad(hbm_addr=0, sram_addr=0, rows=1, row_bytes=4096, hbm_stride=0, sram_stride=0))
    b.emit("vpu", SemWait(sem=never, count=2))
    with pytest.raises(FablessError, match=r"vpu\[0\] `sem.wait sem=0 count=2` \(semaphore is 0\)"):
        simulate(fab1, b.build())


def test_a_signal_too_few_is_a_deadlock_too(fab1: ChipSpec) -> None:
    b = ProgramBuilder()
    sem = b.semaphore()
    b.emit("dma0", SemSignal(sem=sem))
    b.emit("dma1", SemWait(sem=sem, count=2))
    with pytest.raises(FablessError, match=r"dma1\[0\] .* \(semaphore is 1\)"):
        simulate(fab1, b.build())


def test_unknown_units_and_multi_chip_instructions_are_rejected(fab1: ChipSpec) -> None:
    with pytest.raises(FablessError, match="chip fab1 has 8 cores"):
        simulate(fab1, _program("c8.vpu"))
    with pytest.raises(FablessError, match="uses MXU 4, but chip fab1 has 4 per core"):
        simulate(fab1, _program("mxu4"))
    link = ProgramBuilder()
    link.emit("dma0", LinkSend(link=0, sram_addr=0, remote_hbm_addr=0, rows=1, row_bytes=64, sram_stride=0,
                               hbm_stride=0, remote_sem=0))
    with pytest.raises(FablessError, match=r"dma0\[0\] link.send needs the multi-chip simulation"):
        simulate(fab1, _with_semaphore(link))


def test_gpu_chips_are_left_to_the_analytical_model() -> None:
    from fabless.chip import load_chip

    with pytest.raises(FablessError, match="family 'gpu'"):
        simulate(load_chip("h100"), ProgramBuilder().build())


def _program(stream: str):
    b = ProgramBuilder()
    b.emit(stream, SemSignal(sem=b.semaphore()))
    return b.build()


def _with_semaphore(builder: ProgramBuilder):
    builder.semaphore()
    return builder.build()
