"""DMA queues share HBM: concurrent transfers take as long as their bytes at peak bandwidth."""

import pytest

from fabless.chip import ChipSpec
from fabless.cyclesim import simulate
from fabless.isa import DmaLoad, ProgramBuilder

BYTES = 1 << 20


def loads_on(streams: list[str]):
    b = ProgramBuilder()
    for i, stream in enumerate(streams):
        b.emit(stream, DmaLoad(hbm_addr=i * BYTES, sram_addr=0, rows=256, row_bytes=BYTES // 256,
                               hbm_stride=BYTES // 256, sram_stride=BYTES // 256))
    return b.build()


def test_one_queue_streams_at_peak_hbm_bandwidth(wide_port_fab1: ChipSpec) -> None:
    hbm_per_cycle = wide_port_fab1.hbm.bytes_per_s / wide_port_fab1.clock_hz
    latency = 400e-9 * wide_port_fab1.clock_hz
    report = simulate(wide_port_fab1, loads_on(["dma0"]))
    assert report.cycles == pytest.approx(BYTES / hbm_per_cycle + latency, rel=1e-9)
    assert report.units[0].stall_cycles["hbm"] == 0


def test_queues_on_four_cores_wait_for_one_another(wide_port_fab1: ChipSpec) -> None:
    hbm_per_cycle = wide_port_fab1.hbm.bytes_per_s / wide_port_fab1.clock_hz
    latency = 400e-9 * wide_port_fab1.clock_hz
    report = simulate(wide_port_fab1, loads_on(["dma0", "c1.dma0", "c2.dma0", "c3.dma0"]))
    one = BYTES / hbm_per_cycle
    assert report.cycles == pytest.approx(4 * one + latency, rel=1e-9)
    # First come first served: the k-th queue waits for the k before it.
    waits = sorted(u.stall_cycles["hbm"] for u in report.units)
    assert waits == pytest.approx([0, one, 2 * one, 3 * one], rel=1e-9)
    assert report.hbm_bytes_per_s == pytest.approx(4 * BYTES / report.time_s)


def test_a_narrow_sram_port_limits_a_lone_queue(fab1: ChipSpec) -> None:
    # fab1's SRAM port (4096 B/cycle) is narrower than its HBM (4444 B/cycle).
    report = simulate(fab1, loads_on(["dma0"]))
    dma = report.units[0]
    assert dma.busy_cycles + dma.stall_cycles["sram_port"] == pytest.approx(BYTES / 4096, rel=1e-9)
