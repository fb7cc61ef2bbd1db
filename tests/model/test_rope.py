"""RoPE tables against a scalar transcription of Hugging Face's rope init functions."""

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.errors import FablessError
from fabless.model.rope import rope_cos_sin, rope_inverse_frequencies
from fabless.model.zoo import load_model_config


def hf_inv_freq(head_dim: int, theta: float, scaling: dict) -> list[float]:
    """`_compute_default/linear/llama3_parameters` from transformers' modeling_rope_utils, one pair at a time."""
    out = []
    for i in range(0, head_dim, 2):
        f = 1.0 / theta ** (i / head_dim)
        kind = scaling.get("rope_type", scaling.get("type", "default"))
        if kind == "linear":
            f /= scaling["factor"]
        elif kind == "llama3":
            factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
            old = scaling["original_max_position_embeddings"]
            wavelen = 2 * math.pi / f
            if wavelen > old / low:
                f /= factor
            elif wavelen >= old / high:
                smooth = (old / wavelen - low) / (high - low)
                f = (1 - smooth) * f / factor + smooth * f
        out.append(f)
    return out


_LLAMA3 = {
    "rope_type": "llama3",
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192,
}


@settings(max_examples=30, deadline=None)
@given(
    half=st.integers(1, 80),
    theta=st.sampled_from([10000.0, 100000.0, 500000.0]),
    scaling=st.sampled_from(
        [
            {},
            {"type": "linear", "factor": 2.5},
            _LLAMA3,
            {**_LLAMA3, "original_max_position_embeddings": 64, "factor": 4.0},
        ]
    ),
)
def test_inverse_frequencies_match_transformers(half: int, theta: float, scaling: dict) -> None:
    base = load_model_config("smollm2-135m")
    config = replace(base, head_dim=2 * half, rope_theta=theta, rope_scaling=tuple(sorted(scaling.items())))
    np.testing.assert_allclose(rope_inverse_frequencies(config), hf_inv_freq(2 * half, theta, scaling), rtol=1e-6)


def test_llama31_scaling_changes_only_long_wavelengths() -> None:
    config = load_model_config("llama-3.1-405b")
    scaled = rope_inverse_frequencies(config)
    plain = rope_inverse_frequencies(replace(config, rope_scaling=()))
    assert scaled[0] == plain[0] and np.isclose(scaled[-1], plain[-1] / 8)


def test_cos_sin_rotate_by_position_times_frequency() -> None:
    config = load_model_config("smollm2-135m")
    cos, sin = rope_cos_sin(config, np.arange(5))
    angles = np.outer(np.arange(5), hf_inv_freq(64, 100000.0, {}))
    np.testing.assert_allclose(cos, np.cos(angles), atol=1e-6)
    np.testing.assert_allclose(sin, np.sin(angles), atol=1e-6)
    assert cos.dtype == np.float32 and cos.shape == (5, 32)


def test_bad_rope_settings_are_rejected() -> None:
    base = load_model_config("smollm2-135m")
    with pytest.raises(FablessError, match=r"rope_scaling type 'yarn' is not supported"):
        rope_inverse_frequencies(replace(base, rope_scaling=(("rope_type", "yarn"),)))
    with pytest.raises(FablessError, match=r"llama3 rope_scaling lacks 'low_freq_factor'"):
        rope_inverse_frequencies(replace(base, rope_scaling=(("factor", 8.0), ("rope_type", "llama3"))))
    with pytest.raises(FablessError, match=r"RoPE needs an even head_dim, not 7"):
        rope_inverse_frequencies(replace(base, head_dim=7))


def test_rope_table_is_bounded_by_theta_and_positions() -> None:
    base = load_model_config("smollm2-135m")
    for theta in (float("inf"), float("nan"), 1e300, 0.0):
        with pytest.raises(FablessError, match=r"rope_theta must be above 0 and at most 1e\+12"):
            rope_inverse_frequencies(replace(base, rope_theta=theta))
    with pytest.raises(FablessError, match=r"RoPE positions must lie in 0\.\.8191 \(max_position_embeddings\)"):
        rope_cos_sin(base, np.arange(8193))
    with pytest.raises(FablessError, match=r"not -1\.\.0"):
        rope_cos_sin(base, np.array([-1, 0]))
