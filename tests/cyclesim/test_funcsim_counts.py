"""The cycle simulator times the work the functional simulator does: same MACs, same HBM bytes."""

from pathlib import Path

from fabless.chip import ChipSpec
from fabless.cyclesim import simulate
from fabless.funcsim import FunctionalSimulator
from fabless.isa import assemble

EXAMPLE = Path(__file__).parents[1] / "funcsim" / "gemm_example.s"


def test_matrix_work_and_hbm_traffic_match_the_functional_run(fab1: ChipSpec) -> None:
    program = assemble(EXAMPLE.read_text())
    stats = FunctionalSimulator(fab1).run(program)
    report = simulate(fab1, program)
    assert report.matrix_flops == 2 * stats.macs
    assert report.hbm_bytes == stats.hbm_read_bytes + stats.hbm_written_bytes
    assert report.instructions == stats.total_instructions


def test_instructions_after_a_halt_neither_run_nor_count(fab1: ChipSpec) -> None:
    from fabless.isa import DmaLoad, Halt, ProgramBuilder

    load = DmaLoad(hbm_addr=0, sram_addr=0, rows=1, row_bytes=4096, hbm_stride=0, sram_stride=0)
    b = ProgramBuilder()
    b.emit("dma0", load, Halt(), load, load)
    program = b.build()
    report = simulate(fab1, program)
    stats = FunctionalSimulator(fab1).run(program)
    assert report.instructions == stats.total_instructions == 2
    assert report.hbm_bytes == stats.hbm_read_bytes == 4096
