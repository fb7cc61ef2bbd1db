"""The compiler: graph IR to ISA programs for systolic chips (tiling, HBM layout, quantisation)."""

from fabless.compiler.layout import HbmLayout, Region, plan_layout
from fabless.compiler.numerics import Numerics
from fabless.compiler.quantize import QuantizedWeight, quantize_weight
from fabless.compiler.tiling import MatmulTiling, plan_matmul
from fabless.compiler.weights import rope_tables, weight_images

__all__ = [
    "Numerics",
    "HbmLayout",
    "Region",
    "plan_layout",
    "weight_images",
    "rope_tables",
    "MatmulTiling",
    "plan_matmul",
    "QuantizedWeight",
    "quantize_weight",
]
