"""The dtypes a compiled model computes in: weight storage, MXU inputs and KV cache."""

from dataclasses import dataclass

from fabless.compiler.quantize import WEIGHT_DTYPES
from fabless.errors import FablessError

ACTIVATION_DTYPES = ("fp32", "bf16", "int16")
KV_DTYPES = ("fp32", "bf16")


@dataclass(frozen=True)
class Numerics:
    """`weights` is the HBM storage dtype; `activations` what the MXU multiplies them with.

    Float weights (fp32, bf16, fp8) meet fp32 or bf16 activations in the MXU's float mode.
    int8 weights take the MXU's exact integer mode: each activation row is scaled to 16
    bits and fed as two int8 slices (high and low byte) whose int32 products the output
    move recombines with the row and channel scales, so activations keep 16-bit precision
    on int8 hardware.
    """

    weights: str = "fp32"
    activations: str = "fp32"
    kv_cache: str = "fp32"
    lm_head: str | None = None
    """Storage dtype of the output projection; None: as `weights`."""

    def __post_init__(self) -> None:
        for field, value, allowed in (
            ("weights", self.weights, WEIGHT_DTYPES),
            ("lm_head", self.weights_of("lm_head"), WEIGHT_DTYPES),
            ("activations", self.activations, ACTIVATION_DTYPES),
            ("kv_cache", self.kv_cache, KV_DTYPES),
        ):
            if value not in allowed:
                raise FablessError(f"{field} dtype {value!r} is not one of {', '.join(allowed)}")
        if (self.weights == "int8") != (self.activations == "int16"):
            raise FablessError(
                f"int8 weights go with int16 activations and only they (got weights "
                f"{self.weights}, activations {self.activations}); use Numerics.for_weights"
            )
        if (self.weights == "int8") != (self.weights_of("lm_head") == "int8"):
            raise FablessError(
                f"lm_head dtype {self.lm_head} cannot differ from int8 weights: int8 matmuls take "
                "int16 activations that float weights cannot; leave lm_head unset"
            )

    @classmethod
    def for_weights(cls, weights: str) -> "Numerics":
        """fp32 computes in fp32 throughout (PyTorch-exact); the rest keep a bf16 KV cache.

        fp8 keeps the output projection in bf16, as FP8 serving recipes do (vLLM and
        llm-compressor leave `lm_head` unquantised): the logits are the most sensitive
        product, and on SmolLM2 an e4m3 lm_head alone costs 5 points of top-1 agreement.
        """
        if weights == "fp32":
            return cls("fp32", "fp32", "fp32")
        if weights == "fp8":
            return cls("fp8", "bf16", "bf16", lm_head="bf16")
        return cls(weights, "int16" if weights == "int8" else "bf16", "bf16")

    def weights_of(self, linear: str) -> str:
        """The storage dtype of projection `linear` (a layout name such as `layers.0.qkv`)."""
        return self.lm_head if linear == "lm_head" and self.lm_head is not None else self.weights

    @property
    def quantized(self) -> bool:
        """Whether the layer weights carry per-output-channel scales."""
        return self.weights in ("int8", "fp8")

    @property
    def float_activations(self) -> str:
        """The float dtype of MXU inputs that are not weights-side (attention probabilities)."""
        return "fp32" if self.activations == "fp32" else "bf16"
