"""A single GEMM timed by hand: array size, weight-tile count, HBM bandwidth and latency."""

import math

import pytest

from fabless.chip import ChipSpec
from fabless.cyclesim import simulate
from fabless.isa import DmaLoad, DmaStore, Dtype, MxuGemm, MxuStore, ProgramBuilder, SemSignal, SemWait

X_ADDR, W_ADDR, OUT_ADDR = 0, 4 << 20, 6 << 20


def gemm_program(m: int, k: int, n: int):
    """Load X[m, k] and W[k, n] (bf16), gemm on mxu0, store C[m, n] (bf16) back to HBM."""
    b = ProgramBuilder()
    loaded, computed = b.semaphore(), b.semaphore()
    b.emit("dma0",
           DmaLoad(hbm_addr=W_ADDR, sram_addr=W_ADDR, rows=k, row_bytes=2 * n, hbm_stride=2 * n, sram_stride=2 * n),
           DmaLoad(hbm_addr=X_ADDR, sram_addr=X_ADDR, rows=m, row_bytes=2 * k, hbm_stride=2 * k, sram_stride=2 * k),
           SemSignal(sem=loaded))
    b.emit("mxu0", SemWait(sem=loaded),
           MxuGemm(x_addr=X_ADDR, x_stride=2 * k, w_addr=W_ADDR, w_stride=2 * n, m=m, k=k, n=n,
                   x_dtype=Dtype.BF16, w_dtype=Dtype.BF16, acc_row=0),
           MxuStore(acc_row=0, m=m, n=n, acc_dtype=Dtype.FP32, out_addr=OUT_ADDR, out_stride=2 * n,
                    out_dtype=Dtype.BF16),
           SemSignal(sem=computed))
    b.emit("dma1", SemWait(sem=computed),
           DmaStore(sram_addr=OUT_ADDR, hbm_addr=OUT_ADDR, rows=m, row_bytes=2 * n, sram_stride=2 * n,
                    hbm_stride=2 * n))
    return b.build()


def expected_cycles(chip: ChipSpec, m: int, k: int, n: int) -> float:
    rows, cols = chip.core.matrix.rows, chip.core.matrix.cols
    # A lone DMA moves data at the slower of HBM and the core's SRAM port, then waits the latency.
    dma_bytes_per_cycle = min(chip.hbm.bytes_per_s / chip.clock_hz, chip.core.sram.bytes_per_cycle)
    latency = 400e-9 * chip.clock_hz  # data/cyclesim/memory.toml
    load = 2 * (k * n + m * k) / dma_bytes_per_cycle + latency
    # The ISA's MXU holds one weight tile: each of the ceil(k / rows) tiles is loaded (rows
    # cycles), streamed (m cycles, bf16 = one row per cycle) and drained (rows + cols).
    tiles = math.ceil(k / rows)
    compute = tiles * (rows + m + rows + cols)
    store = m  # one accumulator row per cycle
    write_back = 2 * m * n / dma_bytes_per_cycle + latency
    return load + compute + store + write_back


@pytest.mark.parametrize(("m", "k", "n"), [(256, 256, 128), (1, 1024, 128), (512, 384, 64)])
def test_gemm_cycles_follow_from_tiles_array_and_bandwidth(fab1: ChipSpec, m: int, k: int, n: int) -> None:
    report = simulate(fab1, gemm_program(m, k, n))
    assert report.cycles == pytest.approx(expected_cycles(fab1, m, k, n), rel=1e-9)


def test_gemm_on_a_chip_whose_hbm_is_slower_than_its_sram_port(edge1: ChipSpec) -> None:
    # edge1: 1 TB/s at 1 GHz is 1000 B/cycle, under its 2048 B/cycle SRAM port; 64x64 arrays
    # with a shadow weight tile: after the first load (64 cycles) each later load hides behind
    # the previous 128-row stream, and only the last stream drains (64 + 64).
    report = simulate(edge1, gemm_program(128, 256, 64))
    load = 2 * (256 * 64 + 128 * 256) / 1000 + 400
    compute = 64 + 4 * 128 + 64 + 64
    assert report.cycles == pytest.approx(load + compute + 128 + 2 * 128 * 64 / 1000 + 400, rel=1e-9)


def test_gemm_report_counts_its_flops_and_bytes(fab1: ChipSpec) -> None:
    m, k, n = 256, 256, 128
    report = simulate(fab1, gemm_program(m, k, n))
    assert report.matrix_flops == 2 * m * k * n
    assert report.hbm_bytes == 2 * (m * k + k * n + m * n)
    assert report.peak_flops_per_s == fab1.peak_matrix_ops_per_s("bf16")
    assert report.flops_per_s == pytest.approx(report.matrix_flops / report.time_s)
    assert 0 < report.roofline_fraction < 1
    assert report.bound == "memory"  # 4.2 flop/byte is far below fab1's ridge of 236
