"""Weight quantisation: int8 or fp8 (e4m3) values with one fp32 scale per output channel.

Per-output-channel scales are applied to the matmul's output columns, after accumulation,
so the MXU multiplies the stored 8-bit values exactly and only one rounding (the
quantisation itself) separates the result from the float weights.
"""

from dataclasses import dataclass

import ml_dtypes
import numpy as np

from fabless.errors import FablessError

WEIGHT_DTYPES = ("fp32", "bf16", "fp8", "int8")
"""Storage dtypes the compiler accepts for weights."""

NUMPY_DTYPES: dict[str, np.dtype] = {
    "fp32": np.dtype(np.float32),
    "bf16": np.dtype(ml_dtypes.bfloat16),
    "fp8": np.dtype(ml_dtypes.float8_e4m3fn),
    "int8": np.dtype(np.int8),
}
"""numpy storage dtype of each compiler dtype name."""

_LIMIT = {"int8": 127.0, "fp8": float(ml_dtypes.finfo(ml_dtypes.float8_e4m3fn).max)}


@dataclass(frozen=True)
class QuantizedWeight:
    """`values` in the storage dtype; `scales[c]` multiplies output channel c (None: unscaled)."""

    values: np.ndarray
    scales: np.ndarray | None
    dtype: str

    def dequantize(self, channel_axis: int = 0) -> np.ndarray:
        """The fp32 weight the quantised values stand for."""
        out = self.values.astype(np.float32)
        if self.scales is None:
            return out
        shape = [1] * out.ndim
        shape[channel_axis] = -1
        return out * self.scales.reshape(shape)


def quantize_weight(weight: np.ndarray, dtype: str, channel_axis: int = 0) -> QuantizedWeight:
    """Quantise `weight` to `dtype`, one symmetric scale per index of `channel_axis`.

    int8 rounds to nearest even and saturates at +-127 (so the range stays symmetric);
    fp8 scales each channel's largest magnitude to e4m3's 448 and rounds to nearest even.
    bf16 rounds to nearest even with no scale; fp32 is stored as is.
    """
    if dtype not in WEIGHT_DTYPES:
        raise FablessError(f"weight dtype {dtype!r} is not one of {', '.join(WEIGHT_DTYPES)}")
    w = np.asarray(weight, dtype=np.float32)
    if dtype in ("fp32", "bf16"):
        return QuantizedWeight(w.astype(NUMPY_DTYPES[dtype]), None, dtype)
    reduce_axes = tuple(axis for axis in range(w.ndim) if axis != channel_axis % w.ndim)
    amax = np.max(np.abs(w), axis=reduce_axes)
    scales = np.where(amax > 0, amax / _LIMIT[dtype], 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[channel_axis] = -1
    scaled = w / scales.reshape(shape)
    if dtype == "int8":
        values = np.clip(np.rint(scaled), -127, 127).astype(np.int8)
    else:
        values = np.clip(scaled, -_LIMIT["fp8"], _LIMIT["fp8"]).astype(ml_dtypes.float8_e4m3fn)
    return QuantizedWeight(values, scales, dtype)
