"""Rotary position embedding tables, as Hugging Face Llama builds them (rotate-half layout).

Each head's vector is split into two halves (x, y); pair i rotates by position x inv_freq[i].
The compiler and the numpy reference both take their tables from here, so they agree.
"""

import math

import numpy as np

from fabless.checks import shown
from fabless.errors import FablessError
from fabless.model.config import ModelConfig
from fabless.model.hf_config import LLAMA3_KEYS, MAX_ROPE_THETA, ROPE_KINDS


def rope_inverse_frequencies(config: ModelConfig) -> np.ndarray:
    """inv_freq [head_dim / 2] in radians per position, with `default`, `linear` or `llama3` scaling."""
    if not (math.isfinite(config.rope_theta) and 0 < config.rope_theta <= MAX_ROPE_THETA):
        raise FablessError(
            f"model {config.name}: rope_theta must be above 0 and at most {MAX_ROPE_THETA:g} "
            f"(got {config.rope_theta!r})"
        )
    if config.head_dim % 2:
        raise FablessError(f"model {config.name}: RoPE needs an even head_dim, not {config.head_dim}")
    exponents = np.arange(0, config.head_dim, 2, dtype=np.float64) / config.head_dim
    inv_freq = 1.0 / config.rope_theta**exponents
    scaling = dict(config.rope_scaling)
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "linear":
        inv_freq = inv_freq / float(scaling["factor"])
    elif kind == "llama3":
        missing = [key for key in LLAMA3_KEYS if key not in scaling]
        if missing:
            raise FablessError(f"model {config.name}: llama3 rope_scaling lacks {missing[0]!r}; fix config.json")
        inv_freq = _llama3(inv_freq, *(float(scaling[key]) for key in LLAMA3_KEYS))
    elif kind != "default":
        raise FablessError(
            f"model {config.name}: rope_scaling type {shown(kind)} is not supported ({', '.join(ROPE_KINDS)}); "
            "use a model without it"
        )
    return inv_freq.astype(np.float32)


def rope_cos_sin(config: ModelConfig, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin [len(positions), head_dim / 2] in float32, angles formed in float32 as HF does."""
    # The table grows with the positions asked for, so they are held to what the model can see.
    if len(positions) and not (0 <= positions.min() and positions.max() < config.max_positions):
        raise FablessError(
            f"model {config.name}: RoPE positions must lie in 0..{config.max_positions - 1} "
            f"(max_position_embeddings), not {positions.min()}..{positions.max()}"
        )
    angles = positions.astype(np.float32)[:, None] * rope_inverse_frequencies(config)[None, :]
    return np.cos(angles), np.sin(angles)


def _llama3(inv_freq: np.ndarray, factor: float, low: float, high: float, original: float) -> np.ndarray:
    """Llama 3.1's scaling: long wavelengths slowed by `factor`, short kept, a smooth ramp between."""
    wavelength = 2 * np.pi / inv_freq
    smooth = (original / wavelength - low) / (high - low)
    ramp = (1 - smooth) * inv_freq / factor + smooth * inv_freq
    scaled = np.where(wavelength > original / low, inv_freq / factor, inv_freq)
    medium = (wavelength >= original / high) & (wavelength <= original / low)
    return np.where(medium, ramp, scaled)
