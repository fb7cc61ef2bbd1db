"""Weight quantisation: per-output-channel scales, bounded error, exact storage dtypes."""

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.compiler.numerics import Numerics
from fabless.compiler.quantize import quantize_weight
from fabless.errors import FablessError


@settings(max_examples=40, deadline=None)
@given(
    out=st.integers(1, 40),
    inp=st.integers(1, 40),
    seed=st.integers(0, 2**16),
    spread=st.floats(1e-3, 1e3),
)
def test_int8_rounds_to_within_half_a_step_per_channel(out, inp, seed, spread):
    w = (np.random.default_rng(seed).standard_normal((out, inp)) * spread).astype(np.float32)
    q = quantize_weight(w, "int8")
    assert q.values.dtype == np.int8 and q.scales.shape == (out,)
    assert np.abs(q.values).max() <= 127
    error = np.abs(q.dequantize() - w)
    assert np.all(error <= q.scales[:, None] * (0.5 + 1e-3))


@settings(max_examples=40, deadline=None)
@given(out=st.integers(1, 40), inp=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_fp8_keeps_three_mantissa_bits(out, inp, seed):
    w = np.random.default_rng(seed).standard_normal((out, inp)).astype(np.float32)
    q = quantize_weight(w, "fp8")
    assert q.values.dtype == ml_dtypes.float8_e4m3fn
    # e4m3 rounds to 3 mantissa bits: relative error 2^-4, plus its subnormal step near zero
    bound = np.abs(w) * 2.0**-4 + q.scales[:, None] * 2.0**-10
    assert np.all(np.abs(q.dequantize() - w) <= bound)


def test_channel_of_zeros_gets_unit_scale_and_zero_values():
    q = quantize_weight(np.zeros((2, 3), np.float32), "int8")
    assert np.array_equal(q.scales, np.ones(2, np.float32)) and not q.values.any()


def test_scales_follow_the_channel_axis():
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert quantize_weight(w, "int8", channel_axis=1).scales.shape == (4,)


def test_bf16_and_fp32_carry_no_scales():
    w = np.float32([[1.0, 1.0 + 2.0**-10]])
    assert quantize_weight(w, "bf16").scales is None
    assert quantize_weight(w, "bf16").values.astype(np.float32)[0, 1] == 1.0
    assert np.array_equal(quantize_weight(w, "fp32").values, w)


def test_unknown_weight_dtype_is_an_error():
    with pytest.raises(FablessError, match="weight dtype 'int4' is not one of fp32, bf16, fp8, int8"):
        quantize_weight(np.zeros((1, 1), np.float32), "int4")


def test_int8_weights_pair_with_int16_activations():
    with pytest.raises(FablessError, match="int8 weights go with int16 activations and only they"):
        Numerics(weights="int8", activations="bf16", kv_cache="bf16")
    assert Numerics.for_weights("int8") == Numerics("int8", "int16", "bf16")
    assert Numerics.for_weights("fp8") == Numerics("fp8", "bf16", "bf16", lm_head="bf16")


def test_fp8_keeps_lm_head_in_bf16_and_int8_cannot():
    numerics = Numerics.for_weights("fp8")
    assert (numerics.weights_of("layers.0.qkv"), numerics.weights_of("lm_head")) == ("fp8", "bf16")
    with pytest.raises(FablessError, match="lm_head dtype bf16 cannot differ from int8 weights"):
        Numerics("int8", "int16", "bf16", lm_head="bf16")
