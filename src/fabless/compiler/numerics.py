"""The dtypes a compiled model computes in: weight storage, activations and KV cache."""

from dataclasses import dataclass

from fabless.compiler.quantize import WEIGHT_DTYPES
from fabless.errors import FablessError

ACTIVATION_DTYPES = ("fp32", "bf16", "fp8")


@dataclass(frozen=True)
class Numerics:
    """`weights` is the HBM storage dtype; the MXU multiplies in `activations`' dtype.

    8-bit weights under bf16 activations are widened exactly to bf16 on the way into the
    MXU (weight-only quantisation: HBM traffic drops, math stays bf16); fp8 activations
    need fp8 weights so that both MXU operands are fp8.
    """

    weights: str = "fp32"
    activations: str = "fp32"
    kv_cache: str = "fp32"

    def __post_init__(self) -> None:
        if self.weights not in WEIGHT_DTYPES:
            raise FablessError(
                f"weights dtype {self.weights!r} is not one of {', '.join(WEIGHT_DTYPES)}"
            )
        for field, value in (("activations", self.activations), ("kv_cache", self.kv_cache)):
            if value not in ACTIVATION_DTYPES:
                raise FablessError(
                    f"{field} dtype {value!r} is not one of {', '.join(ACTIVATION_DTYPES)}"
                )
        if self.activations == "fp8" and self.weights != "fp8":
            raise FablessError(
                f"fp8 activations need fp8 weights (got {self.weights}); pass --weights fp8"
            )
        if self.activations == "fp32" and self.weights != "fp32":
            raise FablessError(
                f"fp32 activations need fp32 weights (got {self.weights}); use bf16 activations"
            )

    @classmethod
    def for_weights(cls, weights: str) -> "Numerics":
        """fp32 weights compute in fp32 (exact against PyTorch); anything else in bf16."""
        activations = "fp32" if weights == "fp32" else "bf16"
        return cls(weights=weights, activations=activations, kv_cache=activations)

    @property
    def quantized(self) -> bool:
        """Whether weights carry per-output-channel scales."""
        return self.weights in ("int8", "fp8")
