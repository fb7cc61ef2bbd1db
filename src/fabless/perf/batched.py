"""`estimate_serving` and `phase_time_s` over a batch of systolic designs at once.

A design-space search prices thousands of designs per workload. The graph of a step does
not depend on the chip, so it is built and fused once per (model, precision, phase, batch,
length) and each op's rule runs over every design as numpy arrays (`batched_rules.py`).
Designs that need different tensor-parallel groups, or are asked about different batches,
are priced in groups that share a graph. The results are the scalar model's, design by
design (to 1e-9 relative; tests/perf/test_batched.py). GPUs are not vectorised: their
tile search has no array form worth its code, and a search varies systolic designs.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fabless.checks import MAX_BATCH, MAX_CHIPS, whole
from fabless.chip.spec import DTYPE_BYTES
from fabless.errors import FablessError
from fabless.graph.builder import decode_graph, encode_graph, prefill_graph
from fabless.model.config import ModelConfig
from fabless.model.precision import Precision
from fabless.perf.batched_rules import Plan, graph_time_s, plan_graph, stack_plans
from fabless.perf.designs import Array, SystolicDesigns
from fabless.perf.estimate import MAX_SHAPE
from fabless.perf.memory import PREFILL_CHUNK_TOKENS, activation_elements_per_token, memory_footprint
from fabless.perf.serving import PHASES, check_request_shape
from fabless.perf.tensor_parallel import shard_config


@dataclass(frozen=True, eq=False)
class BatchedServing:
    """`ServingEstimate` for every design: arrays of shape (designs,). Where no group of up to
    MAX_CHIPS chips holds the model (the scalar model raises there) `chips` is 0, `fits` is
    False and the times are NaN."""

    batch: Array
    input_len: int
    output_len: int
    chips: Array
    ttft_s: Array
    tpot_s: Array
    fits: Array
    max_batch: Array
    weight_bytes: float
    kv_cache_bytes: Array
    activation_bytes: Array

    @property
    def request_latency_s(self) -> Array:
        return self.ttft_s + self.tpot_s * max(self.output_len - 1, 0)

    @property
    def tokens_per_s(self) -> Array:
        """Output tokens per second over the whole request (prefill included), all chips."""
        return self.batch * self.output_len / self.request_latency_s

    @property
    def decode_tokens_per_s(self) -> Array:
        return self.batch / self.tpot_s


def serving_estimates(
    designs: SystolicDesigns,
    config: ModelConfig,
    precision: Precision,
    batch: int | Array,
    input_len: int,
    output_len: int,
    chips: int | None = None,
) -> BatchedServing:
    """`estimate_serving` for every design; `batch` is one batch or one per design."""
    batches = _per_design("batch", batch, MAX_BATCH, len(designs))
    check_request_shape(config, input_len, output_len)
    if chips is not None:
        whole("chips", chips, 1, MAX_CHIPS)
    if config.family == "bert":
        raise FablessError(f"model {config.name} is an encoder: serve it with prefill estimates, not decode")
    _check_dtype(designs, precision.matmul_dtype)
    context = input_len + output_len
    weight, kv, act = _footprints(config, precision, batches, context)
    degree = _chips_needed(designs, weight, kv, act) if chips is None else np.full(len(designs), chips)
    held = degree > 0
    ttft = np.full(len(designs), np.nan)
    tpot = np.full(len(designs), np.nan)
    index = np.nonzero(held)[0]
    if len(index):
        priced = designs if len(index) == len(designs) else designs.take(index)
        args = (priced, config, precision)
        ttft[index] = phase_times_s(*args, "prefill", batches[index], input_len, degree[index])
        tpot[index] = phase_times_s(*args, "decode", batches[index], input_len + output_len // 2, degree[index])
    group = np.maximum(degree, 1)
    return BatchedServing(
        batch=batches,
        input_len=input_len,
        output_len=output_len,
        chips=degree,
        ttft_s=ttft,
        tpot_s=tpot,
        fits=held & _fits(designs, weight, kv, act, group),
        max_batch=np.where(held, _max_batch(designs, config, precision, context, group), 0),
        weight_bytes=weight,
        kv_cache_bytes=kv,
        activation_bytes=act,
    )


def phase_times_s(
    designs: SystolicDesigns,
    config: ModelConfig,
    precision: Precision,
    phase: str,
    batch: int | Array,
    length: int,
    chips: int | Array,
) -> Array:
    """`phase_time_s` for every design; `batch` and `chips` are one value or one per design."""
    if phase not in PHASES:
        raise FablessError(f"phase: must be prefill or decode (got {phase!r})")
    batches = _per_design("batch", batch, MAX_SHAPE, len(designs))
    degrees = _per_design("chips", chips, MAX_CHIPS, len(designs))
    length = whole("length", length, 1, MAX_SHAPE)
    _check_dtype(designs, precision.matmul_dtype)
    unique, inverse = np.unique(degrees, return_inverse=True)
    if len(unique) == 1:
        return _phase_s(designs, config, precision, phase, batches, length, int(unique[0]))
    out = np.empty(len(designs))
    for group, degree in enumerate(unique):
        index = np.nonzero(inverse == group)[0]
        out[index] = _phase_s(designs.take(index), config, precision, phase, batches[index], length, int(degree))
    return out


def _phase_s(
    designs: SystolicDesigns,
    config: ModelConfig,
    precision: Precision,
    phase: str,
    batch: Array,
    length: int,
    chips: int,
) -> Array:
    """`serving.phase_time_s` on designs that share a TP degree, each at its own batch."""
    eff = designs.efficiency
    step = graph_time_s(designs, _stacked_plan(shard_config(config, chips), precision, phase, batch, length))
    tokens = batch * length if phase == "prefill" else batch
    overhead = eff["step_overhead_s"] + batch * eff["sequence_overhead_s"]
    residual_bytes = max(precision.activation_bytes, 2.0)
    collectives: Array | float = 0.0
    if chips > 1:
        # tensor_parallel.tp_collectives_s: two ring all-reduces per layer.
        message = tokens * config.hidden_size * residual_bytes
        bandwidth = designs.link_bytes_per_s * eff["link"]
        with np.errstate(divide="ignore"):
            allreduce = eff["allreduce_latency_s"] + 2.0 * (chips - 1) / chips * message / bandwidth
        collectives = 2 * config.num_layers * allreduce
    return step + overhead + collectives


def _stacked_plan(config: ModelConfig, precision: Precision, phase: str, batch: Array, length: int) -> Plan:
    """One plan over the designs, each at its batch: the graphs of the distinct batches, stacked."""
    unique, inverse = np.unique(batch, return_inverse=True)
    plans = [_plan(config, precision, phase, int(b), length) for b in unique]
    if len(plans) == 1:
        return plans[0]
    if any(plan.signature != plans[0].signature for plan in plans):
        raise AssertionError(f"{config.name} {phase} graphs differ in structure between batches")
    return stack_plans(plans, inverse)


@lru_cache(maxsize=4096)
def _plan(config: ModelConfig, precision: Precision, phase: str, batch: int, length: int) -> Plan:
    if phase == "decode":
        return plan_graph(decode_graph(config, precision, batch, length))
    if config.family == "bert":
        return plan_graph(encode_graph(config, precision, batch, length))
    return plan_graph(prefill_graph(config, precision, batch, length))


def _per_design(name: str, value: int | Array, high: int, designs: int) -> Array:
    """`value` (one whole number, or one per design) as an int64 array of shape (designs,)."""
    if np.ndim(value) == 0:
        return np.full(designs, whole(name, value if isinstance(value, int) else np.asarray(value).item(), 1, high))
    array = np.asarray(value)
    if array.shape != (designs,) or array.dtype.kind not in "iu":
        raise FablessError(f"{name}: must be one whole number or {designs} of them, one per design")
    if array.size and (array.min() < 1 or array.max() > high):
        bad = array[(array < 1) | (array > high)][0]
        whole(name, int(bad), 1, high)
    return array.astype(np.int64)


def _check_dtype(designs: SystolicDesigns, dtype: str) -> None:
    lacking = np.nonzero(~designs.supports(dtype))[0]
    if len(lacking):
        i = int(lacking[0])
        raise FablessError(f"design {i} ({designs.names[i]}) has no {dtype} matrix math: choose another precision")


def _footprints(config: ModelConfig, precision: Precision, batch: Array, context: int) -> tuple[float, Array, Array]:
    """`memory_footprint` at each batch: weight bytes, and KV and activation bytes per batch.
    Over the few distinct batches asked for, the scalar function itself; `_footprint_arrays`
    where a search needs any batch (`_max_batch`)."""
    unique, inverse = np.unique(batch, return_inverse=True)
    prints = [memory_footprint(config, precision, int(b), context) for b in unique]
    kv = np.array([p.kv_cache_bytes for p in prints])[inverse]
    act = np.array([p.activation_bytes for p in prints])[inverse]
    return prints[0].weight_bytes, kv, act


def _footprint_arrays(config: ModelConfig, precision: Precision, batch: Array, context: int) -> tuple[Array, Array]:
    """KV and activation bytes of `memory.memory_footprint` over an array of batches."""
    tokens = batch * context
    kv = tokens * config.kv_cache_bytes_per_token(precision.kv_bytes)
    act_tokens = np.minimum(tokens, PREFILL_CHUNK_TOKENS)
    act_elements = act_tokens * activation_elements_per_token(config)
    act = act_elements * precision.activation_bytes + batch * config.vocab_size * DTYPE_BYTES["fp32"]
    return kv, act


def _fits(designs: SystolicDesigns, weight: float, kv: Array, act: Array, chips: Array) -> Array:
    """`memory.fits` per design."""
    return (weight + kv) / chips + act / chips <= designs.usable_hbm_bytes


def _chips_needed(designs: SystolicDesigns, weight: float, kv: Array, act: Array) -> Array:
    """`memory.chips_needed` per design: the smallest power of two that fits, 0 past MAX_CHIPS."""
    needed = np.zeros(len(designs), dtype=np.int64)
    chips = 1
    while chips <= MAX_CHIPS:
        open_ = needed == 0
        if not open_.any():
            break
        needed[open_ & _fits(designs, weight, kv, act, np.full(len(designs), chips))] = chips
        chips *= 2
    return needed


def _max_batch(
    designs: SystolicDesigns, config: ModelConfig, precision: Precision, context: int, chips: Array
) -> Array:
    """`memory.max_batch` per design: the largest batch up to MAX_BATCH that fits on `chips`.
    Fit only falls as the batch grows, so a bisection over all designs at once finds the
    batch the scalar doubling-then-bisection finds."""
    weight = memory_footprint(config, precision, 1, context).weight_bytes

    def fits_at(batch: Array) -> Array:
        kv, act = _footprint_arrays(config, precision, batch, context)
        return _fits(designs, weight, kv, act, chips)

    low = np.ones(len(designs), dtype=np.int64)
    high = np.full(len(designs), MAX_BATCH + 1, dtype=np.int64)
    while (high - low > 1).any():
        mid = (low + high) // 2
        ok = fits_at(mid)
        low, high = np.where(ok, mid, low), np.where(ok, high, mid)
    return np.where(fits_at(np.ones(len(designs), dtype=np.int64)), low, 0)
