"""DMA and compute overlap when the program double-buffers, and serialise when it does not."""

import pytest

from fabless.chip import ChipSpec
from fabless.cyclesim import simulate
from fabless.isa import DmaLoad, Dtype, MxuGemm, ProgramBuilder, SemSignal, SemWait

M, K, N = 2048, 128, 128  # one 128x128 weight tile on fab1; 512 KiB of activations per step
STEPS = 6
TILE_BYTES = M * K * 2
W_ADDR = 8 << 20  # the weights stay resident in SRAM (memory persists between programs)


def pipeline(double_buffered: bool):
    """STEPS activation tiles stream from HBM through one MXU.

    Double-buffered: two SRAM buffers; the DMA fills one while the MXU works on the other.
    Single-buffered: every load waits until the MXU has finished with the only buffer.
    """
    b = ProgramBuilder()
    buffers = 2 if double_buffered else 1
    full = [b.semaphore() for _ in range(buffers)]
    free = [b.semaphore() for _ in range(buffers)]
    for step in range(STEPS):
        slot = step % buffers
        if step >= buffers:
            b.emit("dma0", SemWait(sem=free[slot]))
        b.emit("dma0", DmaLoad(hbm_addr=step * TILE_BYTES, sram_addr=slot * TILE_BYTES, rows=M, row_bytes=2 * K,
                               hbm_stride=2 * K, sram_stride=2 * K),
               SemSignal(sem=full[slot]))
        b.emit("mxu0", SemWait(sem=full[slot]),
               MxuGemm(x_addr=slot * TILE_BYTES, x_stride=2 * K, w_addr=W_ADDR, w_stride=2 * N, m=M, k=K, n=N,
                       x_dtype=Dtype.BF16, w_dtype=Dtype.BF16, acc_row=0),
               SemSignal(sem=free[slot]))
    return b.build()


def _load_and_compute(chip: ChipSpec) -> tuple[float, float]:
    rows, cols = chip.core.matrix.rows, chip.core.matrix.cols
    load = TILE_BYTES / chip.core.sram.bytes_per_cycle + 400e-9 * chip.clock_hz  # SRAM port < HBM on fab1
    compute = rows + M + rows + cols  # load the tile, stream M rows, drain
    return load, compute


def test_double_buffering_hides_every_load_but_the_first(fab1: ChipSpec) -> None:
    load, compute = _load_and_compute(fab1)
    assert load < compute  # the condition for full overlap
    report = simulate(fab1, pipeline(double_buffered=True))
    assert report.cycles == pytest.approx(load + STEPS * compute, rel=1e-3)
    mxu = next(u for u in report.units if u.name == "mxu0")
    assert mxu.stall_cycles["semaphore"] == pytest.approx(load, rel=1e-3)


def test_single_buffering_serialises_load_and_compute(fab1: ChipSpec) -> None:
    load, compute = _load_and_compute(fab1)
    report = simulate(fab1, pipeline(double_buffered=False))
    assert report.cycles == pytest.approx(STEPS * (load + compute), rel=1e-9)
    mxu = next(u for u in report.units if u.name == "mxu0")
    assert mxu.stall_cycles["semaphore"] == pytest.approx(STEPS * load, rel=1e-9)
    # Each later load waits, from the end of the previous one's data phase, for that data
    # to land and for the MXU to finish with the buffer.
    latency = 400e-9 * fab1.clock_hz
    dma = next(u for u in report.units if u.name == "dma0")
    assert dma.stall_cycles["semaphore"] == pytest.approx((STEPS - 1) * (latency + compute), rel=1e-9)


def test_overlap_is_what_separates_the_two(fab1: ChipSpec) -> None:
    load, _ = _load_and_compute(fab1)
    serial = simulate(fab1, pipeline(double_buffered=False)).cycles
    overlapped = simulate(fab1, pipeline(double_buffered=True)).cycles
    assert serial - overlapped == pytest.approx((STEPS - 1) * load, rel=1e-3)
