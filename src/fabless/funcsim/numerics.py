"""The numerics of docs/isa.md as whole-array numpy: casts, MXU products, VPU functions.

Everything here is the definition the RTL and the cycle simulator are checked against, so
each function states its rounding; callers run it under `np.errstate(all="ignore")`
because overflow to inf and NaN propagation are defined results, not accidents.
"""

import math

import ml_dtypes
import numpy as np
from scipy import special

from fabless.isa.dtypes import Dtype, UnaryOp

ALIGN_BITS = 22
"""Fraction bits of the aligned fixed-point MXU inputs: 22 + 22 + log2(512) = 53 keeps
every partial sum exact in float64 for k <= MAX_K, whatever order BLAS adds in."""
MAX_K = 512

_FP8_MAX = {
    Dtype.FP8E4M3: float(ml_dtypes.finfo(ml_dtypes.float8_e4m3fn).max),
    Dtype.FP8E5M2: float(ml_dtypes.finfo(ml_dtypes.float8_e5m2).max),
}
_INT_RANGE = {Dtype.INT8: (-128.0, 127.0), Dtype.INT32: (-(2.0**31), 2.0**31 - 1)}


def to_fp32(values: np.ndarray) -> np.ndarray:
    """Up-cast to fp32: exact for every dtype but int32, which rounds to nearest even."""
    return values.astype(np.float32)


def cast(values: np.ndarray, dtype: Dtype) -> np.ndarray:
    """Down-cast fp32 values: nearest even; fp8 saturates (NaN stays); ints saturate, NaN -> 0."""
    if dtype is Dtype.FP32:
        return values.astype(np.float32, copy=False)
    if dtype in _FP8_MAX:
        top = _FP8_MAX[dtype]
        return np.clip(values, -top, top).astype(dtype.numpy)
    if dtype is Dtype.BF16:
        return values.astype(ml_dtypes.bfloat16)
    low, high = _INT_RANGE[dtype]
    rounded = np.rint(values.astype(np.float64))
    return np.clip(np.nan_to_num(rounded, nan=0.0), low, high).astype(dtype.numpy)


def align(values: np.ndarray, axis: int, scratch: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Aligned fixed-point form of an MXU operand along the contraction `axis`.

    Returns (integers as float64, the shared exponent per row/column with keepdims, and a
    mask of the rows/columns holding NaN or inf, without the contraction axis). With
    `scratch`, float64 `values` are overwritten instead of copied.
    """
    wide = values if scratch and values.dtype == np.float64 else values.astype(np.float64)
    # max propagates NaN and inf, so a non-finite row shows in its (small) maximum
    top = np.abs(wide).max(axis=axis, keepdims=True)
    bad = ~np.isfinite(top)
    if bad.any():
        wide[~np.isfinite(wide)] = 0.0
        top = np.abs(wide).max(axis=axis, keepdims=True)
    # frexp is monotonic in |v|, so the largest magnitude carries the largest exponent
    exponent = np.frexp(top)[1]
    np.ldexp(wide, ALIGN_BITS - exponent, out=wide)
    return np.trunc(wide, out=wide), exponent, np.squeeze(bad, axis)


_FEW_ROWS = 4


def batched_matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """[chunks, m, k] @ [chunks, k, n] of exact integers, so any split gives the same bits.

    OpenBLAS runs a batch of 2- or 3-row products 1.5-4x slower than one matrix-vector
    product per row, and decode streams such rows (int8 high and low slices, GQA heads).
    """
    m = x.shape[-2]
    if m == 1 or m >= _FEW_ROWS:
        return x @ w
    return np.concatenate([x[..., i : i + 1, :] @ w for i in range(m)], axis=-2)


def matmul_float(
    x: tuple[np.ndarray, np.ndarray, np.ndarray], w: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> np.ndarray:
    """fp32 partial sums of aligned operands `align(X, -1)` @ `align(W, -2)`, rounded once.

    Leading axes batch independent tiles ([chunks, m, k] @ [chunks, k, n]).
    """
    x_fixed, x_exp, x_bad = x
    w_fixed, w_exp, w_bad = w
    exact = batched_matmul(x_fixed, w_fixed)
    partial = np.ldexp(exact, x_exp + w_exp - 2 * ALIGN_BITS).astype(np.float32)
    if x_bad.any() or w_bad.any():
        partial[x_bad[..., :, None] | w_bad[..., None, :]] = np.nan
    return partial


def matmul_int8(x: np.ndarray, w_fp32: np.ndarray) -> np.ndarray:
    """int8 X @ W as int32: fp32 BLAS is exact here, every partial sum is below 2**24."""
    return (x.astype(np.float32) @ w_fp32).astype(np.int32)


def add_in_order(start: np.ndarray | None, partials: np.ndarray) -> np.ndarray:
    """start + partials[0] + partials[1] + ..., left to right, each add rounded to fp32."""
    if len(partials) == 1:
        return partials[0] if start is None else start + partials[0]
    stack = partials if start is None else np.concatenate([start[None], partials])
    return np.add.accumulate(stack, axis=0)[-1]


def row_sum(values: np.ndarray) -> np.ndarray:
    """Sum of each row, left to right, rounding to fp32 after every add."""
    return np.add.accumulate(values, axis=1, dtype=np.float32)[:, -1]


def row_max(values: np.ndarray) -> np.ndarray:
    return np.maximum.accumulate(values, axis=1)[:, -1]


def row_min(values: np.ndarray) -> np.ndarray:
    return np.minimum.accumulate(values, axis=1)[:, -1]


def rsqrt(values: np.ndarray) -> np.ndarray:
    return (1.0 / np.sqrt(values.astype(np.float64))).astype(np.float32)


def _wide(fn):  # type: ignore[no-untyped-def]
    """An fp32 function defined as the fp32 rounding of its float64 evaluation."""
    return lambda x, imm: fn(x.astype(np.float64)).astype(np.float32)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)

UNARY = {
    UnaryOp.COPY: lambda x, imm: x,
    UnaryOp.NEG: lambda x, imm: -x,
    UnaryOp.ABS: lambda x, imm: np.abs(x),
    UnaryOp.EXP: _wide(np.exp),
    UnaryOp.RSQRT: lambda x, imm: rsqrt(x),
    UnaryOp.SQRT: lambda x, imm: np.sqrt(x),
    UnaryOp.RECIPROCAL: lambda x, imm: np.float32(1.0) / x,
    UnaryOp.SILU: _wide(lambda x: x / (1.0 + np.exp(-x))),
    UnaryOp.GELU_ERF: _wide(lambda x: 0.5 * x * (1.0 + special.erf(x / math.sqrt(2.0)))),
    UnaryOp.GELU_TANH: _wide(
        lambda x: 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    ),
    UnaryOp.TANH: _wide(np.tanh),
    UnaryOp.SIGMOID: _wide(lambda x: 1.0 / (1.0 + np.exp(-x))),
    UnaryOp.ADD_IMM: lambda x, imm: x + imm,
    UnaryOp.MUL_IMM: lambda x, imm: x * imm,
    UnaryOp.MAX_IMM: lambda x, imm: np.maximum(x, imm),
    UnaryOp.MIN_IMM: lambda x, imm: np.minimum(x, imm),
}
"""fp32 in, fp32 out; `imm` is an np.float32."""
