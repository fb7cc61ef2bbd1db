"""The compiler: graph IR to ISA programs for systolic chips, and a runner on the functional simulator.

`plan_layout` places a model in HBM, `compile_graph` turns one step's graph into a
`Program` from shapes alone, `weight_images` gives the bytes to put in HBM, and
`ChipModel` ties them to the functional simulator to prefill, decode and encode.
"""

from fabless.compiler.codegen import compile_graph, context_bucket
from fabless.compiler.executor import ChipModel
from fabless.compiler.layout import HbmLayout, Region, plan_layout
from fabless.compiler.numerics import Numerics
from fabless.compiler.quantize import QuantizedWeight, quantize_weight
from fabless.compiler.tiling import MatmulTiling, plan_matmul
from fabless.compiler.weights import causal_mask, rope_tables, storage_array, weight_images

__all__ = [
    # compiling
    "compile_graph",
    "context_bucket",
    "Numerics",
    # memory
    "HbmLayout",
    "Region",
    "plan_layout",
    "weight_images",
    "storage_array",
    "rope_tables",
    "causal_mask",
    # tiling and quantisation
    "MatmulTiling",
    "plan_matmul",
    "QuantizedWeight",
    "quantize_weight",
    # running
    "ChipModel",
]
