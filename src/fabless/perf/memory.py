"""Does a model fit: weights, KV cache and activations against HBM."""

from fabless.checks import MAX_BATCH, MAX_CHIPS, whole
from fabless.chip.spec import DTYPE_BYTES, ChipSpec
from fabless.errors import FablessError
from fabless.model.config import ModelConfig
from fabless.model.precision import Precision
from fabless.perf.estimate import MAX_SHAPE
from fabless.perf.results import Footprint

HBM_USABLE_FRACTION = 0.9
"""Share of HBM a serving engine gives to weights, KV and activations: vLLM's default
gpu_memory_utilization (0.9, vLLM docs 2025); the rest is runtime, CUDA graphs, fragmentation."""

PREFILL_CHUNK_TOKENS = 8192
"""Tokens a serving engine pushes through one forward pass at most: vLLM's
max_num_batched_tokens with chunked prefill (8192 on data-centre GPUs, vLLM docs 2025).
Activations are live only for those, never for the whole batch's context."""

_INT4_SCALE_BYTES_PER_WEIGHT = 2 / 128
"""Group-wise int4 (AWQ/GPTQ, group 128) stores a 16-bit scale per group."""


def memory_footprint(config: ModelConfig, precision: Precision, batch: int, context: int) -> Footprint:
    """HBM for `batch` sequences of `context` tokens, on one chip holding the whole model."""
    batch, context = whole("batch", batch, 1, MAX_SHAPE), whole("context", context, 1, MAX_SHAPE)
    weight_bytes = config.params * precision.weight_bytes
    if precision.weights == "int4":
        weight_bytes += config.params * _INT4_SCALE_BYTES_PER_WEIGHT
    kv = batch * context * config.kv_cache_bytes_per_token(precision.kv_bytes)
    # Peak live activations of a prefill step: residual, normed input, QKV, MLP intermediate,
    # plus fp32 logits of the last positions.
    act_tokens = min(batch * context, PREFILL_CHUNK_TOKENS)
    act_elements = act_tokens * activation_elements_per_token(config)
    activations = act_elements * precision.activation_bytes + batch * config.vocab_size * DTYPE_BYTES["fp32"]
    return Footprint(weight_bytes=weight_bytes, kv_cache_bytes=kv, activation_bytes=activations)


def activation_elements_per_token(config: ModelConfig) -> int:
    """Live activation elements per prefill token: residual, normed input, QKV, MLP intermediate."""
    return (
        3 * config.hidden_size
        + config.q_size
        + 2 * config.kv_size
        + 2 * config.intermediate_size * config.experts_per_token
    )


def usable_hbm_bytes(chip: ChipSpec) -> float:
    return chip.hbm.capacity_bytes * HBM_USABLE_FRACTION


def fits(chip: ChipSpec, footprint: Footprint, chips: int = 1) -> bool:
    """Weights and KV split evenly over `chips` (tensor parallel); activations are per chip."""
    whole("chips", chips, 1, MAX_CHIPS)
    per_chip = (footprint.weight_bytes + footprint.kv_cache_bytes) / chips + footprint.activation_bytes / chips
    return per_chip <= usable_hbm_bytes(chip)


def chips_needed(chip: ChipSpec, config: ModelConfig, precision: Precision, batch: int, context: int) -> int:
    """The smallest power-of-two tensor-parallel group whose HBM holds the model at this batch."""
    footprint = memory_footprint(config, precision, batch, context)
    chips = 1
    while not fits(chip, footprint, chips):
        chips *= 2
        if chips > MAX_CHIPS:
            raise FablessError(
                f"{config.name} at batch {batch} and {context:,} tokens per sequence needs more than "
                f"{MAX_CHIPS:,} {chip.name} chips: lower the batch or the context"
            )
    return chips


def max_batch(chip: ChipSpec, config: ModelConfig, precision: Precision, context: int, chips: int = 1) -> int:
    """The largest batch of `context`-token sequences that fits on `chips` chips (0 if none),
    at most MAX_BATCH."""
    if not fits(chip, memory_footprint(config, precision, 1, context), chips):
        return 0
    low, high = 1, 2
    while fits(chip, memory_footprint(config, precision, high, context), chips):
        low, high = high, high * 2
        if high > MAX_BATCH:
            return low
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if fits(chip, memory_footprint(config, precision, mid, context), chips) else (low, mid)
    return low
