"""Unit timing by hand: VPU lanes against the SRAM port, MXU dtype rates, a shadow weight buffer."""

import pytest

from fabless.chip import ChipSpec
from fabless.cyclesim import simulate
from fabless.cyclesim.bandwidth import SramPort
from fabless.isa import Dtype, MxuGemm, ProgramBuilder, VpuBinary, VpuUnary


def one(stream: str, *instructions):
    b = ProgramBuilder()
    b.emit(stream, *instructions)
    return b.build()


def test_sram_port_gives_a_late_transfer_what_the_early_one_leaves(fab1: ChipSpec) -> None:
    port = SramPort(4096)
    assert port.transfer(0, 3072 * 100, 100) == 100  # 3072 B/cycle for 100 cycles
    # 1024 B/cycle are left until cycle 100, then the full 4096.
    assert port.transfer(0, 1024 * 100 + 4096 * 10, 1) == pytest.approx(110)
    assert port.transfer(200, 4096, 0) == pytest.approx(201)


def test_an_expensive_vector_op_is_bound_by_the_lanes(fab1: ChipSpec) -> None:
    rows, cols = 64, 4096
    gelu = VpuUnary(op="gelu_tanh", dst_addr=0, dst_stride=2 * cols, dst_dtype=Dtype.BF16, src_addr=0,
                    src_stride=2 * cols, src_dtype=Dtype.BF16, rows=rows, cols=cols)
    report = simulate(fab1, one("vpu", gelu))
    # 6 operations per element over 2048 lanes; 4 bytes per element need only 2 of every 6 cycles' port.
    assert report.cycles == rows * cols * 6 / fab1.core.vector.lanes
    assert report.units[0].stall_cycles["sram_port"] == 0


def test_a_cheap_vector_op_is_bound_by_the_sram_port(fab1: ChipSpec) -> None:
    rows, cols = 64, 4096
    add = VpuBinary(op="add", dst_addr=0, dst_stride=2 * cols, dst_dtype=Dtype.BF16, a_addr=0, a_stride=2 * cols,
                    a_dtype=Dtype.BF16, b_addr=0, b_stride=2 * cols, b_dtype=Dtype.BF16, rows=rows, cols=cols)
    report = simulate(fab1, one("vpu", add))
    # Two bf16 reads and a bf16 write: 6 bytes per element through a 4096 B/cycle port.
    assert report.cycles == pytest.approx(rows * cols * 6 / fab1.core.sram.bytes_per_cycle)
    vpu = report.units[0]
    assert vpu.busy_cycles == rows * cols / fab1.core.vector.lanes
    assert vpu.stall_cycles["sram_port"] == pytest.approx(report.cycles - vpu.busy_cycles)


def _gemm(m: int, k: int, dtype: Dtype) -> MxuGemm:
    return MxuGemm(x_addr=0, x_stride=k, w_addr=1 << 20, w_stride=128, m=m, k=k, n=128, x_dtype=dtype,
                   w_dtype=dtype, acc_row=0)


def test_fp8_streams_two_rows_per_cycle_on_fab1(fab1: ChipSpec) -> None:
    m, k = 1024, 256
    bf16 = simulate(fab1, one("mxu0", _gemm(m, k, Dtype.BF16))).cycles
    fp8 = simulate(fab1, one("mxu0", _gemm(m, k, Dtype.FP8E4M3))).cycles
    # Two tiles, each: load 128 rows, stream, drain 256.
    assert bf16 == 2 * (128 + m + 256)
    assert fp8 == 2 * (128 + m / 2 + 256)


def test_a_shadow_weight_buffer_hides_loads_and_drains_behind_streams(fab1: ChipSpec) -> None:
    m, k = 512, 1024  # 8 tiles
    single = simulate(fab1, one("mxu0", _gemm(m, k, Dtype.BF16))).cycles
    double = simulate(fab1, one("mxu0", _gemm(m, k, Dtype.BF16)), weight_buffers=2).cycles
    assert single == 8 * (128 + m + 256)
    # Each next tile loads while the array streams, so only the first load and the last drain show.
    assert double == 128 + 8 * m + 256
    # Decode (one row): the loads run back to back and the array waits on them.
    decode = simulate(fab1, one("mxu0", _gemm(1, k, Dtype.BF16)), weight_buffers=2).cycles
    assert decode == 8 * 128 + 1 + 256


def test_a_queue_waits_only_to_read_bytes_it_has_not_landed_yet(fab1: ChipSpec) -> None:
    from fabless.isa import DmaLoad, DmaStore

    latency = 400e-9 * fab1.clock_hz
    load = DmaLoad(hbm_addr=0, sram_addr=0, rows=1, row_bytes=4096, hbm_stride=0, sram_stride=0)
    again = DmaLoad(hbm_addr=8192, sram_addr=0, rows=1, row_bytes=4096, hbm_stride=0, sram_stride=0)
    store = DmaStore(sram_addr=0, hbm_addr=1 << 20, rows=1, row_bytes=4096, sram_stride=0, hbm_stride=0)
    # Two loads into the same bytes land in order: the second need not wait for the first.
    assert simulate(fab1, one("dma0", load, again)).cycles == pytest.approx(2 + latency)
    # A store of those bytes must wait until the load has landed them (read after write).
    report = simulate(fab1, one("dma0", load, store))
    assert report.units[0].stall_cycles["hazard"] == pytest.approx(latency)
    assert report.cycles == pytest.approx(1 + latency + 1 + latency)
