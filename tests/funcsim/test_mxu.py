"""Each MXU dtype mode against references written independently of the simulator."""

import math

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.funcsim import ProgramError, numerics
from fabless.isa import Dtype, MxuGemm, MxuLoadWeights, MxuMatmul, MxuStore, Program, VpuFill

X_ADDR, W_ADDR, OUT_ADDR, SCALE_ADDR = 0x0, 0x4000, 0x8000, 0xC000
FLOAT_DTYPES = [Dtype.FP8E4M3, Dtype.FP8E5M2, Dtype.BF16, Dtype.FP32]


def aligned_reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """docs/isa.md MXU float steps 1-5 in Python integers, one output at a time."""
    xs, ws = x.astype(np.float64).tolist(), w.astype(np.float64).tolist()
    m, k, n = len(xs), len(ws), len(ws[0])
    out = np.empty((m, n), np.float32)

    def exponent(values: list[float]) -> int:
        return max((math.frexp(v)[1] for v in values if v != 0 and math.isfinite(v)), default=0)

    for i in range(m):
        ex = exponent(xs[i])
        for j in range(n):
            column = [ws[t][j] for t in range(k)]
            if not all(map(math.isfinite, xs[i] + column)):
                out[i, j] = np.nan
                continue
            ew = exponent(column)
            total = sum(
                math.trunc(math.ldexp(xs[i][t], 22 - ex)) * math.trunc(math.ldexp(column[t], 22 - ew))
                for t in range(k)
            )
            out[i, j] = np.float32(math.ldexp(float(total), ex + ew - 44))
    return out


def matmul_program(m: int, k: int, n: int, x_dtype: Dtype, w_dtype: Dtype, accumulate: int = 0) -> Program:
    acc = Dtype.INT32 if x_dtype is Dtype.INT8 else Dtype.FP32
    return Program(
        {
            "mxu1": (
                MxuLoadWeights(w_addr=W_ADDR, w_stride=n * w_dtype.itemsize, k=k, n=n, dtype=w_dtype),
                MxuMatmul(x_addr=X_ADDR, x_stride=k * x_dtype.itemsize, m=m, k=k, x_dtype=x_dtype,
                          acc_row=3, accumulate=accumulate),
                MxuStore(acc_row=3, m=m, n=n, acc_dtype=acc, out_addr=OUT_ADDR, out_stride=n * 4, out_dtype=acc),
            )
        }
    )


def random_tile(rng: np.random.Generator, shape: tuple[int, int], dtype: Dtype, spread: float) -> np.ndarray:
    if dtype is Dtype.INT8:
        return rng.integers(-128, 128, shape).astype(np.int8)
    values = rng.standard_normal(shape) * np.exp2(rng.uniform(-spread, spread, shape))
    if dtype in (Dtype.FP8E4M3, Dtype.FP8E5M2):
        values = np.clip(values, -400, 400)
    return values.astype(dtype.numpy)


shapes = st.tuples(st.integers(1, 6), st.integers(1, 8), st.integers(1, 8))


@settings(max_examples=40, deadline=None)
@given(
    shapes,
    st.sampled_from(FLOAT_DTYPES),
    st.sampled_from(FLOAT_DTYPES),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1.0, 12.0]),
)
def test_float_matmul_equals_aligned_fixed_point_reference(make_sim, shape, x_dtype, w_dtype, seed, spread):
    sim = make_sim()
    m, k, n = shape
    rng = np.random.default_rng(seed)
    x, w = random_tile(rng, (m, k), x_dtype, spread), random_tile(rng, (k, n), w_dtype, spread)
    sim.write_sram(0, X_ADDR, x)
    sim.write_sram(0, W_ADDR, w)
    sim.run(matmul_program(m, k, n, x_dtype, w_dtype))
    got = sim.read_sram(0, OUT_ADDR, (m, n), np.float32)
    np.testing.assert_array_equal(got, aligned_reference(x, w))


@settings(max_examples=30, deadline=None)
@given(shapes, st.integers(0, 2**32 - 1))
def test_fp8_e4m3_matmul_is_the_exact_sum_rounded_once(make_sim, shape, seed):
    sim = make_sim()
    m, k, n = shape
    rng = np.random.default_rng(seed)
    x = random_tile(rng, (m, k), Dtype.FP8E4M3, 8.0)
    w = random_tile(rng, (k, n), Dtype.FP8E4M3, 8.0)
    sim.write_sram(0, X_ADDR, x)
    sim.write_sram(0, W_ADDR, w)
    sim.run(matmul_program(m, k, n, Dtype.FP8E4M3, Dtype.FP8E4M3))
    xs, ws = x.astype(np.float64), w.astype(np.float64)
    # every e4m3 product is a multiple of 2**-18 below 2**18, so fsum is exact here
    exact = np.array([[math.fsum(xs[i] * ws[:, j]) for j in range(n)] for i in range(m)])
    np.testing.assert_array_equal(sim.read_sram(0, OUT_ADDR, (m, n), np.float32), exact.astype(np.float32))


def test_bf16_within_its_aligned_range_is_the_exact_sum_rounded_once(sim):
    rng = np.random.default_rng(7)
    # integers below 2**8 times 2**-10: every element keeps all its bits after alignment
    x = (rng.integers(-255, 256, (5, 8)) * 2.0**-10).astype(ml_dtypes.bfloat16)
    w = (rng.integers(-255, 256, (8, 8)) * 2.0**-3).astype(ml_dtypes.bfloat16)
    sim.write_sram(0, X_ADDR, x)
    sim.write_sram(0, W_ADDR, w)
    sim.run(matmul_program(5, 8, 8, Dtype.BF16, Dtype.BF16))
    exact = x.astype(np.float64) @ w.astype(np.float64)
    np.testing.assert_array_equal(sim.read_sram(0, OUT_ADDR, (5, 8), np.float32), exact.astype(np.float32))


def test_fp32_matmul_error_is_bounded_by_the_aligned_quantum(sim):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((6, 8)).astype(np.float32), rng.standard_normal((8, 8)).astype(np.float32)
    sim.write_sram(0, X_ADDR, x)
    sim.write_sram(0, W_ADDR, w)
    sim.run(matmul_program(6, 8, 8, Dtype.FP32, Dtype.FP32))
    got = sim.read_sram(0, OUT_ADDR, (6, 8), np.float32).astype(np.float64)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    exact = x64 @ w64
    # truncation drops less than one quantum 2**(e-22) of each operand's row / column max
    qx = np.exp2(np.frexp(np.abs(x64).max(axis=1, keepdims=True))[1] - 22.0)
    qw = np.exp2(np.frexp(np.abs(w64).max(axis=0, keepdims=True))[1] - 22.0)
    bound = qx * np.abs(w64).sum(axis=0) + np.abs(x64).sum(axis=1, keepdims=True) * qw + 8 * qx * qw
    assert np.all(np.abs(got - exact) <= bound + np.abs(exact) * 2.0**-24)
    assert np.abs(got - exact).max() > 0  # fp32 inputs do lose bits: the bound is not vacuous


@settings(max_examples=30, deadline=None)
@given(shapes, st.integers(0, 2**32 - 1))
def test_int8_matmul_accumulates_exactly_and_wraps_int32(make_sim, shape, seed):
    sim = make_sim()
    m, k, n = shape
    rng = np.random.default_rng(seed)
    x, w = random_tile(rng, (m, k), Dtype.INT8, 0), random_tile(rng, (k, n), Dtype.INT8, 0)
    start = rng.integers(-(2**31), 2**31, (m, n)).astype(np.int32)
    sim.write_sram(0, X_ADDR, x)
    sim.write_sram(0, W_ADDR, w)
    sim.memory.accumulator(0, 1).view(np.int32)[3 : 3 + m, :n] = start
    sim.run(matmul_program(m, k, n, Dtype.INT8, Dtype.INT8, accumulate=1))
    total = start.astype(np.int64) + x.astype(np.int64) @ w.astype(np.int64)
    wrapped = ((total + 2**31) % 2**32 - 2**31).astype(np.int32)
    np.testing.assert_array_equal(sim.read_sram(0, OUT_ADDR, (m, n), np.int32), wrapped)


def test_accumulate_adds_in_fp32_after_rounding_the_partial_sum(sim):
    x = np.array([[1.0, 2.0**-30]], np.float32)
    w = np.array([[1.0], [1.0]], np.float32)
    sim.write_sram(0, X_ADDR, x)
    sim.write_sram(0, W_ADDR, w)
    sim.memory.accumulator(0, 1).view(np.float32)[3, 0] = 2.0**25
    sim.run(matmul_program(1, 2, 1, Dtype.FP32, Dtype.FP32, accumulate=1))
    # partial sum 1 + 2**-30 truncates to 1 (below the row's 22 bits); 2**25 + 1 rounds to even
    assert sim.read_sram(0, OUT_ADDR, (1, 1), np.float32)[0, 0] == np.float32(2.0**25)


def test_nan_or_inf_poisons_its_row_and_column(sim):
    x = np.ones((3, 4), np.float32)
    x[1, 2] = np.inf
    w = np.ones((4, 3), np.float32)
    w[0, 2] = np.nan
    sim.write_sram(0, X_ADDR, x)
    sim.write_sram(0, W_ADDR, w)
    sim.run(matmul_program(3, 4, 3, Dtype.FP32, Dtype.FP32))
    got = sim.read_sram(0, OUT_ADDR, (3, 3), np.float32)
    expected = np.full((3, 3), 4.0, np.float32)
    expected[1, :] = np.nan
    expected[:, 2] = np.nan
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 5), st.integers(1, 30), st.integers(1, 8), st.booleans(), st.integers(0, 2**32 - 1))
def test_gemm_equals_its_ldw_matmul_expansion(make_sim, m, k, n, transposed, seed):
    rng = np.random.default_rng(seed)
    x = random_tile(rng, (m, k), Dtype.BF16, 6.0)
    w = random_tile(rng, (k, n), Dtype.BF16, 6.0)
    stored = np.ascontiguousarray(w.T) if transposed else w
    w_stride = stored.shape[1] * 2
    gemm = MxuGemm(x_addr=X_ADDR, x_stride=k * 2, w_addr=W_ADDR, w_stride=w_stride, m=m, k=k, n=n,
                   x_dtype=Dtype.BF16, w_dtype=Dtype.BF16, acc_row=0, transposed=int(transposed))
    expanded = []
    for start in range(0, k, 8):
        kc = min(8, k - start)
        offset = start * 2 if transposed else start * w_stride
        expanded += [
            MxuLoadWeights(w_addr=W_ADDR + offset, w_stride=w_stride, k=kc, n=n, dtype=Dtype.BF16,
                           transposed=int(transposed)),
            MxuMatmul(x_addr=X_ADDR + start * 2, x_stride=k * 2, m=m, k=kc, x_dtype=Dtype.BF16, acc_row=0,
                      accumulate=int(start > 0)),
        ]
    results = []
    for code in ((gemm,), tuple(expanded)):
        machine = make_sim()
        machine.write_sram(0, X_ADDR, x)
        machine.write_sram(0, W_ADDR, stored)
        machine.run(Program({"mxu0": code}))
        results.append(machine.read_accumulator(0, 0, 0, m, Dtype.FP32)[:, :n])
    np.testing.assert_array_equal(results[0], results[1])
    reference = aligned_reference(x[:, :8], w[:8])
    for start in range(8, k, 8):
        reference = reference + aligned_reference(x[:, start : start + 8], w[start : start + 8])
    np.testing.assert_array_equal(results[0], reference)


def test_store_applies_column_then_row_scale_then_casts(sim):
    acc = np.array([[100, -7], [3, 2**30]], np.int32)
    sim.memory.accumulator(0, 1).view(np.int32)[0:2, 0:2] = acc
    col, row = np.array([0.5, 0.1], np.float32), np.array([3.0, 0.01], np.float32)
    sim.write_sram(0, SCALE_ADDR, col)
    sim.write_sram(0, SCALE_ADDR + 64, row)
    store = MxuStore(acc_row=0, m=2, n=2, acc_dtype=Dtype.INT32, out_addr=OUT_ADDR, out_stride=4,
                     out_dtype=Dtype.BF16, col_scale_addr=SCALE_ADDR, row_scale_addr=SCALE_ADDR + 64,
                     use_col_scale=1, use_row_scale=1)
    sim.run(Program({"mxu1": (store,)}))
    expected = [
        [np.float32(np.float32(acc[i, j]) * col[j]) * row[i] for j in range(2)] for i in range(2)
    ]
    got = sim.read_sram(0, OUT_ADDR, (2, 2), ml_dtypes.bfloat16)
    np.testing.assert_array_equal(got, np.array(expected, np.float32).astype(ml_dtypes.bfloat16))


@pytest.mark.parametrize(("x_dtype", "w_dtype"), [(Dtype.BF16, Dtype.INT8), (Dtype.INT8, Dtype.FP32)])
def test_int8_beside_a_float_operand_multiplies_its_exact_values_in_the_float_mode(sim, x_dtype, w_dtype):
    rng = np.random.default_rng(12)
    x, w = random_tile(rng, (3, 8), x_dtype, 4.0), random_tile(rng, (8, 5), w_dtype, 4.0)
    sim.write_sram(0, X_ADDR, x)
    sim.write_sram(0, W_ADDR, w)
    program = Program({"mxu0": (
        MxuLoadWeights(w_addr=W_ADDR, w_stride=5 * w_dtype.itemsize, k=8, n=5, dtype=w_dtype),
        MxuMatmul(x_addr=X_ADDR, x_stride=8 * x_dtype.itemsize, m=3, k=8, x_dtype=x_dtype, acc_row=0),
    )})
    sim.run(program)
    got = sim.read_accumulator(0, 0, 0, 3, Dtype.FP32)[:, :5]
    np.testing.assert_array_equal(got, aligned_reference(x, w))


def test_matmul_without_loaded_weights_names_the_instruction(sim):
    program = Program({"mxu0": (MxuMatmul(x_addr=X_ADDR, x_stride=4, m=1, k=2, x_dtype=Dtype.BF16, acc_row=0),)})
    with pytest.raises(ProgramError, match=r"^mxu0\[0\] mxu.matmul .*: no weights are loaded: run mxu.ldw first$"):
        sim.run(program)


def test_tile_larger_than_the_mxu_is_rejected(sim):
    program = Program({"mxu0": (MxuLoadWeights(w_addr=0, w_stride=18, k=9, n=8, dtype=Dtype.BF16),)})
    with pytest.raises(ProgramError, match=r"mxu0\[0\] mxu.ldw .*: weight tile 9x8 exceeds the 8x8 MXU"):
        sim.run(program)


def test_reloaded_weights_see_every_sram_write_since_the_last_load(sim):
    x = np.ones((1, 4), np.float32)
    program = matmul_program(1, 4, 2, Dtype.FP32, Dtype.FP32)
    sim.write_sram(0, X_ADDR, x)
    sim.write_sram(0, W_ADDR, np.full((4, 2), 1.0, np.float32))
    sim.run(program)
    sim.run(program)  # the prepared weights are reused
    np.testing.assert_array_equal(sim.read_sram(0, OUT_ADDR, (1, 2), np.float32), [[4.0, 4.0]])
    fill = VpuFill(dst_addr=W_ADDR + 4 * 8 - 4, dst_stride=4, dst_dtype=Dtype.FP32, rows=1, cols=1, imm=3.0)
    sim.run(Program({"vpu": (fill,)}))
    sim.run(program)
    np.testing.assert_array_equal(sim.read_sram(0, OUT_ADDR, (1, 2), np.float32), [[4.0, 6.0]])


@settings(max_examples=20, deadline=None)
@given(k=st.integers(1, 2600), accumulate=st.booleans(), seed=st.integers(0, 2**16))
def test_int8_products_over_any_k_are_exact_int32(k, accumulate, seed):
    """Beyond EXACT_FP32_ROWS the fp32 BLAS product is cut into groups; extreme values make
    every group's sum as large as fp32 holds exactly, and the start value wraps int32."""
    rng = np.random.default_rng(seed)
    x = rng.choice(np.array([-128, 127, -1, 0], np.int8), (2, k))
    w_rows = rng.choice(np.array([-128, 127, 5], np.int8), (3, k))
    start = rng.integers(-(2**31), 2**31, (2, 3), dtype=np.int64).astype(np.int32)
    out = start.copy()
    numerics.matmul_int8(x, w_rows, out, accumulate)
    exact = x.astype(np.int64) @ w_rows.T.astype(np.int64) + (start.astype(np.int64) if accumulate else 0)
    np.testing.assert_array_equal(out, exact.astype(np.int32))
