"""The dtypes a model is served in: weights, activations and KV cache."""

from dataclasses import dataclass
from typing import Literal

from fabless.checks import shown
from fabless.chip.spec import DTYPE_BYTES
from fabless.errors import FablessError

WeightDtype = Literal["bf16", "fp8", "int8", "int4"]
ActivationDtype = Literal["bf16", "fp8", "int8"]
_WEIGHTS = ("bf16", "fp8", "int8", "int4")
_ACTIVATIONS = ("bf16", "fp8", "int8")


@dataclass(frozen=True)
class Precision:
    weights: str = "bf16"
    activations: str = "bf16"
    kv_cache: str = "bf16"

    def __post_init__(self) -> None:
        if self.weights not in _WEIGHTS:
            raise FablessError(f"weights dtype {shown(self.weights)} is not one of {', '.join(_WEIGHTS)}")
        for field, value in (("activations", self.activations), ("kv_cache", self.kv_cache)):
            if value not in _ACTIVATIONS:
                raise FablessError(f"{field} dtype {shown(value)} is not one of {', '.join(_ACTIVATIONS)}")

    @classmethod
    def from_options(cls, weights: str, activations: str = "auto", kv_cache: str = "auto") -> "Precision":
        """`auto` follows 8-bit weights into 8-bit math (W8A8, 8-bit KV), else bf16."""
        eight_bit = weights if weights in ("fp8", "int8") else "bf16"
        return cls(
            weights=weights,
            activations=eight_bit if activations == "auto" else activations,
            kv_cache=eight_bit if kv_cache == "auto" else kv_cache,
        )

    @property
    def weight_bytes(self) -> float:
        return DTYPE_BYTES[self.weights]

    @property
    def activation_bytes(self) -> float:
        return DTYPE_BYTES[self.activations]

    @property
    def kv_bytes(self) -> float:
        return DTYPE_BYTES[self.kv_cache]

    @property
    def matmul_dtype(self) -> str:
        """The matrix-unit dtype: 4-bit weights are widened to the activations' dtype."""
        if self.weights == "int4":
            return self.activations
        return self.weights if DTYPE_BYTES[self.weights] >= DTYPE_BYTES[self.activations] else self.activations
