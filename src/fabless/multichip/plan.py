"""Parallelism plans over N chips and what each chip must hold."""

import math
from dataclasses import dataclass

from fabless.checks import MAX_BATCH, MAX_CHIPS, MAX_STEP_TOKENS, whole
from fabless.chip.spec import DTYPE_BYTES, ChipSpec
from fabless.errors import FablessError
from fabless.model.config import ModelConfig
from fabless.model.precision import Precision
from fabless.multichip.shard import check_shardable, stage_config
from fabless.perf import HBM_USABLE_FRACTION, memory_footprint


@dataclass(frozen=True)
class ParallelPlan:
    """Tensor x pipeline parallel chips per model replica, `dp` replicas; EP inside the TP group."""

    tp: int = 1
    pp: int = 1
    dp: int = 1
    ep: int = 1

    def __post_init__(self) -> None:
        for name in ("tp", "pp", "dp", "ep"):
            whole(name, getattr(self, name), 1, MAX_CHIPS)
        if self.chips > MAX_CHIPS:
            raise FablessError(f"{self.describe()} is {self.chips:,} chips, more than the {MAX_CHIPS:,} a plan may use")

    @property
    def chips_per_replica(self) -> int:
        return self.tp * self.pp

    @property
    def chips(self) -> int:
        return self.tp * self.pp * self.dp

    def describe(self) -> str:
        text = f"TP{self.tp} x PP{self.pp} x DP{self.dp}"
        return text + (f" (EP{self.ep})" if self.ep > 1 else "")


@dataclass(frozen=True)
class ChipMemory:
    """HBM of one chip under a plan, for a step of at most `step_tokens` tokens."""

    capacity_bytes: float
    weight_bytes: float
    activation_bytes: float
    kv_bytes_per_token: float

    @property
    def kv_bytes(self) -> float:
        """What is left for the KV cache after weights and step activations."""
        return max(0.0, self.capacity_bytes - self.weight_bytes - self.activation_bytes)

    @property
    def kv_capacity_tokens(self) -> int:
        """Tokens of KV cache a model replica holds (each chip holds its share of every token)."""
        return int(self.kv_bytes // self.kv_bytes_per_token)

    @property
    def fits(self) -> bool:
        return self.weight_bytes + self.activation_bytes < self.capacity_bytes


def chip_memory(
    chip: ChipSpec, config: ModelConfig, precision: Precision, plan: ParallelPlan, step_tokens: int, batch: int
) -> ChipMemory:
    """Weights of one stage shard, activations of the largest step, the rest for KV.

    Usable HBM is the performance model's share (HBM_USABLE_FRACTION) of the capacity.
    Activations are those of a `step_tokens`-token step on the shard plus fp32 logits of
    `batch` sequences (the performance model's footprint, taken on the shard).
    """
    whole("step_tokens", step_tokens, 1, MAX_STEP_TOKENS)
    whole("batch", batch, 1, MAX_BATCH)
    check_shardable(config, plan.tp, plan.pp, plan.ep)
    shard = stage_config(config, plan.tp, plan.pp, plan.ep)
    footprint = memory_footprint(shard, precision, 1, step_tokens)
    logits = (batch - 1) * shard.vocab_size * DTYPE_BYTES["fp32"]
    return ChipMemory(
        capacity_bytes=chip.hbm.capacity_bytes * HBM_USABLE_FRACTION,
        weight_bytes=footprint.weight_bytes,
        activation_bytes=footprint.activation_bytes + max(0, logits),
        kv_bytes_per_token=shard.kv_cache_bytes_per_token(precision.kv_bytes),
    )


def candidate_plans(config: ModelConfig, chips: int, max_tp: int | None = None) -> list[ParallelPlan]:
    """Every plan of power-of-two degrees on exactly `chips` chips that the model can be split by."""
    whole("chips", chips, 1, MAX_CHIPS)
    if max_tp is not None:
        whole("max_tp", max_tp, 1, MAX_CHIPS)
    plans = []
    for tp in _powers_of_two(chips):
        if max_tp is not None and tp > max_tp:
            continue
        for pp in _powers_of_two(chips // tp):
            if chips % (tp * pp):
                continue
            dp = chips // (tp * pp)
            eps = [ep for ep in _powers_of_two(tp) if config.is_moe or ep == 1]
            for ep in eps:
                try:
                    check_shardable(config, tp, pp, ep)
                except FablessError:
                    continue
                plans.append(ParallelPlan(tp=tp, pp=pp, dp=dp, ep=ep))
    return plans


def _powers_of_two(limit: int) -> list[int]:
    return [1 << i for i in range(int(math.log2(limit)) + 1)] if limit >= 1 else []
