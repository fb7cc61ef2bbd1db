"""The graph IR: typed ops with shapes and dtypes, built from a model config."""

from fabless.graph.builder import decode_graph, encode_graph, prefill_graph
from fabless.graph.ops import (
    Attention,
    Cost,
    Embedding,
    Graph,
    MatMul,
    MoeMatMul,
    Normalize,
    Op,
    Pointwise,
    Tensor,
)

__all__ = [
    "Graph",
    "Op",
    "Cost",
    "Tensor",
    "MatMul",
    "MoeMatMul",
    "Attention",
    "Normalize",
    "Pointwise",
    "Embedding",
    "prefill_graph",
    "decode_graph",
    "encode_graph",
]
