"""The analytical performance model: any chip, any graph, microseconds per estimate."""

from fabless.perf.calibration import Efficiency, efficiency_for
from fabless.perf.estimate import decode_time, estimate_gemm, estimate_graph, estimate_op, prefill_time
from fabless.perf.memory import HBM_USABLE_FRACTION, chips_needed, fits, max_batch, memory_footprint
from fabless.perf.results import Footprint, GraphTime, OpTime, ServingEstimate
from fabless.perf.serving import estimate_serving, phase_time_s
from fabless.perf.tensor_parallel import allreduce_s, shard_config

__all__ = [
    "estimate_op",
    "estimate_gemm",
    "estimate_graph",
    "prefill_time",
    "decode_time",
    "estimate_serving",
    "phase_time_s",
    "memory_footprint",
    "chips_needed",
    "max_batch",
    "fits",
    "HBM_USABLE_FRACTION",
    "shard_config",
    "allreduce_s",
    "Efficiency",
    "efficiency_for",
    "OpTime",
    "GraphTime",
    "Footprint",
    "ServingEstimate",
]
