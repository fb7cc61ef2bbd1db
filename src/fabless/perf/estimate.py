"""Time a graph on a chip: fuse, price every op by its rule, add up."""

from fabless.checks import whole
from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError
from fabless.graph.builder import decode_graph, encode_graph, prefill_graph
from fabless.graph.ops import Graph, MatMul, Op
from fabless.model.config import ModelConfig
from fabless.model.precision import Precision
from fabless.perf.calibration import Efficiency, efficiency_for
from fabless.perf.fusion import fuse
from fabless.perf.results import GraphTime, OpTime
from fabless.perf.rules import FAMILIES, Target, op_time, weight_slack_s

MAX_SHAPE = 2**32
"""Largest batch, sequence, context or GEMM dimension priced. It bounds shapes, not
deployments: callers price steps as large as a whole KV cache, and every product of
such shapes and model widths stays far inside float range."""


def target_for(chip: ChipSpec, efficiency: Efficiency | None = None, sustained: bool = False) -> Target:
    """The chip with its family model and its calibrated (or the given) efficiencies."""
    return Target(
        chip=chip,
        family=FAMILIES[chip.family],
        eff=efficiency or efficiency_for(chip),
        sustained=sustained,
    )


def estimate_op(chip: ChipSpec, op: Op) -> OpTime:
    """One op, unfused, summed over its repeats."""
    return op_time(target_for(chip), op)


def estimate_gemm(
    chip: ChipSpec, m: int, n: int, k: int, dtype: str = "bf16", efficiency: Efficiency | None = None
) -> OpTime:
    """A plain [m, k] x [k, n] GEMM with both operands and the output in `dtype` in HBM."""
    m, n, k = (whole(name, value, 1, MAX_SHAPE) for name, value in (("m", m), ("n", n), ("k", k)))
    _check_dtype(chip, dtype)
    out = "bf16" if dtype in ("fp8", "int8") else dtype
    op = MatMul(
        name="gemm",
        inputs=("a", "b"),
        output="c",
        m=m,
        n=n,
        k=k,
        x_dtype=dtype,
        w_dtype=dtype,
        out_dtype=out,
        compute_dtype=dtype,
    )
    return op_time(target_for(chip, efficiency), op)


def estimate_graph(chip: ChipSpec, graph: Graph, efficiency: Efficiency | None = None) -> GraphTime:
    """A whole step after fusion, at the sustained (power-capped) compute rate; the flops and
    bytes are the unfused graph's work. On a systolic chip the step is one compiled program,
    so its HBM round trips and its start are charged (`exchange.py`)."""
    target = target_for(chip, efficiency, sustained=True)
    # Backwards, so each op knows how much of its all-gather the next op's weights hide.
    reverse: list[tuple[Op, OpTime]] = []
    hidden_s = 0.0
    fused = fuse(graph.ops)
    for index in reversed(range(len(fused))):
        op = fused[index]
        timed_op = op_time(target, op, hidden_s, first=index == 0)
        reverse.append((op, timed_op))
        hidden_s = weight_slack_s(target, op, timed_op)
    timed = tuple(reversed(reverse))
    cost = graph.cost()
    dtype = next((op.compute_dtype for op in graph.ops if isinstance(op, MatMul)), "bf16")
    return GraphTime(
        time_s=sum(t.time_s for _, t in timed),
        flops=cost.flops,
        bytes=sum(t.bytes for _, t in timed),
        peak_flops_per_s=chip.peak_matrix_ops_per_s(dtype),
        peak_bytes_per_s=chip.hbm.bytes_per_s,
        ops=timed,
    )


def prefill_time(
    chip: ChipSpec,
    config: ModelConfig,
    precision: Precision,
    batch: int,
    seq: int,
    efficiency: Efficiency | None = None,
) -> GraphTime:
    """One prefill step of `batch` prompts of `seq` tokens (an encoder pass for BERT)."""
    batch, seq = whole("batch", batch, 1, MAX_SHAPE), whole("seq", seq, 1, MAX_SHAPE)
    _check_dtype(chip, precision.matmul_dtype)
    if config.family == "bert":
        return estimate_graph(chip, encode_graph(config, precision, batch, seq), efficiency)
    return estimate_graph(chip, prefill_graph(config, precision, batch, seq), efficiency)


def decode_time(
    chip: ChipSpec,
    config: ModelConfig,
    precision: Precision,
    batch: int,
    context: int,
    efficiency: Efficiency | None = None,
) -> GraphTime:
    """One decode step of `batch` sequences holding `context` tokens each."""
    batch, context = whole("batch", batch, 1, MAX_SHAPE), whole("context", context, 1, MAX_SHAPE)
    _check_dtype(chip, precision.matmul_dtype)
    return estimate_graph(chip, decode_graph(config, precision, batch, context), efficiency)


def _check_dtype(chip: ChipSpec, dtype: str) -> None:
    if not chip.supports(dtype):
        supported = ", ".join(chip.core.matrix.ops_per_cycle)
        raise FablessError(f"{chip.name} has no {dtype} matrix math: choose one of {supported}")
