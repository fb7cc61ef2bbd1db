"""Single ops compiled and run on the functional simulator against numpy, over random shapes.

Bounds: fp32 matmuls differ from numpy's fp32 x @ W only by the MXU's 22-bit aligned
operands, at most 2^-20 * k * max|x| * max|w| (docs/isa.md); the int8 path equals, bit for
bit, a numpy emulation of the same slicing, integer products and fp32 scaling; bf16 and
fp8 weights meet numpy's product of the bf16-rounded activations and dequantised weights
within the MXU bound; norms agree with float64 numpy within 1e-5 relative.
"""

import ml_dtypes
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.compiler.numerics import Numerics
from fabless.compiler.quantize import quantize_weight
from fabless.isa import NormKind

SHAPES = dict(m=st.integers(1, 40), k=st.integers(1, 300), n=st.integers(1, 300), seed=st.integers(0, 2**16))
F32 = np.float32


def _mxu_bound(x: np.ndarray, w: np.ndarray) -> float:
    k = x.shape[1]
    return 2.0**-20 * k * float(np.abs(x).max()) * float(np.abs(w).max()) + 1e-30


@settings(max_examples=25, deadline=None)
@given(**SHAPES)
def test_fp32_matmul_matches_numpy(chip, linear_on_chip, m, k, n, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((m, k), F32), rng.standard_normal((n, k), F32), rng.standard_normal(n, F32)
    got = linear_on_chip(chip, Numerics(), x, w, b)
    assert np.abs(got - (x @ w.T + b)).max() <= _mxu_bound(x, w) + 1e-6 * np.abs(b).max()


@settings(max_examples=15, deadline=None)
@given(**SHAPES, weights=st.sampled_from(["bf16", "fp8"]))
def test_float_weight_matmul_matches_dequantised_numpy(chip, linear_on_chip, m, k, n, seed, weights):
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((m, k), F32), rng.standard_normal((n, k), F32)
    got = linear_on_chip(chip, Numerics.for_weights(weights), x, w)
    xb = x.astype(ml_dtypes.bfloat16).astype(F32)
    wq = quantize_weight(w, weights).dequantize()
    assert np.abs(got - xb @ wq.T).max() <= 2 * _mxu_bound(xb, wq)


def _int8_emulation(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The int8 path's arithmetic in numpy: 16-bit row slices, exact integer products."""
    q = quantize_weight(w, "int8")
    s = (np.abs(x).max(axis=1) * F32(1.0 / (127 * 256))).astype(F32)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = (x / s[:, None]).astype(F32)
    hi = np.clip(np.rint(np.nan_to_num((scaled * F32(1 / 256)).astype(F32))), -128, 127)
    lo = np.clip(np.rint(np.nan_to_num((scaled - (hi * 256).astype(F32)).astype(F32))), -128, 127)
    wq = q.values.astype(np.int64).T
    parts = []
    for slice_, scale in ((hi, (s * F32(256)).astype(F32)), (lo, s)):
        acc = (slice_.astype(np.int64) @ wq).astype(F32)
        parts.append(((acc * q.scales[None, :]).astype(F32) * scale[:, None]).astype(F32))
    return (parts[0] + parts[1]).astype(F32)


@settings(max_examples=25, deadline=None)
@given(**SHAPES)
def test_int8_matmul_is_exactly_its_integer_arithmetic(chip, linear_on_chip, m, k, n, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((m, k), F32), rng.standard_normal((n, k), F32)
    x[0] = 0.0  # an all-zero row has scale 0 and must come out as zeros
    got = linear_on_chip(chip, Numerics.for_weights("int8"), x, w)
    assert np.array_equal(got, _int8_emulation(x, w))
    # and 16-bit activations keep it close to the dequantised float product
    wq = quantize_weight(w, "int8").dequantize()
    assert np.abs(got - x @ wq.T).max() <= 2.0**-14 * k * np.abs(x).max() * np.abs(wq).max() + 1e-30


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 40), cols=st.integers(1, 700), seed=st.integers(0, 2**16), layer=st.booleans())
def test_norms_match_numpy(norm_on_chip, rows, cols, seed, layer):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, cols)) * 3 + 1).astype(F32)
    gamma, beta = rng.standard_normal(cols).astype(F32), rng.standard_normal(cols).astype(F32)
    eps = 1e-5
    x64 = x.astype(np.float64)
    if layer:
        centred = x64 - x64.mean(1, keepdims=True)
        want = centred / np.sqrt((centred**2).mean(1, keepdims=True) + eps) * gamma + beta
    else:
        want = x64 / np.sqrt((x64**2).mean(1, keepdims=True) + eps) * gamma
    got = norm_on_chip(NormKind.LAYER if layer else NormKind.RMS, x, gamma, beta, eps)
    scale = np.abs(x64).max() / np.sqrt((x64**2).mean(1, keepdims=True) + eps).min() * np.abs(gamma).max()
    assert np.abs(got - want).max() <= 1e-5 * scale + 1e-5 * np.abs(beta).max()
