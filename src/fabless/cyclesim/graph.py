"""Cycle estimates of graph IR steps: compile from shapes alone, then simulate."""

from fabless.chip.spec import ChipSpec
from fabless.compiler import Numerics, compile_graph, plan_layout
from fabless.cyclesim.report import CycleReport
from fabless.cyclesim.simulator import simulate
from fabless.errors import FablessError
from fabless.graph.ops import Graph, MatMul
from fabless.isa import Program
from fabless.model import ModelConfig, load_model_config


def compile_for_timing(chip: ChipSpec, graph: Graph, config: ModelConfig | None = None) -> Program:
    """The compiler's program for `graph` (batch 1), laid out for exactly its context.

    The compiler's numerics follow the graph's weight dtype (`Numerics.for_weights`);
    `config` defaults to the zoo model the graph names.
    """
    config = config or load_model_config(graph.model)
    weights = next((op.w_dtype for op in graph.ops if isinstance(op, MatMul)), "bf16")
    if weights == "int4":
        raise FablessError("the compiler has no int4 weights: time int8, fp8 or bf16 weights instead")
    layout = plan_layout(config, Numerics.for_weights(weights), max_context=graph.kv_len)
    return compile_graph(chip, graph, layout)


def cycle_estimate_graph(
    chip: ChipSpec,
    graph: Graph,
    *,
    config: ModelConfig | None = None,
    weight_buffers: int | None = None,
    record: bool = False,
) -> CycleReport:
    """Compile `graph` for `chip` and time it cycle by cycle (no weights needed).

    The counterpart of `fabless.perf.estimate_graph` at cycle fidelity; `record=True`
    keeps the timeline for `write_trace`.
    """
    program = compile_for_timing(chip, graph, config)
    return simulate(chip, program, weight_buffers=weight_buffers, record=record)
