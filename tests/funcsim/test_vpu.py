"""VPU instructions against numpy, scipy and PyTorch, exactly where docs/isa.md says bit-exact."""

import math

import ml_dtypes
import numpy as np
import pytest
import torch
from scipy import special

from fabless.isa import (
    BinaryOp,
    Broadcast,
    Dtype,
    NormKind,
    Program,
    ReduceOp,
    UnaryOp,
    VpuBinary,
    VpuFill,
    VpuNorm,
    VpuReduce,
    VpuRope,
    VpuTranspose,
    VpuUnary,
)

SRC, SRC2, DST, TABLE = 0x0, 0x3000, 0x6000, 0x9000
ROWS, COLS = 5, 12


def run_vpu(sim, *code):
    sim.run(Program({"vpu": code}))


def unary(op, dst_dtype=Dtype.FP32, src_dtype=Dtype.FP32, imm=0.0, rows=ROWS, cols=COLS):
    return VpuUnary(op=op, dst_addr=DST, dst_stride=cols * dst_dtype.itemsize, dst_dtype=dst_dtype,
                    src_addr=SRC, src_stride=cols * src_dtype.itemsize, src_dtype=src_dtype,
                    rows=rows, cols=cols, imm=imm)


@pytest.fixture
def x():
    rng = np.random.default_rng(11)
    return (rng.standard_normal((ROWS, COLS)) * 3).astype(np.float32)


def ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return np.abs(got.astype(np.float64) - want) / np.spacing(np.abs(want.astype(np.float32)))


WIDE = {
    UnaryOp.EXP: np.exp,
    UnaryOp.RSQRT: lambda v: 1 / np.sqrt(np.abs(v)),
    UnaryOp.SILU: lambda v: v * special.expit(v),
    UnaryOp.GELU_ERF: lambda v: 0.5 * v * (1 + special.erf(v / math.sqrt(2))),
    UnaryOp.GELU_TANH: lambda v: 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))),
    UnaryOp.TANH: np.tanh,
    UnaryOp.SIGMOID: special.expit,
}


@pytest.mark.parametrize("op", list(WIDE), ids=lambda op: op.name.lower())
def test_transcendental_unary_ops_are_within_one_ulp_of_float64(sim, x, op):
    source = np.abs(x) if op is UnaryOp.RSQRT else x
    sim.write_sram(0, SRC, source)
    run_vpu(sim, unary(op))
    got = sim.read_sram(0, DST, (ROWS, COLS), np.float32)
    assert ulps(got, WIDE[op](source.astype(np.float64))).max() <= 1.0


EXACT = {
    UnaryOp.COPY: lambda v, imm: v,
    UnaryOp.NEG: lambda v, imm: -v,
    UnaryOp.ABS: lambda v, imm: np.abs(v),
    UnaryOp.SQRT: lambda v, imm: np.sqrt(np.abs(v)),
    UnaryOp.RECIPROCAL: lambda v, imm: np.float32(1) / v,
    UnaryOp.ADD_IMM: lambda v, imm: v + np.float32(imm),
    UnaryOp.MUL_IMM: lambda v, imm: v * np.float32(imm),
    UnaryOp.MAX_IMM: lambda v, imm: np.maximum(v, np.float32(imm)),
    UnaryOp.MIN_IMM: lambda v, imm: np.minimum(v, np.float32(imm)),
}


@pytest.mark.parametrize("op", list(EXACT), ids=lambda op: op.name.lower())
def test_arithmetic_unary_ops_are_bit_exact_fp32(sim, x, op):
    source = np.abs(x) if op is UnaryOp.SQRT else x
    sim.write_sram(0, SRC, source)
    run_vpu(sim, unary(op, imm=0.3))
    np.testing.assert_array_equal(sim.read_sram(0, DST, (ROWS, COLS), np.float32), EXACT[op](source, 0.3))


def test_casts_round_to_nearest_even_and_saturate(sim):
    values = np.array([[2.5, 3.5, -2.5, 200.0, -300.0, np.nan, 1000.0, np.inf, -np.inf, 1 + 2**-8, 0.0, 1e-8]],
                      np.float32)
    sim.write_sram(0, SRC, values)
    cases = {
        Dtype.INT8: [2, 4, -2, 127, -128, 0, 127, 127, -128, 1, 0, 0],
        Dtype.FP8E4M3: [2.5, 3.5, -2.5, 192, -288, np.nan, 448, 448, -448, 1, 0, 0],
        Dtype.FP8E5M2: [2.5, 3.5, -2.5, 192, -320, np.nan, 1024, 57344, -57344, 1, 0, 0],
        Dtype.BF16: [2.5, 3.5, -2.5, 200, -300, np.nan, 1000, np.inf, -np.inf, 1, 0, 1e-8],
    }
    for dtype, expected in cases.items():
        run_vpu(sim, unary(UnaryOp.COPY, dst_dtype=dtype, rows=1, cols=12))
        got = sim.read_sram(0, DST, (1, 12), dtype.numpy).astype(np.float64)
        want = np.array([expected], np.float64).astype(dtype.numpy).astype(np.float64)
        np.testing.assert_array_equal(got, want, err_msg=dtype.name)


def test_int32_beyond_two_to_the_24_copies_exactly(sim):
    values = np.array([[2**31 - 1, -(2**31), 16777217]], np.int32)
    sim.write_sram(0, SRC, values)
    run_vpu(sim, unary(UnaryOp.COPY, Dtype.INT32, Dtype.INT32, rows=1, cols=3))
    np.testing.assert_array_equal(sim.read_sram(0, DST, (1, 3), np.int32), values)


@pytest.mark.parametrize("op", list(BinaryOp), ids=lambda op: op.name.lower())
@pytest.mark.parametrize("broadcast", list(Broadcast), ids=lambda b: b.name.lower())
def test_binary_ops_with_broadcast_are_bit_exact(sim, x, op, broadcast):
    b_full = np.random.default_rng(5).standard_normal((ROWS, COLS)).astype(ml_dtypes.bfloat16)
    b_used = {Broadcast.NONE: b_full, Broadcast.ROW: b_full[:1], Broadcast.COL: b_full[:, :1]}[broadcast]
    sim.write_sram(0, SRC, x)
    sim.write_sram(0, SRC2, b_full)
    run_vpu(sim, VpuBinary(op=op, dst_addr=DST, dst_stride=COLS * 4, dst_dtype=Dtype.FP32,
                           a_addr=SRC, a_stride=COLS * 4, a_dtype=Dtype.FP32,
                           b_addr=SRC2, b_stride=COLS * 2, b_dtype=Dtype.BF16,
                           broadcast=broadcast, rows=ROWS, cols=COLS))
    fn = {BinaryOp.ADD: np.add, BinaryOp.SUB: np.subtract, BinaryOp.MUL: np.multiply,
          BinaryOp.MAX: np.maximum, BinaryOp.MIN: np.minimum, BinaryOp.DIV: np.divide}[op]
    expected = fn(x, b_used.astype(np.float32))
    np.testing.assert_array_equal(sim.read_sram(0, DST, (ROWS, COLS), np.float32), expected)


def test_row_sum_adds_left_to_right_in_fp32(sim):
    values = np.array([[1e8, 1.0, -1e8, 1.0] * 3], np.float32)
    sim.write_sram(0, SRC, values)
    run_vpu(sim, VpuReduce(op=ReduceOp.SUM, dst_addr=DST, dst_stride=4, dst_dtype=Dtype.FP32,
                           src_addr=SRC, src_stride=48, src_dtype=Dtype.FP32, rows=1, cols=12))
    total = np.float32(0)
    for v in values[0]:
        total = np.float32(total + v)
    got = sim.read_sram(0, DST, (1,), np.float32)[0]
    assert got == total == np.float32(1.0)  # a pairwise or exact sum would give 2 or 6


@pytest.mark.parametrize(("op", "fn"), [(ReduceOp.MAX, np.max), (ReduceOp.MIN, np.min),
                                        (ReduceOp.ABSMAX, lambda v, axis: np.abs(v).max(axis=axis))])
def test_row_max_min_absmax_write_a_strided_column(sim, x, op, fn):
    sim.write_sram(0, SRC, x)
    run_vpu(sim, VpuReduce(op=op, dst_addr=DST, dst_stride=8, dst_dtype=Dtype.FP32,
                           src_addr=SRC, src_stride=COLS * 4, src_dtype=Dtype.FP32, rows=ROWS, cols=COLS))
    got = sim.read_sram(0, DST, (ROWS, 2), np.float32)[:, 0]
    np.testing.assert_array_equal(got, fn(x, axis=1))


def norm(kind, eps, dtype=Dtype.FP32):
    return VpuNorm(kind=kind, dst_addr=DST, dst_stride=COLS * dtype.itemsize, dst_dtype=dtype,
                   src_addr=SRC, src_stride=COLS * 4, src_dtype=Dtype.FP32,
                   gamma_addr=TABLE, beta_addr=TABLE + 64, rows=ROWS, cols=COLS, eps=eps)


def test_rmsnorm_matches_torch_and_its_stepwise_definition(sim, x):
    gamma = np.linspace(0.5, 1.5, COLS, dtype=np.float32)
    sim.write_sram(0, SRC, x)
    sim.write_sram(0, TABLE, gamma)
    run_vpu(sim, norm(NormKind.RMS, 1e-5))
    got = sim.read_sram(0, DST, (ROWS, COLS), np.float32)
    t = torch.from_numpy(x)
    reference = (t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + 1e-5) * torch.from_numpy(gamma)).numpy()
    np.testing.assert_allclose(got, reference, rtol=2e-6, atol=1e-7)
    sq = np.float32(0) + np.zeros(ROWS, np.float32)
    for j in range(COLS):
        sq = (sq + x[:, j] * x[:, j]).astype(np.float32)
    r = (1 / np.sqrt((sq / np.float32(COLS) + np.float32(1e-5)).astype(np.float64))).astype(np.float32)
    np.testing.assert_array_equal(got, (x * r[:, None]) * gamma)


def test_layernorm_matches_torch(sim, x):
    gamma = np.linspace(0.5, 1.5, COLS, dtype=np.float32)
    beta = np.linspace(-1, 1, COLS, dtype=np.float32)
    sim.write_sram(0, SRC, x)
    sim.write_sram(0, TABLE, gamma)
    sim.write_sram(0, TABLE + 64, beta)
    run_vpu(sim, norm(NormKind.LAYER, 1e-12))
    reference = torch.nn.functional.layer_norm(
        torch.from_numpy(x), (COLS,), torch.from_numpy(gamma), torch.from_numpy(beta), eps=1e-12
    ).numpy()
    np.testing.assert_allclose(sim.read_sram(0, DST, (ROWS, COLS), np.float32), reference, rtol=1e-5, atol=2e-6)


def test_rope_rotates_each_head_half_by_half(sim):
    rng = np.random.default_rng(2)
    heads, head_dim = 3, 4
    x = rng.standard_normal((ROWS, heads * head_dim)).astype(np.float32)
    angles = rng.uniform(0, 6, (ROWS, head_dim // 2))
    cos = np.cos(np.concatenate([angles, angles], 1)).astype(np.float32)
    sin = np.sin(np.concatenate([angles, angles], 1)).astype(np.float32)
    sim.write_sram(0, SRC, x)
    sim.write_sram(0, TABLE, cos)
    sim.write_sram(0, TABLE + 0x400, sin)
    run_vpu(sim, VpuRope(dst_addr=DST, dst_stride=48, dst_dtype=Dtype.FP32, src_addr=SRC, src_stride=48,
                         src_dtype=Dtype.FP32, cos_addr=TABLE, sin_addr=TABLE + 0x400, table_stride=16,
                         rows=ROWS, cols=12, head_dim=head_dim))
    got = sim.read_sram(0, DST, (ROWS, 12), np.float32)
    for h in range(heads):
        q = x[:, h * 4 : (h + 1) * 4]
        rotated = np.concatenate([-q[:, 2:], q[:, :2]], 1)
        np.testing.assert_array_equal(got[:, h * 4 : (h + 1) * 4], q * cos + rotated * sin)


def test_softmax_from_pieces_matches_torch(sim, x):
    stride = COLS * 4
    tile = dict(rows=ROWS, cols=COLS)
    code = (
        VpuReduce(op=ReduceOp.MAX, dst_addr=TABLE, dst_stride=4, dst_dtype=Dtype.FP32, src_addr=SRC,
                  src_stride=stride, src_dtype=Dtype.FP32, **tile),
        VpuBinary(op=BinaryOp.SUB, dst_addr=DST, dst_stride=stride, dst_dtype=Dtype.FP32, a_addr=SRC,
                  a_stride=stride, a_dtype=Dtype.FP32, b_addr=TABLE, b_stride=4, b_dtype=Dtype.FP32,
                  broadcast=Broadcast.COL, **tile),
        VpuUnary(op=UnaryOp.EXP, dst_addr=DST, dst_stride=stride, dst_dtype=Dtype.FP32, src_addr=DST,
                 src_stride=stride, src_dtype=Dtype.FP32, **tile),
        VpuReduce(op=ReduceOp.SUM, dst_addr=TABLE, dst_stride=4, dst_dtype=Dtype.FP32, src_addr=DST,
                  src_stride=stride, src_dtype=Dtype.FP32, **tile),
        VpuUnary(op=UnaryOp.RECIPROCAL, dst_addr=TABLE, dst_stride=4, dst_dtype=Dtype.FP32, src_addr=TABLE,
                 src_stride=4, src_dtype=Dtype.FP32, rows=ROWS, cols=1),
        VpuBinary(op=BinaryOp.MUL, dst_addr=DST, dst_stride=COLS * 2, dst_dtype=Dtype.BF16, a_addr=DST,
                  a_stride=stride, a_dtype=Dtype.FP32, b_addr=TABLE, b_stride=4, b_dtype=Dtype.FP32,
                  broadcast=Broadcast.COL, **tile),
    )
    sim.write_sram(0, SRC, x)
    run_vpu(sim, *code)
    got = sim.read_sram(0, DST, (ROWS, COLS), ml_dtypes.bfloat16).astype(np.float32)
    reference = torch.softmax(torch.from_numpy(x), -1).numpy()
    np.testing.assert_allclose(got, reference, rtol=2**-8, atol=1e-7)


def test_transpose_and_fill(sim, x):
    sim.write_sram(0, SRC, x.astype(ml_dtypes.bfloat16))
    run_vpu(sim,
            VpuTranspose(dst_addr=DST, dst_stride=ROWS * 2, src_addr=SRC, src_stride=COLS * 2, dtype=Dtype.BF16,
                         rows=ROWS, cols=COLS),
            VpuFill(dst_addr=TABLE, dst_stride=8, dst_dtype=Dtype.INT8, rows=3, cols=2, imm=-2.5))
    got = sim.read_sram(0, DST, (COLS, ROWS), ml_dtypes.bfloat16)
    np.testing.assert_array_equal(got, x.astype(ml_dtypes.bfloat16).T)
    filled = sim.read_sram(0, TABLE, (3, 8), np.int8)
    np.testing.assert_array_equal(filled[:, :2], np.full((3, 2), -2, np.int8))


def test_uninitialised_sram_reads_as_nan(sim):
    run_vpu(sim, unary(UnaryOp.ADD_IMM, src_dtype=Dtype.BF16, imm=1.0))
    assert np.isnan(sim.read_sram(0, DST, (ROWS, COLS), np.float32)).all()
