"""Deferred dma.load copies: every instruction sees the bytes an eager copy would have left."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.funcsim import dma
from fabless.isa import DmaLoad, DmaStore, Dtype, Program, SemSignal, SemWait, UnaryOp, VpuUnary

HBM_SPAN, SRAM_SPAN = 0x3000, 0x3000  # a few 4 KiB pages, so copies share and straddle pages


@pytest.fixture(autouse=True, params=["every load deferred", "small loads copied at once"])
def defer_threshold(request, monkeypatch):
    """These copies are small: defer all of them, or, as programs run, only those >= 1 KiB."""
    monkeypatch.setattr(dma, "DEFER_MIN_BYTES", 1 if request.param == "every load deferred" else 1024)


def rows_and_strides(draw: st.DrawFn) -> tuple[int, int, int, int]:
    rows = draw(st.integers(1, 4))
    row_bytes = draw(st.integers(1, 1500))
    # contiguous; a dense SRAM tile from strided (even overlapping) HBM rows; strided both sides
    layout = draw(st.sampled_from(["contiguous", "dense", "strided"]))
    hbm_stride = row_bytes if layout == "contiguous" else draw(st.integers(0, row_bytes + 300))
    sram_stride = row_bytes + (draw(st.integers(0, 300)) if layout == "strided" else 0)
    return rows, row_bytes, hbm_stride, sram_stride


@st.composite
def instructions(draw: st.DrawFn) -> tuple[str, object]:
    kind = draw(st.sampled_from(["load", "load", "store", "copy"]))
    if kind == "copy":
        cols = draw(st.integers(1, 2000))
        src, dst = (draw(st.integers(0, SRAM_SPAN - cols)) for _ in range(2))
        return "vpu", VpuUnary(op=UnaryOp.COPY, dst_addr=dst, dst_stride=0, dst_dtype=Dtype.INT8, src_addr=src,
                               src_stride=0, src_dtype=Dtype.INT8, rows=1, cols=cols)
    rows, row_bytes, hbm_stride, sram_stride = rows_and_strides(draw)
    if kind == "store":
        hbm_stride = max(hbm_stride, row_bytes)  # a destination's rows may not overlap
    hbm = draw(st.integers(0, HBM_SPAN - (rows - 1) * hbm_stride - row_bytes))
    sram = draw(st.integers(0, SRAM_SPAN - (rows - 1) * sram_stride - row_bytes))
    if kind == "load":
        return "dma0", DmaLoad(hbm_addr=hbm, sram_addr=sram, rows=rows, row_bytes=row_bytes, hbm_stride=hbm_stride,
                               sram_stride=sram_stride)
    return "dma0", DmaStore(sram_addr=sram, hbm_addr=hbm, rows=rows, row_bytes=row_bytes, sram_stride=sram_stride,
                            hbm_stride=hbm_stride)


def eager(hbm: np.ndarray, sram: np.ndarray, instr: object) -> None:
    """The instruction done at once on plain byte arrays."""
    if isinstance(instr, VpuUnary):
        sram[instr.dst_addr : instr.dst_addr + instr.cols] = sram[instr.src_addr : instr.src_addr + instr.cols].copy()
        return
    assert isinstance(instr, DmaLoad | DmaStore)
    for row in range(instr.rows):
        h, s = instr.hbm_addr + row * instr.hbm_stride, instr.sram_addr + row * instr.sram_stride
        if isinstance(instr, DmaLoad):
            sram[s : s + instr.row_bytes] = hbm[h : h + instr.row_bytes]
        else:
            hbm[h : h + instr.row_bytes] = sram[s : s + instr.row_bytes]


@settings(max_examples=60, deadline=None)
@given(st.lists(instructions(), min_size=1, max_size=12), st.integers(0, 2**32 - 1))
def test_loads_stores_and_copies_in_order_leave_what_eager_copies_leave(make_sim, program, seed):
    sim = make_sim()
    rng = np.random.default_rng(seed)
    hbm = rng.integers(0, 256, HBM_SPAN, dtype=np.uint8)
    sram = rng.integers(0, 256, SRAM_SPAN, dtype=np.uint8)
    sim.write_hbm(0, hbm)
    sim.write_sram(0, 0, sram)
    # one stream per unit, and each instruction waits for the one before: program order
    streams: dict[str, list[object]] = {"dma0": [], "vpu": []}
    for index, (stream, instr) in enumerate(program):
        eager(hbm, sram, instr)
        if index:
            streams[stream].append(SemWait(sem=index - 1))
        streams[stream].append(instr)
        streams[stream].append(SemSignal(sem=index))
    sim.run(Program({name: tuple(code) for name, code in streams.items() if code}, semaphores=len(program)))
    np.testing.assert_array_equal(sim.read_sram(0, 0, (SRAM_SPAN,), np.uint8), sram)
    np.testing.assert_array_equal(sim.read_hbm(0, (HBM_SPAN,), np.uint8), hbm)


def test_store_over_the_source_of_a_deferred_load_leaves_the_copy_as_it_was(sim):
    sim.write_hbm(0x0, np.arange(64, dtype=np.uint8))
    sim.write_sram(0, 0x1000, np.full(64, 7, np.uint8))
    sim.run(Program({"dma0": (
        DmaLoad(hbm_addr=0x0, sram_addr=0x0, rows=1, row_bytes=64, hbm_stride=0, sram_stride=0),
        DmaStore(sram_addr=0x1000, hbm_addr=0x10, rows=1, row_bytes=16, sram_stride=0, hbm_stride=0),
    )}))
    np.testing.assert_array_equal(sim.read_sram(0, 0x0, (64,), np.uint8), np.arange(64))


def test_a_copy_left_pending_by_one_run_holds_its_bytes_through_host_writes(sim):
    sim.write_hbm(0x0, np.arange(64, dtype=np.uint8))
    sim.run(Program({"dma0": (DmaLoad(hbm_addr=0x0, sram_addr=0x0, rows=1, row_bytes=64, hbm_stride=0,
                                      sram_stride=0),)}))
    sim.write_hbm(0x0, np.full(64, 9, np.uint8))  # the source changes after the run
    sim.write_sram(0, 0x10, np.full(8, 5, np.uint8))  # and the host writes part of the copy
    want = np.arange(64)
    want[0x10:0x18] = 5
    np.testing.assert_array_equal(sim.read_sram(0, 0x0, (64,), np.uint8), want)
