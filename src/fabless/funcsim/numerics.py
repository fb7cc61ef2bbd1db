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
    """Up-cast to fp32: exact for every dtype but int32, which rounds to nearest even. fp32
    comes back as it is (callers make new arrays from it)."""
    return values.astype(np.float32, copy=False)


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
    rounded = np.rint(values, dtype=np.float64)
    # maximum and minimum keep NaN, which then becomes 0 (inside every int range)
    np.minimum(np.maximum(rounded, low, out=rounded), high, out=rounded)
    np.copyto(rounded, 0.0, where=np.isnan(rounded))
    return rounded.astype(dtype.numpy)


def truncate(values: np.ndarray, axis: int, scratch: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """An MXU float operand as step 2 of docs/isa.md leaves it, in its own scale.

    Returns float64 `xf * 2^(ex - 22)`: each element truncated toward zero to the 22 bits
    below its row's (column's) largest exponent along the contraction `axis`; and the mask
    of rows (columns) holding NaN or inf, without `axis`, or None if there are none. With
    `scratch`, float64 `values` are overwritten instead of copied.
    """
    wide = values if scratch and values.dtype == np.float64 else values.astype(np.float64)
    # max propagates NaN and inf, so a non-finite row shows in its (small) maximum, and in
    # the maximum of those (NaN fails the comparison)
    top = np.abs(wide).max(axis=axis, keepdims=True)
    bad = None
    if not top.max() < np.inf:
        bad = ~np.isfinite(top)
        wide[~np.isfinite(wide)] = 0.0
        top = np.abs(wide).max(axis=axis, keepdims=True)
    # frexp is monotonic in |v|, so the largest magnitude carries the largest exponent
    shift = ALIGN_BITS - np.frexp(top)[1]
    np.ldexp(wide, shift, out=wide)
    np.trunc(wide, out=wide)
    np.negative(shift, out=shift)
    np.ldexp(wide, shift, out=wide)
    return wide, None if bad is None else np.squeeze(bad, axis)


def matmul_float(x: tuple[np.ndarray, np.ndarray | None], w_rows: tuple[np.ndarray, np.ndarray | None]) -> np.ndarray:
    """fp32 partial sums X @ W of `truncate`d operands: X [..., m, k], W given by its
    columns as rows [..., n, k]; leading axes batch independent tiles.

    Every term of one output carries the same scale 2^(ex + ew - 44) and their integer sum
    stays below 2^53 (k <= MAX_K), so float64 BLAS sums them exactly in any order, and the
    cast to fp32 is the one rounding (step 4).
    """
    x_values, x_bad = x
    w_values, w_bad = w_rows
    # numpy's dot loop over contiguous k runs these few-row batches ~2x faster than BLAS gemm
    exact = np.vecdot(x_values[..., :, None, :], w_values[..., None, :, :])
    partial = exact.astype(np.float32)
    if x_bad is not None or w_bad is not None:
        rows = np.zeros(x_values.shape[:-1], bool) if x_bad is None else x_bad
        columns = np.zeros(w_values.shape[:-1], bool) if w_bad is None else w_bad
        partial[rows[..., :, None] | columns[..., None, :]] = np.nan
    return partial


EXACT_FP32_ROWS = 1024
"""int8 x int8 products (each at most 2^14) summed over this many rows stay integers of at
most 2^24, which fp32 holds exactly."""

_WIDE: dict[tuple[int, int], np.ndarray] = {}
"""One fp32 scratch tile per weight shape: it stays in cache between the cast and the product."""


def matmul_int8(x: np.ndarray, w_rows: np.ndarray, out: np.ndarray, accumulate: bool) -> None:
    """out (+)= int8 X [m, k] @ W in int32, W given by its columns as int8 rows [n, k].

    W is widened to fp32 in a scratch tile and multiplied by fp32 BLAS: every partial sum of
    a group of EXACT_FP32_ROWS products is an integer of at most 2^24, exact in fp32 in any
    order BLAS adds in, and integer sums of the groups give the same bits in any grouping
    (int32 adds wrap, and wrapping adds are associative). Streaming 1-byte weights and
    widening them in cache beats streaming 4-byte ones.
    """
    wide = _WIDE.get(w_rows.shape)
    if wide is None:
        wide = _WIDE[w_rows.shape] = np.empty(w_rows.shape, np.float32)
    np.copyto(wide, w_rows)
    rows = x.astype(np.float32)
    k = rows.shape[-1]
    for start in range(0, k, EXACT_FP32_ROWS):
        end = start + EXACT_FP32_ROWS
        exact = np.matmul(rows[:, start:end], wide[:, start:end].T)
        if accumulate or start:
            out += exact.astype(np.int32)
        else:
            np.copyto(out, exact, casting="unsafe")


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
