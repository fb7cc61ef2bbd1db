"""Running programs: semaphores, double buffering, deadlock, stats, and engine placement."""

from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from fabless.chip import load_chip
from fabless.errors import FablessError
from fabless.funcsim import DeadlockError, FunctionalSimulator, ProgramError
from fabless.isa import DmaGather, Dtype, Halt, MxuStore, Program, SemSignal, SemWait, VpuFill, assemble

EXAMPLE = Path(__file__).parent / "gemm_example.s"


def test_double_buffered_gemm_example_computes_a_at_b(sim):
    rng = np.random.default_rng(4)
    a = (rng.integers(-64, 64, (4, 32)) / 16).astype(ml_dtypes.bfloat16)
    b = (rng.integers(-64, 64, (32, 8)) / 16).astype(ml_dtypes.bfloat16)
    sim.write_hbm(0x0, a)
    sim.write_hbm(0x1000, b)
    stats = sim.run(assemble(EXAMPLE.read_text()))
    # small integers over 16: every product and sum is exact in fp32
    expected = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_array_equal(sim.read_hbm(0x2000, (4, 8), np.float32), expected)
    assert stats.by_engine == {"dma": 13, "mxu": 16}
    assert (stats.hbm_read_bytes, stats.hbm_written_bytes, stats.macs) == (4 * 64 + 32 * 16, 4 * 32, 4 * 32 * 8)


def test_result_does_not_depend_on_stream_order(sim, make_sim):
    program = assemble(EXAMPLE.read_text())
    reordered = Program(dict(reversed(list(program.streams.items()))), program.semaphores)
    rng = np.random.default_rng(9)
    a = rng.standard_normal((4, 32)).astype(ml_dtypes.bfloat16)
    b = rng.standard_normal((32, 8)).astype(ml_dtypes.bfloat16)
    other = make_sim()
    for machine, code in ((sim, program), (other, reordered)):
        machine.write_hbm(0x0, a)
        machine.write_hbm(0x1000, b)
        machine.run(code)
    np.testing.assert_array_equal(sim.read_hbm(0x2000, (4, 8), np.float32), other.read_hbm(0x2000, (4, 8), np.float32))


def test_deadlock_names_every_waiting_instruction(sim):
    program = Program(
        {
            "dma0": (SemSignal(sem=0), SemWait(sem=1)),
            "mxu0": (SemWait(sem=0), SemWait(sem=0)),
            "vpu": (Halt(),),
        },
        semaphores=2,
    )
    message = (
        r"^deadlock: every unfinished stream waits: dma0\[1\] sem.wait sem=1 count=1 \(semaphore holds 0\); "
        r"mxu0\[1\] sem.wait sem=0 count=1 \(semaphore holds 0\)$"
    )
    with pytest.raises(DeadlockError, match=message):
        sim.run(program)


def test_semaphore_counts_let_one_signal_release_several_waits(sim):
    program = Program({"vpu": (SemWait(sem=0, count=2),), "dma0": (SemSignal(sem=0, count=3), SemWait(sem=0))},
                      semaphores=1)
    stats = sim.run(program)
    assert stats.instructions == {"vpu": 1, "dma0": 2}


def test_instructions_after_halt_do_not_run(sim):
    fill = VpuFill(dst_addr=0, dst_stride=4, dst_dtype=Dtype.FP32, rows=1, cols=1, imm=7.0)
    stats = sim.run(Program({"vpu": (Halt(), fill)}))
    assert np.isnan(sim.read_sram(0, 0, (1,), np.float32)[0])
    assert stats.instructions == {"vpu": 1}


def test_memory_persists_between_runs_and_prepared_programs_are_reused(sim):
    bump = Program({"vpu": (VpuFill(dst_addr=0x10, dst_stride=4, dst_dtype=Dtype.FP32, rows=1, cols=1, imm=2.0),)})
    first, second = sim.run(bump), sim.run(bump)
    assert first is second
    assert sim.read_sram(0, 0x10, (1,), np.float32)[0] == 2.0
    assert (first + second).instructions == {"vpu": 2}


def test_accumulator_row_out_of_range_names_the_instruction(sim):
    store = MxuStore(acc_row=30, m=4, n=8, acc_dtype=Dtype.FP32, out_addr=0, out_stride=32, out_dtype=Dtype.FP32)
    with pytest.raises(ProgramError, match=r"^mxu1\[0\] mxu.store acc_row=30 .*: accumulator rows \[30, 34\) "
                                           r"are outside its 32 rows$"):
        sim.run(Program({"mxu1": (store,)}))


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        ("c2.vpu", "stream c2.vpu: tiny has 2 cores"),
        ("mxu2", "stream mxu2: a tiny core has 2 MXUs"),
        ("dma4", "stream dma4: a core has 4 DMA queues"),
    ],
)
def test_streams_beyond_the_chip_are_rejected(sim, stream, message):
    with pytest.raises(ProgramError, match=message):
        sim.run(Program({stream: (Halt(),)}))


def test_gpu_chips_are_refused():
    with pytest.raises(FablessError, match="h100 is a gpu chip: the ISA targets systolic chips"):
        FunctionalSimulator(load_chip("h100"))


def test_fab1_hbm_is_its_full_capacity_without_using_ram():
    sim = FunctionalSimulator(load_chip("fab1"))
    top = load_chip("fab1").hbm.capacity_bytes - 8
    sim.write_hbm(top, np.array([1.5], np.float64))
    assert sim.read_hbm(top, (1,), np.float64)[0] == 1.5


def test_a_rerun_replays_the_first_runs_order_on_new_data(sim, make_sim):
    """The second run of a program replays the order the first one recorded; on new inputs
    it computes what a fresh simulator computes."""
    program = assemble(EXAMPLE.read_text())
    rng = np.random.default_rng(3)
    inputs = [(rng.standard_normal((4, 32)), rng.standard_normal((32, 8))) for _ in range(2)]
    fresh = make_sim()
    for machine, runs in ((sim, inputs), (fresh, inputs[1:])):
        for a, b in runs:
            machine.write_hbm(0x0, a.astype(ml_dtypes.bfloat16))
            machine.write_hbm(0x1000, b.astype(ml_dtypes.bfloat16))
            machine.run(program)
    np.testing.assert_array_equal(sim.read_hbm(0x2000, (4, 8), np.float32), fresh.read_hbm(0x2000, (4, 8), np.float32))


def test_an_error_in_a_replayed_run_names_its_instruction(sim):
    """Whether an index is in range is known only when the instruction runs: a replay that
    meets a bad one names the stream, position and instruction as the first run would."""
    gather = DmaGather(index_addr=0x0, count=2, table_addr=0x0, table_stride=64, row_bytes=64, sram_addr=0x100,
                       sram_stride=64)
    program = Program({"dma0": (SemSignal(sem=0), gather), "mxu0": (SemWait(sem=0),)}, semaphores=1)
    sim.write_sram(0, 0x0, np.array([0, 1], np.int32))
    sim.run(program)
    sim.write_sram(0, 0x0, np.array([0, -1], np.int32))
    with pytest.raises(ProgramError, match=r"^dma0\[1\] dma.gather index_addr=0x0 .*: index\[1\] = -1 is outside"):
        sim.run(program)
