"""The Perfetto trace: valid Trace Event Format, and its tracks add up to the report."""

import errno
import itertools
import json
import math
import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from fabless.chip import ChipSpec
from fabless.cyclesim import STALL_REASONS, CycleReport, simulate, trace_events, write_trace
from fabless.errors import FablessError
from fabless.isa import (
    DmaLoad,
    DmaStore,
    Dtype,
    MxuGemm,
    MxuStore,
    ProgramBuilder,
    SemSignal,
    SemWait,
    VpuUnary,
)


def busy_program():
    """Two cores, each: load, gemm on two MXUs, store, a VPU pass, write back."""
    b = ProgramBuilder()
    for core in range(2):
        c = f"c{core}."
        loaded, computed, stored = b.semaphore(), b.semaphore(), b.semaphore()
        b.emit(c + "dma0", DmaLoad(hbm_addr=core << 24, sram_addr=0, rows=512, row_bytes=1024, hbm_stride=1024,
                                   sram_stride=1024), SemSignal(sem=loaded, count=2))
        for mxu in range(2):
            b.emit(f"{c}mxu{mxu}", SemWait(sem=loaded),
                   MxuGemm(x_addr=0, x_stride=1024, w_addr=0, w_stride=256, m=512, k=512, n=128,
                           x_dtype=Dtype.BF16, w_dtype=Dtype.BF16, acc_row=0),
                   MxuStore(acc_row=0, m=512, n=128, acc_dtype=Dtype.FP32, out_addr=(1 << 20) + mxu * 256,
                            out_stride=512, out_dtype=Dtype.BF16),
                   MxuGemm(x_addr=0, x_stride=1024, w_addr=0, w_stride=256, m=16, k=384, n=128,
                           x_dtype=Dtype.BF16, w_dtype=Dtype.BF16, acc_row=512),
                   SemSignal(sem=computed))
        b.emit(c + "vpu", SemWait(sem=computed, count=2),
               VpuUnary(op="silu", dst_addr=2 << 20, dst_stride=512, dst_dtype=Dtype.BF16, src_addr=1 << 20,
                        src_stride=512, src_dtype=Dtype.BF16, rows=512, cols=256),
               SemSignal(sem=stored))
        b.emit(c + "dma1", SemWait(sem=stored),
               DmaStore(sram_addr=2 << 20, hbm_addr=(core << 24) + (1 << 22), rows=512, row_bytes=512,
                        sram_stride=512, hbm_stride=512))
    return b.build()


def test_trace_is_trace_event_format_with_a_track_per_unit(fab1: ChipSpec, tmp_path: Path) -> None:
    report = simulate(fab1, busy_program())
    path = write_trace(report, tmp_path / "trace.json")
    trace = json.loads(path.read_text())
    assert trace == json.loads(json.dumps(trace_events(report)))
    assert set(trace) >= {"traceEvents", "displayTimeUnit"}
    events = trace["traceEvents"]
    processes = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    assert processes == {0: "core 0", 1: "core 1"}
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
               if e["ph"] == "M" and e["name"] == "thread_name"}
    assert sorted(threads.values()) == sorted(u.name for u in report.units)
    for event in events:
        assert event["ph"] in ("M", "X")
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
        if event["ph"] == "X":
            assert (event["pid"], event["tid"]) in threads
            assert event["cat"] in ("busy", "stall")
            assert isinstance(event["name"], str) and event["name"]
            assert math.isfinite(event["ts"]) and event["ts"] >= 0
            assert math.isfinite(event["dur"]) and event["dur"] >= 0
    # Complete events on one track never overlap.
    spans = defaultdict(list)
    for event in events:
        if event["ph"] == "X":
            spans[(event["pid"], event["tid"])].append((event["ts"], event["ts"] + event["dur"]))
    for intervals in spans.values():
        intervals.sort()
        for (_, end), (start, _) in zip(intervals, intervals[1:], strict=False):
            assert start >= end - 1e-9


def test_trace_busy_and_stall_time_sum_to_the_report(fab1: ChipSpec) -> None:
    report = simulate(fab1, busy_program())
    trace = trace_events(report)
    us_per_cycle = 1e6 / fab1.clock_hz
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    busy: dict[str, float] = defaultdict(float)
    stalls: dict[tuple[str, str], float] = defaultdict(float)
    for event in trace["traceEvents"]:
        if event["ph"] != "X":
            continue
        track = names[(event["pid"], event["tid"])]
        if event["cat"] == "busy":
            # An instruction's slice is its working cycles plus the stalls inside it.
            inside = event["args"]["stall_cycles"]
            assert event["dur"] / us_per_cycle == pytest.approx(event["args"]["busy_cycles"] + sum(inside.values()))
            busy[track] += event["args"]["busy_cycles"]
            for reason, cycles in inside.items():
                stalls[(track, reason)] += cycles
        else:
            stalls[(track, event["name"].removeprefix("stall: "))] += event["dur"] / us_per_cycle
    for unit in report.units:
        assert busy[unit.name] == pytest.approx(unit.busy_cycles, rel=1e-9)
        for reason in STALL_REASONS:
            assert stalls[(unit.name, reason)] == pytest.approx(unit.stall_cycles[reason], rel=1e-9, abs=1e-6)
        assert unit.busy_cycles + unit.stalled_cycles + unit.idle_cycles == pytest.approx(report.cycles)
    assert trace["otherData"]["cycles"] == report.cycles


def test_a_gemm_is_one_slice_per_unit_with_its_tile_waits_inside(fab1: ChipSpec) -> None:
    trace = trace_events(simulate(fab1, busy_program()))
    gemms = [e for e in trace["traceEvents"] if e.get("name") == "mxu.gemm"]
    # Two gemms on each of four MXUs, each on the array and on the weight loader.
    assert len(gemms) == 2 * 4 * 2
    first = next(e for e in gemms if e["args"]["index"] == 1)
    # k = 512: four tiles, so three drains and three tile loads wait inside the slice.
    assert first["args"]["stall_cycles"]["drain"] == pytest.approx(3 * 256)
    assert first["args"]["stall_cycles"]["weights"] == pytest.approx(3 * 128)


def test_every_instruction_appears_in_the_trace(fab1: ChipSpec) -> None:
    program = busy_program()
    report = simulate(fab1, program)
    trace = trace_events(report)
    mnemonics = {e["name"] for e in trace["traceEvents"] if e.get("cat") == "busy"}
    assert mnemonics == {"dma.load", "dma.store", "mxu.gemm", "mxu.store", "vpu.unary"}


def test_no_trace_without_a_timeline_and_no_half_written_file(fab1: ChipSpec, tmp_path: Path) -> None:
    report = simulate(fab1, busy_program(), record=False)
    with pytest.raises(FablessError, match="record=True"):
        write_trace(report, tmp_path / "trace.json")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FablessError, match="does not exist"):
        write_trace(simulate(fab1, busy_program()), tmp_path / "missing" / "trace.json")


def test_recording_the_timeline_does_not_change_the_timing(fab1: ChipSpec) -> None:
    for buffers in (1, 2):
        recorded = simulate(fab1, busy_program(), weight_buffers=buffers)
        fast = simulate(fab1, busy_program(), weight_buffers=buffers, record=False)
        assert fast.cycles == pytest.approx(recorded.cycles, rel=1e-12)
        for a, b in zip(fast.units, recorded.units, strict=True):
            assert a.busy_cycles == pytest.approx(b.busy_cycles, rel=1e-12)
            assert a.stall_cycles == pytest.approx(b.stall_cycles, rel=1e-12, abs=1e-9)


def test_programs_in_sequence_add_up_and_share_one_track_per_unit(fab1: ChipSpec) -> None:
    from fabless.cyclesim import run_in_sequence

    first, second = simulate(fab1, busy_program()), simulate(fab1, _vpu_only())
    both = run_in_sequence([first, second])
    assert both.cycles == first.cycles + second.cycles
    assert both.instructions == first.instructions + second.instructions
    assert both.matrix_flops == first.matrix_flops
    vpu = next(u for u in both.units if u.name == "vpu")
    assert vpu.busy_cycles == pytest.approx(sum(u.busy_cycles for r in (first, second) for u in r.units
                                                if u.name == "vpu"))
    for unit in both.units:
        assert unit.busy_cycles + unit.stalled_cycles + unit.idle_cycles == pytest.approx(both.cycles)
    trace = trace_events(both)
    threads = [e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"]
    assert sorted(threads) == sorted(u.name for u in both.units)
    last = max(e["ts"] + e["dur"] for e in trace["traceEvents"] if e["ph"] == "X")
    assert last == pytest.approx(both.time_s * 1e6)


def _vpu_only():
    b = ProgramBuilder()
    b.emit("vpu", VpuUnary(op="exp", dst_addr=0, dst_stride=4096, dst_dtype=Dtype.FP32, src_addr=0,
                           src_stride=4096, src_dtype=Dtype.FP32, rows=64, cols=1024))
    return b.build()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664)])
def test_a_new_trace_gets_the_mode_the_umask_gives(fab1: ChipSpec, tmp_path: Path, umask: int, mode: int) -> None:
    report = simulate(fab1, busy_program())
    previous = os.umask(umask)
    try:
        path = write_trace(report, tmp_path / "trace.json")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == mode
    assert os.listdir(tmp_path) == ["trace.json"]


def test_a_trace_failing_part_way_leaves_no_file_and_no_temporary(
    fab1: ChipSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fabless.cyclesim.perfetto as perfetto

    report = simulate(fab1, busy_program())
    real = perfetto._events

    def some_then_full(report: CycleReport) -> Iterator[dict[str, object]]:
        yield from itertools.islice(real(report), 10)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(perfetto, "_events", some_then_full)
    with pytest.raises(FablessError, match=r"^cannot write the trace to .*trace\.json: No space left on device$"):
        write_trace(report, tmp_path / "trace.json")
    assert os.listdir(tmp_path) == []


def test_a_trace_to_dev_null_writes_into_it_instead_of_replacing_it(fab1: ChipSpec) -> None:
    before = os.stat("/dev/null")
    write_trace(simulate(fab1, busy_program()), "/dev/null")
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_rdev, after.st_mode) == (before.st_ino, before.st_rdev, before.st_mode)
