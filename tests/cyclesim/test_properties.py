"""Invariants on random programs: time is partitioned, tracks never overlap, recording is free."""

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabless.chip import ChipSpec, load_chip
from fabless.cyclesim import simulate, trace_events
from fabless.isa import (
    DmaLoad,
    DmaStore,
    Dtype,
    MxuGemm,
    MxuStore,
    ProgramBuilder,
    SemSignal,
    SemWait,
    VpuBinary,
)

STREAMS = ("dma0", "dma1", "c1.dma0", "mxu0", "mxu1", "c1.mxu0", "vpu")


def _work(stream: str, size: int, slot: int):
    if "dma" in stream:
        if slot % 2:
            return DmaStore(sram_addr=slot << 16, hbm_addr=slot << 20, rows=size, row_bytes=512, sram_stride=512,
                            hbm_stride=512)
        return DmaLoad(hbm_addr=slot << 20, sram_addr=slot << 16, rows=size, row_bytes=512, hbm_stride=512,
                       sram_stride=512)
    if "mxu" in stream:
        if slot % 3 == 2:
            return MxuStore(acc_row=0, m=size, n=128, acc_dtype=Dtype.FP32, out_addr=slot << 16, out_stride=256,
                            out_dtype=Dtype.BF16)
        return MxuGemm(x_addr=0, x_stride=256, w_addr=1 << 20, w_stride=256, m=size, k=128 * (1 + slot % 3), n=128,
                       x_dtype=Dtype.BF16, w_dtype=Dtype.BF16, acc_row=0)
    return VpuBinary(op="add", dst_addr=0, dst_stride=1024, dst_dtype=Dtype.BF16, a_addr=0, a_stride=1024,
                     a_dtype=Dtype.BF16, b_addr=0, b_stride=1024, b_dtype=Dtype.BF16, rows=size, cols=512)


@st.composite
def programs(draw):
    """Instructions in one global order; a dependency always points back in that order, so
    (as in the compiler's emitter) the program cannot deadlock."""
    b = ProgramBuilder()
    emitted: list[str] = []
    for slot in range(draw(st.integers(1, 24))):
        stream = draw(st.sampled_from(STREAMS))
        if emitted and draw(st.booleans()):
            producer = draw(st.sampled_from(emitted))
            if producer != stream:
                sem = b.semaphore()
                b.emit(producer, SemSignal(sem=sem))
                b.emit(stream, SemWait(sem=sem))
        b.emit(stream, _work(stream, draw(st.sampled_from((1, 7, 64, 300))), slot))
        emitted.append(stream)
    return b.build()


@pytest.fixture(scope="module")
def chip() -> ChipSpec:
    return load_chip("fab1")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(program=programs(), buffers=st.sampled_from((1, 2)))
def test_every_cycle_of_every_unit_is_busy_stalled_or_idle(chip: ChipSpec, program, buffers: int) -> None:
    report = simulate(chip, program, weight_buffers=buffers)
    for unit in report.units:
        assert unit.busy_cycles >= 0 and min(unit.stall_cycles.values()) >= 0
        assert unit.busy_cycles + unit.stalled_cycles <= report.cycles * (1 + 1e-9) + 1e-6
    spans = defaultdict(list)
    for event in trace_events(report)["traceEvents"]:
        if event["ph"] == "X":
            spans[event["tid"]].append((event["ts"], event["ts"] + event["dur"]))
    for intervals in spans.values():
        intervals.sort()
        assert intervals[0][0] >= 0 and intervals[-1][1] <= report.time_s * 1e6 * (1 + 1e-9)
        for (_, end), (start, _) in zip(intervals, intervals[1:], strict=False):
            assert start >= end - 1e-9
    fast = simulate(chip, program, weight_buffers=buffers, record=False)
    assert fast.cycles == pytest.approx(report.cycles, rel=1e-12)
