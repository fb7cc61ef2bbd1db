"""Find the parallelism plan that serves a model within a TPOT SLO on the fewest chips.

Each plan is priced in steady state, the way the serving engine runs it: a replica
running `batch` sequences decodes each every step, and a new prompt arrives every
output_tokens / batch steps to replace a finished sequence; the prompt rides along in
the next k = ceil(input / (step budget - batch)) steps as chunks. So a share
min(1, batch k / output) of the steps carry a chunk, the rest only decode, and the mean
step time is the TPOT; the replica's throughput is batch / TPOT. The largest batch whose TPOT meets the SLO and whose KV
cache (every sequence at its full input + output length) fits is the plan's operating
point. The cheapest chip count with any feasible plan wins; among its plans, the one
with the highest throughput.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from fabless.checks import MAX_BATCH, MAX_CHIPS, MAX_SLO_S, MAX_STEP_TOKENS, real, whole
from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError
from fabless.model.config import ModelConfig
from fabless.model.precision import Precision
from fabless.multichip.plan import ChipMemory, ParallelPlan, candidate_plans, chip_memory
from fabless.multichip.step import ShardedStepTimer
from fabless.perf.serving import check_request_shape
from fabless.serving.timer import MemoStepTimer, mixed_step_s

DEFAULT_CHIP_COUNTS = tuple(1 << i for i in range(13))


@dataclass(frozen=True)
class PlanChoice:
    plan: ParallelPlan
    memory: ChipMemory
    batch: int
    """Sequences per replica at the operating point."""
    tpot_s: float
    ttft_s: float
    """One prompt's prefill on an idle replica (no queueing)."""
    output_tokens_per_s: float
    """All replicas together."""

    @property
    def tokens_per_s_per_chip(self) -> float:
        return self.output_tokens_per_s / self.plan.chips


def evaluate_plan(
    chip: ChipSpec, config: ModelConfig, precision: Precision, plan: ParallelPlan, input_tokens: int,
    output_tokens: int, slo_tpot_s: float, max_batch: int = 1024, step_tokens: int = 8192,
) -> PlanChoice | None:
    """The plan's operating point, or None if not even one sequence meets the SLO or fits."""
    _check_shape(config, input_tokens, output_tokens, slo_tpot_s, max_batch, step_tokens)
    memory = chip_memory(chip, config, precision, plan, step_tokens, max_batch)
    if not memory.fits:
        return None
    per_sequence = input_tokens + output_tokens
    batch_cap = min(max_batch, memory.kv_capacity_tokens // per_sequence)
    if batch_cap < 1:
        return None
    sharded = ShardedStepTimer(chip, config, precision, plan)
    timer = MemoStepTimer(sharded)
    context = input_tokens + output_tokens // 2

    def tpot(batch: int) -> float:
        budget = step_tokens - batch
        if budget < 1:
            return math.inf
        steps_per_prompt = math.ceil(input_tokens / budget)
        chunk = math.ceil(input_tokens / steps_per_prompt)
        share = batch * steps_per_prompt / output_tokens
        if share >= 1.0:
            # Prompts overlap: every step carries the prompt tokens of batch / output requests.
            prompts = math.ceil(batch * input_tokens / output_tokens)
            return mixed_step_s(timer, prompts, math.ceil(prompts / chunk), batch, context)
        mixed = mixed_step_s(timer, chunk, 1, batch, context)
        return share * mixed + (1.0 - share) * timer.decode_s(batch, context)

    if tpot(1) > slo_tpot_s:
        return None
    low, high = 1, batch_cap
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if tpot(middle) <= slo_tpot_s else (low, middle - 1)
    step = tpot(low)
    return PlanChoice(
        plan=plan, memory=memory, batch=low, tpot_s=step, ttft_s=sharded.lone_prefill_s(input_tokens),
        output_tokens_per_s=plan.dp * low / step,
    )


def search_plans(
    chip: ChipSpec, config: ModelConfig, precision: Precision, input_tokens: int, output_tokens: int,
    slo_tpot_s: float, chip_counts: Iterable[int] = DEFAULT_CHIP_COUNTS, max_batch: int = 1024,
    step_tokens: int = 8192, slo_ttft_s: float | None = None,
) -> list[PlanChoice]:
    """Feasible plans on the cheapest chip count that has any, best throughput first."""
    _check_shape(config, input_tokens, output_tokens, slo_tpot_s, max_batch, step_tokens)
    counts = [whole("chip count", chips, 1, MAX_CHIPS) for chips in chip_counts]
    if not counts:
        raise FablessError("chip_counts: give at least one chip count to try")
    if slo_ttft_s is not None:
        real("slo_ttft_s", slo_ttft_s, 0.0, MAX_SLO_S, above=True)
    for chips in counts:
        choices = []
        for plan in candidate_plans(config, chips, max_tp=chip.links.domain_chips):
            choice = evaluate_plan(chip, config, precision, plan, input_tokens, output_tokens, slo_tpot_s,
                                   max_batch, step_tokens)
            if choice is not None and (slo_ttft_s is None or choice.ttft_s <= slo_ttft_s):
                choices.append(choice)
        if choices:
            return sorted(choices, key=lambda c: -c.output_tokens_per_s)
    raise FablessError(
        f"no plan of up to {chips} {chip.name} chips serves {config.name} within TPOT {slo_tpot_s} s: "
        "relax the SLO, use a smaller precision or allow more chips"
    )


def _check_shape(
    config: ModelConfig, input_tokens: int, output_tokens: int, slo_tpot_s: float, max_batch: int, step_tokens: int,
) -> None:
    check_request_shape(config, input_tokens, output_tokens, ("input_tokens", "output_tokens"))
    real("slo_tpot_s", slo_tpot_s, 0.0, MAX_SLO_S, above=True)
    whole("max_batch", max_batch, 1, MAX_BATCH)
    whole("step_tokens", step_tokens, 1, MAX_STEP_TOKENS)
