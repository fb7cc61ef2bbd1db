"""The per-chip model of a parallelism plan: what one chip of one pipeline stage computes."""

import math
from dataclasses import replace

from fabless.errors import FablessError
from fabless.model.config import ModelConfig
from fabless.perf import shard_config


def check_shardable(config: ModelConfig, tp: int, pp: int, ep: int) -> None:
    """Raise if the model cannot be split this way (the message names the split and the fix)."""
    if min(tp, pp, ep) < 1:
        raise FablessError(f"parallel degrees must be at least 1 (got tp={tp}, pp={pp}, ep={ep})")
    if config.num_heads % tp:
        raise FablessError(
            f"{config.name}: {config.num_heads} attention heads do not split {tp} ways; "
            "pick a TP degree that divides them"
        )
    kv = config.num_kv_heads
    if kv % tp and tp % kv:
        raise FablessError(
            f"{config.name}: {kv} KV heads neither split {tp} ways nor replicate evenly; pick another TP degree"
        )
    if pp > config.num_layers:
        raise FablessError(f"{config.name}: {pp} pipeline stages exceed its {config.num_layers} layers")
    if ep > 1:
        if not config.is_moe:
            raise FablessError(f"{config.name} has no experts: expert parallelism needs a mixture-of-experts model")
        if config.num_experts % ep or tp % ep:
            raise FablessError(
                f"{config.name}: EP {ep} must divide its {config.num_experts} experts and the TP degree {tp}"
            )


def stage_config(config: ModelConfig, tp: int, pp: int = 1, ep: int = 1) -> ModelConfig:
    """One chip of one pipeline stage.

    Tensor parallelism divides heads, KV heads (a KV head is replicated once there are
    fewer than chips), MLP width and vocabulary by `tp` (the performance model's
    `shard_config`). Pipeline parallelism gives a stage ceil(layers / pp) layers; the
    stage keeps the embedding and the LM head, which is the last stage, the slowest.
    Expert parallelism runs inside the TP group: each chip holds experts / ep whole
    experts, each split tp / ep ways, and sees top_k / ep of each token's experts
    (rounded, at least one: with top_k < ep the chip's expert compute is overcounted).
    """
    check_shardable(config, tp, pp, ep)
    shard = shard_config(config, tp)
    if config.is_moe:
        expert_tp = tp // ep
        shard = replace(
            shard,
            num_experts=config.num_experts // ep,
            experts_per_token=max(1, round(config.experts_per_token / ep)),
            intermediate_size=math.ceil(config.intermediate_size / expert_tp),
        )
    return replace(shard, num_layers=math.ceil(config.num_layers / pp))
