"""Random programs on the CI bar's arrays (16x16 and the non-square 8x16) run under
Verilator and equal the functional simulator bit for bit, within the cycle bound."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.isa import Dtype, MxuLoadWeights, MxuMatmul, MxuStore, Program
from fabless.rtl.config import RtlConfig
from fabless.rtl.cosim import cosimulate, cyclesim_cycles
from fabless.rtl.cycles import analytical_cycles, cyclesim_tolerance, overhead_bound
from fabless.rtl.program import core_stream, encode_stream
from fabless.rtl.pysim import run_pysim
from fabless.rtl.randprog import numpy_draw, random_image, random_program


def _draw(data: st.DataObject):  # type: ignore[no-untyped-def]
    return lambda low, high: data.draw(st.integers(low, high))


@pytest.mark.parametrize(("rows", "cols"), [(16, 16), (8, 16)])
def test_random_programs_are_bit_exact_under_verilator(array_chip, verilated, rows, cols):
    chip = array_chip(rows, cols)
    config = RtlConfig.from_chip(chip)
    model = verilated(rows, cols)

    @settings(max_examples=15, deadline=None)
    @given(data=st.data(), length=st.integers(1, 24), seed=st.integers(0, 2**32 - 1))
    def check(data, length, seed):  # type: ignore[no-untyped-def]
        program = random_program(config, _draw(data), length)
        result = cosimulate(chip, program, random_image(config, seed), model.run)
        assert result.exact, result.mismatches
        code = core_stream(program)
        excess = result.rtl.cycles - analytical_cycles(config, code)
        assert 0 <= excess <= overhead_bound(config, code)
        assert abs(result.rtl.cycles - cyclesim_cycles(chip, program)) <= cyclesim_tolerance(config, code)

    check()


def test_a_full_tile_takes_within_15_percent_of_the_cycle_simulator(array_chip, verilated):
    chip = array_chip(16, 16)
    config = RtlConfig.from_chip(chip)
    program = Program({"mxu0": (
        MxuLoadWeights(w_addr=0, w_stride=16, k=16, n=16, dtype=Dtype.INT8),
        MxuMatmul(x_addr=256, x_stride=16, m=64, k=16, x_dtype=Dtype.INT8, acc_row=0),
        MxuStore(acc_row=0, m=64, n=16, acc_dtype=Dtype.INT32, out_addr=1280, out_stride=16,
                 out_dtype=Dtype.INT8),
    )})
    result = cosimulate(chip, program, random_image(config, 0), verilated(16, 16).run)
    assert result.exact, result.mismatches
    timed = cyclesim_cycles(chip, program)
    assert abs(result.rtl.cycles - timed) <= 0.15 * timed


def test_verilator_and_the_python_simulator_agree_cycle_for_cycle(array_chip, verilated):
    config = RtlConfig.from_chip(array_chip(8, 16))
    words = encode_stream(core_stream(random_program(config, numpy_draw(5), 6)))
    image = random_image(config, 5)
    fast, slow = verilated(8, 16).run(words, image), run_pysim(config, words, image)
    assert fast.cycles == slow.cycles
    assert (fast.image.spad == slow.image.spad).all()
    assert (fast.image.acc == slow.image.acc).all()


def test_a_repeated_run_accumulates_cycles_and_keeps_memories(array_chip, verilated):
    config = RtlConfig.from_chip(array_chip(16, 16))
    words = encode_stream(core_stream(random_program(config, numpy_draw(3), 4)))
    model = verilated(16, 16)
    once = model.run(words, random_image(config, 3))
    twice = model.run(words, random_image(config, 3), repeat=2)
    assert twice.cycles == 2 * once.cycles
    rerun = model.run(words, once.image)
    assert (twice.image.acc == rerun.image.acc).all()
    assert (twice.image.spad == rerun.image.spad).all()
