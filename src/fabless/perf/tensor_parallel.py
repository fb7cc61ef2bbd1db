"""Tensor parallelism inside one scale-up domain, as `fabless compare` needs it.

A TP shard of a layer is a narrower layer: heads, KV heads (replicated once there are
fewer than chips), MLP width and vocabulary divide by the degree. Each layer then
all-reduces its attention and MLP outputs over the chips' links with a ring.
"""

from dataclasses import replace

from fabless.checks import MAX_CHIPS, real, whole
from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError
from fabless.model.config import ModelConfig
from fabless.perf.calibration import Efficiency, efficiency_for


def shard_config(config: ModelConfig, degree: int) -> ModelConfig:
    """The per-chip model of a `degree`-way tensor-parallel split."""
    if whole("chips", degree, 1, MAX_CHIPS) == 1:
        return config
    return replace(
        config,
        num_heads=max(1, config.num_heads // degree),
        num_kv_heads=max(1, config.num_kv_heads // degree),
        intermediate_size=-(-config.intermediate_size // degree),
        vocab_size=-(-config.vocab_size // degree),
    )


def allreduce_s(chip: ChipSpec, message_bytes: float, degree: int, efficiency: Efficiency | None = None) -> float:
    """Ring all-reduce of `message_bytes` over `degree` chips: 2(N-1)/N of the data each way."""
    real("message_bytes", message_bytes, 0.0, 1e18)
    if whole("chips", degree, 1, MAX_CHIPS) == 1:
        return 0.0
    eff = efficiency or efficiency_for(chip)
    bandwidth = chip.links.bytes_per_s_per_direction * eff.link
    if bandwidth <= 0:
        raise FablessError(
            f"{chip.name} has no chip-to-chip bandwidth (links.count {chip.links.count}, "
            f"links.gb_s_per_direction {chip.links.gb_s_per_direction:g}): it cannot share a model over "
            f"{degree} chips; give it links or pick a model that fits one chip"
        )
    return eff.allreduce_latency_s + 2.0 * (degree - 1) / degree * message_bytes / bandwidth


def tp_collectives_s(
    chip: ChipSpec,
    config: ModelConfig,
    tokens: int,
    activation_bytes: float,
    degree: int,
    efficiency: Efficiency | None = None,
) -> float:
    """Two all-reduces of the [tokens, hidden] activation per layer (after attention and after the MLP)."""
    message = tokens * config.hidden_size * activation_bytes
    return 2 * config.num_layers * allreduce_s(chip, message, degree, efficiency)
