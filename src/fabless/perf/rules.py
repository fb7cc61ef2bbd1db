"""Per-op cost rules, registered by op type: each turns an op into compute, memory and overhead time."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from fabless.chip.spec import ChipSpec
from fabless.graph.ops import Attention, Cost, Embedding, MatMul, MoeMatMul, Normalize, Op, Pointwise
from fabless.perf.calibration import Efficiency
from fabless.perf.exchange import exchange_latency_s, exchanged_bytes, kv_round_trip_s, program_start_s
from fabless.perf.family import Family
from fabless.perf.fusion import FusedElementwise
from fabless.perf.gpu import GpuFamily, unoverlapped_s
from fabless.perf.results import OpTime
from fabless.perf.systolic import SystolicFamily

FAMILIES: dict[str, Family] = {"gpu": GpuFamily(), "systolic": SystolicFamily()}


@dataclass(frozen=True)
class Target:
    """A chip with its family's matmul model and its efficiency parameters."""

    chip: ChipSpec
    family: Family
    eff: Efficiency
    sustained: bool = False
    """Whole serving steps run long enough to hit the power cap; isolated kernels do not."""

    @property
    def bytes_per_s(self) -> float:
        return self.chip.hbm.bytes_per_s * self.eff.hbm

    @property
    def sram_port_bytes_per_s(self) -> float:
        return self.chip.core.sram.bytes_per_cycle * self.chip.cores * self.chip.clock_hz

    @property
    def vector_ops_per_s(self) -> float:
        return self.chip.peak_vector_ops_per_s * self.eff.vector


# A rule takes its own op type; the registry keys it by that type, so the op is Any here.
CostRule = Callable[[Target, Any, Cost], tuple[float, float]]
_RULES: dict[type, CostRule] = {}


def register_cost_rule(op_type: type) -> Callable[[CostRule], CostRule]:
    """Register the rule giving (compute_s, memory_s) of one instance of `op_type` from its cost."""

    def register(rule: CostRule) -> CostRule:
        _RULES[op_type] = rule
        return rule

    return register


def op_time(target: Target, op: Op, hidden_s: float = 0.0, first: bool = False) -> OpTime:
    """One op summed over its repeats; `hidden_s` is how much of an all-gather's round trip
    after it the next op's independent HBM stream covers (`weight_slack_s`); `first` marks a
    compiled program's first op, which waits for its input (`program_start_s`)."""
    rule = _RULES.get(type(op))
    if rule is None:
        raise TypeError(f"no cost rule for op type {type(op).__name__}")
    once = op.cost_once()
    compute_s, memory_s = rule(target, op, once)
    if target.sustained:
        compute_s /= target.eff.sustained_compute
    elif compute_s > target.eff.boost_window_s:
        # An isolated kernel runs its first `boost_window_s` on the boost clock, the rest capped.
        boost = target.eff.boost_window_s
        compute_s = boost + (compute_s - boost) / target.eff.sustained_compute
    # A compiled multi-core systolic program's HBM round trips (`exchange.py`); none elsewhere.
    exchanged = exchanged_bytes(target.chip, op)
    if exchanged:
        # The all-gather's stores and loads share HBM with the op's own traffic.
        memory_s = max(memory_s, (once.bytes + exchanged) / target.bytes_per_s)
    # Round trips through HBM on the critical path: the new keys' (nothing overlaps it:
    # attention reads the cache after the write lands) and the all-gather's, less what the
    # next op's weight stream, which does not wait for the gathered rows, runs under it.
    latency_s = kv_round_trip_s(target.chip, op) + max(0.0, exchange_latency_s(target.chip, op) - hidden_s)
    if first:
        latency_s += program_start_s(target.chip, op)
    overhead_s = target.eff.kernel_overhead_s + latency_s
    return OpTime(
        time_s=(max(compute_s, memory_s) + overhead_s) * op.repeat,
        compute_s=compute_s * op.repeat,
        memory_s=memory_s * op.repeat,
        overhead_s=overhead_s * op.repeat,
        flops=once.flops * op.repeat,
        bytes=(once.bytes + exchanged) * op.repeat,
    )


def weight_slack_s(target: Target, op: Op, timed: OpTime) -> float:
    """How long one instance of `op` streams weights beyond its compute: the part of its time
    an HBM round trip just before it can run under, since weights do not wait for activations."""
    weights_s = op.cost_once().weight_bytes / target.bytes_per_s
    return max(0.0, weights_s - timed.compute_s / op.repeat)


def _memory_s(target: Target, cost: Cost) -> float:
    """HBM streaming time, or the SRAM ports' if narrower: every byte crosses a port twice,
    written by the DMA that brings it and read by the unit that uses it."""
    return max(cost.bytes / target.bytes_per_s, 2.0 * cost.bytes / target.sram_port_bytes_per_s)


@register_cost_rule(MatMul)
def _matmul(target: Target, op: MatMul, cost: Cost) -> tuple[float, float]:  # type: ignore[misc]
    compute = target.family.matmul_s(target.chip, target.eff, op.m, op.n, op.k, op.compute_dtype)
    return _gpu_overlap(target, compute, _memory_s(target, cost))


@register_cost_rule(MoeMatMul)
def _moe_matmul(target: Target, op: MoeMatMul, cost: Cost) -> tuple[float, float]:  # type: ignore[misc]
    experts = max(1, round(op.experts_touched))
    rows_per_expert = -(-op.routed_rows // experts)
    compute = target.family.matmul_s(
        target.chip, target.eff, rows_per_expert, op.n, op.k, op.compute_dtype, groups=experts
    )
    return _gpu_overlap(target, compute, _memory_s(target, cost))


def _gpu_overlap(target: Target, compute_s: float, memory_s: float) -> tuple[float, float]:
    """A GPU GEMM kernel overlaps its loads and MMAs only in its main loop (`gpu.unoverlapped_s`)."""
    if isinstance(target.family, GpuFamily):
        return unoverlapped_s(target.eff, compute_s, memory_s)
    return compute_s, memory_s


@register_cost_rule(Attention)
def _attention(target: Target, op: Attention, cost: Cost) -> tuple[float, float]:  # type: ignore[misc]
    group = op.heads // op.kv_heads
    full = op.batch * op.heads * op.q_len * op.kv_len
    causal_fraction = op.score_elements / full
    chip = target.chip
    if isinstance(target.family, SystolicFamily) and chip.cores > 1 and op.q_len > 1:
        # A compiled program shares attention over several tokens by query rows: every core
        # runs every KV head on its own MXUs for its share of the rows (`compiler/cores.py`),
        # the shares balanced by the keys they see, so the causal fraction holds for each.
        # A core's heads are a dependent chain (scores, drain, softmax, values, drain), so
        # each pays its own fill and drain.
        one_core = _one_core(target)
        q_share = -(-op.q_len // chip.cores)
        per_head = target.family.attention_s(
            one_core.chip,
            target.eff,
            groups=1,
            q_rows=q_share * group,
            kv_len=op.kv_len,
            head_dim=op.head_dim,
            causal_fraction=causal_fraction,
            dtype=op.compute_dtype,
        ) + _softmax_s(one_core, q_share * group * op.kv_len * causal_fraction)
        return op.batch * op.kv_heads * per_head, _memory_s(target, cost)
    compute = target.family.attention_s(
        chip,
        target.eff,
        groups=op.batch * op.kv_heads,
        q_rows=op.q_len * group,
        kv_len=op.kv_len,
        head_dim=op.head_dim,
        causal_fraction=causal_fraction,
        dtype=op.compute_dtype,
    )
    return compute + _softmax_s(target, op.score_elements), _memory_s(target, cost)


def _one_core(target: Target) -> Target:
    """The target cut to one of its chip's cores."""
    return replace(target, chip=target.chip.model_copy(update={"cores": 1}))


def _softmax_s(target: Target, elements: float) -> float:
    """Five vector ops per score (scale, max, subtract, exp, sum; the divide by the sum rides
    along). A systolic chip's VPU retires one such op per lane per cycle: its
    `ops_per_cycle` counts an FMA twice, and softmax has no FMA to fuse. The GPU family keeps
    the FMA rate its attention efficiency was fitted with."""
    ops = 5.0 * elements
    if isinstance(target.family, SystolicFamily):
        chip = target.chip
        return ops / (chip.core.vector.lanes * chip.cores * chip.clock_hz * target.eff.vector)
    return ops / target.vector_ops_per_s


@register_cost_rule(Normalize)
@register_cost_rule(Pointwise)
@register_cost_rule(FusedElementwise)
def _vector(target: Target, op: Op, cost: Cost) -> tuple[float, float]:
    return cost.flops / target.vector_ops_per_s, _memory_s(target, cost)


@register_cost_rule(Embedding)
def _embedding(target: Target, op: Op, cost: Cost) -> tuple[float, float]:
    return 0.0, _memory_s(target, cost)
