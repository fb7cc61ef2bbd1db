"""Random programs on small arrays in Amaranth's simulator equal the functional simulator
bit for bit, stay within the stated cycle bound, and a corrupted PE is caught."""

from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.isa import Dtype, MxuLoadWeights, MxuMatmul, Program
from fabless.rtl.config import RtlConfig
from fabless.rtl.cosim import cosimulate, cyclesim_cycles
from fabless.rtl.cycles import analytical_cycles, cyclesim_tolerance, overhead_bound
from fabless.rtl.pe import PeFault
from fabless.rtl.program import core_stream
from fabless.rtl.pysim import run_pysim
from fabless.rtl.randprog import random_image, random_program


def _pysim(config: RtlConfig):  # type: ignore[no-untyped-def]
    return lambda words, image: run_pysim(config, words, image)


def _draw(data: st.DataObject):  # type: ignore[no-untyped-def]
    return lambda low, high: data.draw(st.integers(low, high))


@settings(max_examples=12, deadline=None)
@given(data=st.data(), length=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_random_programs_on_a_4x4_array_are_bit_exact_and_within_the_cycle_bound(array_chip, data, length, seed):
    chip = array_chip(4, 4)
    config = RtlConfig.from_chip(chip)
    program = random_program(config, _draw(data), length)
    result = cosimulate(chip, program, random_image(config, seed), _pysim(config))
    assert result.exact, result.mismatches
    code = core_stream(program)
    excess = result.rtl.cycles - analytical_cycles(config, code)
    assert 0 <= excess <= overhead_bound(config, code)
    assert abs(result.rtl.cycles - cyclesim_cycles(chip, program)) <= cyclesim_tolerance(config, code)


@settings(max_examples=8, deadline=None)
@given(data=st.data(), rows=st.integers(1, 6), cols=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_odd_array_shapes_are_bit_exact(array_chip, data, rows, cols, seed):
    chip = array_chip(rows, cols)
    config = RtlConfig.from_chip(chip)
    program = random_program(config, _draw(data), 4)
    result = cosimulate(chip, program, random_image(config, seed), _pysim(config))
    assert result.exact, result.mismatches


@settings(max_examples=6, deadline=None)
@given(row=st.integers(0, 3), col=st.integers(0, 3), bit=st.integers(0, 15), seed=st.integers(0, 1000))
def test_a_pe_that_flips_one_product_bit_is_caught(array_chip, row, col, bit, seed):
    chip = array_chip(4, 4)
    healthy = RtlConfig.from_chip(chip)
    broken = RtlConfig.from_chip(chip, fault=PeFault(row, col, bit))
    program = Program({"mxu0": (
        MxuLoadWeights(w_addr=0, w_stride=4, k=4, n=4, dtype=Dtype.INT8),
        MxuMatmul(x_addr=64, x_stride=4, m=3, k=4, x_dtype=Dtype.INT8, acc_row=5),
    )})
    image = random_image(healthy, seed)
    assert cosimulate(chip, program, image, _pysim(healthy)).exact
    result = cosimulate(chip, program, image, _pysim(broken))
    assert not result.exact
    # Only the faulty PE's column can differ: every accumulator mismatch names it.
    words = [line for line in result.mismatches if line.startswith("accumulator [")]
    assert len(words) == 3 and all(line.split(",")[1].startswith(f" {col}]") for line in words)
