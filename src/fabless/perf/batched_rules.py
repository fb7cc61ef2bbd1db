"""The systolic family's cost rules over a batch of designs: `rules.py`, `systolic.py` and
`exchange.py` with every chip number an array over designs.

The arithmetic is the scalar model's, operation for operation and in the same order, so a
design priced here gets the floats `estimate_graph` gives it (tests/perf/test_batched.py
holds the two to 1e-9 relative on random designs). A graph is fused and its numbers taken
once (`plan_graph`); the plans of several batches stack into arrays (`stack_plans`), so
designs asked about different batches are priced together; only the rules run per design.
A change to a systolic rule must be made in both places; the test fails until it is.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from fabless.chip.memory_system import memory_system
from fabless.graph.ops import Attention, Embedding, Graph, MatMul, MoeMatMul, Normalize, Op, Pointwise
from fabless.perf.designs import Array, SystolicDesigns
from fabless.perf.exchange import attends_kv_cache, exchanged_output_bytes, waits_for_program_input
from fabless.perf.fusion import FusedElementwise, fuse

BatchedRule = Callable[[SystolicDesigns, Any, "_Numbers"], Array]
"""Compute time of one instance of an op on every design (memory time is shared)."""
BATCHED_RULES: dict[type, BatchedRule] = {}


def _rule(*op_types: type) -> Callable[[BatchedRule], BatchedRule]:
    def register(rule: BatchedRule) -> BatchedRule:
        for op_type in op_types:
            BATCHED_RULES[op_type] = rule
        return rule

    return register


@dataclass(frozen=True)
class PlannedOp:
    """A fused op: its structure, and where its numbers sit in its plan's `numbers`."""

    op: Op
    """Read only for what no batch changes (dtypes, widths, heads, lengths, repeat)."""
    columns: dict[str, int]
    kv_round_trip: bool
    waits_for_input: bool


@dataclass(frozen=True, eq=False)
class Plan:
    """A fused graph: its ops, and every number of theirs a batch changes, in one array, so
    the plans of many batches stack into one (designs, numbers) array (`stack_plans`)."""

    ops: tuple[PlannedOp, ...]
    numbers: Array
    signature: tuple[tuple[str, str, int], ...]
    """Op types, names and repeats: plans with the same signature stack."""


def plan_graph(graph: Graph) -> Plan:
    """The graph fused as `estimate_graph` fuses it, each op's numbers taken once."""
    planned: list[PlannedOp] = []
    numbers: list[float] = []
    for op in fuse(graph.ops):
        if type(op) not in BATCHED_RULES:
            raise TypeError(f"no batched cost rule for op type {type(op).__name__}")
        once = op.cost_once()
        values = {
            "bytes": once.bytes,
            "flops": once.flops,
            "weight_bytes": once.weight_bytes,
            "exchanged": exchanged_output_bytes(op),
            **_shape(op),
        }
        columns = {name: len(numbers) + i for i, name in enumerate(values)}
        numbers.extend(values.values())
        planned.append(PlannedOp(op, columns, attends_kv_cache(op), waits_for_program_input(op)))
    signature = tuple((type(p.op).__name__, p.op.name, p.op.repeat) for p in planned)
    array = np.array(numbers, dtype=np.float64)
    array.setflags(write=False)  # plans are cached and shared
    return Plan(tuple(planned), array, signature)


def stack_plans(plans: list[Plan], which: Array) -> Plan:
    """One plan whose numbers are `plans[which[i]]`'s for design i; all share a signature."""
    return Plan(plans[0].ops, np.stack([plan.numbers for plan in plans])[which], plans[0].signature)


def _shape(op: Op) -> dict[str, float]:
    """The numbers of `op` its rule reads that depend on the batch."""
    if isinstance(op, MatMul):
        return {"m": op.m}
    if isinstance(op, MoeMatMul):
        experts = max(1, round(op.experts_touched))
        return {"m": -(-op.routed_rows // experts), "groups": experts}
    if isinstance(op, Attention):
        full = op.batch * op.heads * op.q_len * op.kv_len
        return {"batch": op.batch, "causal_fraction": op.score_elements / full, "score_elements": op.score_elements}
    return {}


class _Numbers:
    """One op's numbers from a plan: a float each, or an array over designs once stacked."""

    def __init__(self, numbers: Array, planned: PlannedOp) -> None:
        self._numbers, self._columns = numbers, planned.columns

    def __getitem__(self, name: str) -> Array:
        return self._numbers[..., self._columns[name]]


def graph_time_s(designs: SystolicDesigns, plan: Plan) -> Array:
    """`estimate_graph(chip, graph).time_s` for every design, from `plan_graph(graph)`."""
    latency = memory_system().hbm_latency_s
    eff = designs.efficiency
    hbm = designs.hbm_effective_bytes_per_s
    multi_core = designs.cores > 1
    times: list[Array] = []
    hidden_s: Array | float = 0.0
    ops = plan.ops
    # Backwards, as estimate_graph goes: each op learns how much of its all-gather's round
    # trip the next op's weight stream hides.
    for index in reversed(range(len(ops))):
        planned = ops[index]
        op, values = planned.op, _Numbers(plan.numbers, planned)
        compute_s = BATCHED_RULES[type(op)](designs, op, values) / eff["sustained_compute"]
        bytes_ = values["bytes"]
        memory_s = _memory_s(designs, bytes_)
        exchange_s: Array | float = 0.0
        exchanged = values["exchanged"]
        if np.any(exchanged):
            gathers = multi_core & (exchanged != 0)
            gathered = exchanged * (1 + designs.cores)
            memory_s = np.where(gathers, np.maximum(memory_s, (bytes_ + gathered) / hbm), memory_s)
            exchange_s = np.where(gathers, 2.0 * latency, 0.0)
        latency_s = (2.0 * latency if planned.kv_round_trip else 0.0) + np.maximum(0.0, exchange_s - hidden_s)
        if index == 0 and planned.waits_for_input:
            latency_s = latency_s + latency
        overhead_s = eff["kernel_overhead_s"] + latency_s
        times.append((np.maximum(compute_s, memory_s) + overhead_s) * op.repeat)
        # `* repeat / repeat` is not a no-op in floats: it rounds as the scalar `weight_slack_s` does
        # (`timed.compute_s / op.repeat`), which keeps the two paths bit-identical.
        hidden_s = np.maximum(0.0, values["weight_bytes"] / hbm - compute_s * op.repeat / op.repeat)
    total: Array = sum(reversed(times))  # type: ignore[assignment]
    return total


def _memory_s(designs: SystolicDesigns, bytes_: Array | float) -> Array:
    return np.maximum(bytes_ / designs.hbm_effective_bytes_per_s, 2.0 * bytes_ / designs.sram_port_bytes_per_s)


def _rows_per_cycle(designs: SystolicDesigns, dtype: str) -> Array:
    ops = designs.mxu_ops_per_cycle["int8" if dtype == "int4" else dtype]
    return ops / (2.0 * designs.mxu_rows * designs.mxu_cols)


def _matmul_efficiency(designs: SystolicDesigns, dtype: str) -> Array:
    """`Efficiency.matmul_for` over designs."""
    return designs.efficiency["matmul_fp8" if dtype in ("fp8", "int8") else "matmul"]


def _cycles(
    d: SystolicDesigns,
    m: Array | int,
    n: int,
    k: int,
    groups: Array | int,
    tile_fraction: Array | float,
    rows_per_cycle: Array,
    matrix_units: Array,
    drain_per_block: bool = False,
) -> Array:
    """`SystolicFamily._cycles` over designs (see systolic.py for the schedule it prices)."""
    rows, cols = d.mxu_rows, d.mxu_cols
    m_block = np.minimum(m, d.accumulator_rows)
    m_blocks = np.ceil(m / m_block)
    blocks = groups * m_blocks * np.ceil(n / cols) * tile_fraction
    blocks_per_unit = np.ceil(blocks / matrix_units)
    k_tiles = np.ceil(k / rows)
    per_unit = blocks_per_unit * k_tiles
    load = np.minimum(k, rows)
    stream = m_block / rows_per_cycle
    store = m_block
    step = np.maximum(stream, load)
    if drain_per_block:
        per_block = load + np.maximum(0, k_tiles - 1) * step + stream + rows + cols + store
        double = blocks_per_unit * per_block
    else:
        double = load + np.maximum(0, per_unit - 1) * step + stream + rows + cols + store
    single = per_unit * (load + stream + rows + cols) + store
    return np.where(d.weight_buffers > 1, double, single)


def _matmul_s(d: SystolicDesigns, m: Array, n: int, k: int, dtype: str, groups: Array | int = 1) -> Array:
    cycles = _cycles(d, m, n, k, groups, 1.0, _rows_per_cycle(d, dtype), d.matrix_units, drain_per_block=True)
    return cycles / (d.clock_hz * _matmul_efficiency(d, dtype))


@_rule(MatMul)
def _matmul(d: SystolicDesigns, op: MatMul, values: _Numbers) -> Array:
    return _matmul_s(d, values["m"], op.n, op.k, op.compute_dtype)


@_rule(MoeMatMul)
def _moe_matmul(d: SystolicDesigns, op: MoeMatMul, values: _Numbers) -> Array:
    # m is the rows routed to each expert touched, groups the experts touched.
    return _matmul_s(d, values["m"], op.n, op.k, op.compute_dtype, groups=values["groups"])


@_rule(Attention)
def _attention(d: SystolicDesigns, op: Attention, values: _Numbers) -> Array:
    """`rules._attention` for a systolic chip: a multi-core prefill shares query rows over the
    cores, each running every KV head; otherwise the heads spread over all MXUs."""
    group = op.heads // op.kv_heads
    batch, causal_fraction = values["batch"], values["causal_fraction"]
    rate = _rows_per_cycle(d, op.compute_dtype)
    vector = d.efficiency["vector"]

    def attention_s(matrix_units: Array, groups: Array | int, q_rows: Array | int) -> Array:
        scores = _cycles(d, q_rows, op.kv_len, op.head_dim, groups, causal_fraction, rate, matrix_units)
        values = _cycles(d, q_rows, op.head_dim, op.kv_len, groups, causal_fraction, rate, matrix_units)
        return (scores + values) / (d.clock_hz * d.efficiency["attention"])

    softmax_s = 5.0 * values["score_elements"] / (d.vector_lanes * d.cores * d.clock_hz * vector)
    spread = attention_s(d.matrix_units, batch * op.kv_heads, op.q_len * group) + softmax_s
    if op.q_len == 1:
        return spread
    q_share = -np.floor_divide(-op.q_len, d.cores)
    one_core_softmax_s = (
        5.0 * (q_share * group * op.kv_len * causal_fraction) / (d.vector_lanes * 1 * d.clock_hz * vector)
    )
    per_head = attention_s(d.mxu_count, 1, q_share * group) + one_core_softmax_s
    return np.where(d.cores > 1, batch * op.kv_heads * per_head, spread)


@_rule(Normalize, Pointwise, FusedElementwise)
def _vector(d: SystolicDesigns, op: Op, values: _Numbers) -> Array:
    return values["flops"] / d.vector_ops_per_s


@_rule(Embedding)
def _embedding(d: SystolicDesigns, op: Op, values: _Numbers) -> Array:
    return np.zeros(len(d))
