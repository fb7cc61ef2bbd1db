"""The fixed workloads on which the analytical model is held to the cycle simulator.

Each is one transformer layer of a zoo model, or one op of it, at a decode or prefill
shape: GEMMs, attention and whole layers. A single op keeps its name so the compiler
lowers it as it would inside the model (and the layer's graph fuses as the model's does).
"""

from dataclasses import dataclass, replace

from fabless.graph import Graph, decode_graph, prefill_graph
from fabless.model import ModelConfig, Precision, load_model_config

_GLOBAL_OPS = ("embed", "embed_norm", "final_norm", "lm_head")


@dataclass(frozen=True)
class Workload:
    label: str
    model: str
    phase: str
    """`decode`: one token over `tokens` of context; `prefill`: `tokens` prompt tokens."""
    tokens: int
    ops: tuple[str, ...] = ()
    """Graph ops to keep (their names in `fabless.graph`); empty: the whole layer."""

    def build(self, precision: Precision | None = None) -> tuple[ModelConfig, Graph]:
        """The one-layer model config and the graph of the workload (batch 1)."""
        config = replace(load_model_config(self.model), num_layers=1)
        precision = precision or Precision()
        if self.phase == "decode":
            graph = decode_graph(config, precision, 1, self.tokens)
        else:
            graph = prefill_graph(config, precision, 1, self.tokens)
        keep = tuple(op for op in graph.ops if (op.name in self.ops if self.ops else op.name not in _GLOBAL_OPS))
        return config, replace(graph, ops=keep)


AGREEMENT_WORKLOADS = (
    Workload("gemm o_proj decode llama-3-8b", "llama-3-8b", "decode", 1024, ("o_proj",)),
    Workload("gemm down_proj decode llama-3-8b", "llama-3-8b", "decode", 1024, ("down_proj",)),
    Workload("gemm o_proj prefill smollm2 256", "smollm2-135m", "prefill", 256, ("o_proj",)),
    Workload("gemm down_proj prefill smollm2 256", "smollm2-135m", "prefill", 256, ("down_proj",)),
    Workload("attention decode llama-3-8b ctx 1024", "llama-3-8b", "decode", 1024, ("attention",)),
    Workload("attention prefill smollm2 256", "smollm2-135m", "prefill", 256, ("attention",)),
    Workload("layer decode llama-3-8b ctx 1024", "llama-3-8b", "decode", 1024),
    Workload("layer decode smollm2 ctx 512", "smollm2-135m", "decode", 512),
    Workload("layer prefill smollm2 256", "smollm2-135m", "prefill", 256),
)
"""Sized so that the compiler's SRAM-resident activations fit fab1 and the test chips."""
