"""The analytical performance model: any chip, any graph, microseconds per estimate."""

from typing import TYPE_CHECKING, Any

from fabless.perf.calibration import Efficiency, efficiency_for
from fabless.perf.estimate import decode_time, estimate_gemm, estimate_graph, estimate_op, prefill_time
from fabless.perf.memory import HBM_USABLE_FRACTION, chips_needed, fits, max_batch, memory_footprint
from fabless.perf.results import Footprint, GraphTime, OpTime, ServingEstimate
from fabless.perf.serving import estimate_serving, phase_time_s
from fabless.perf.tensor_parallel import allreduce_s, shard_config

if TYPE_CHECKING:
    from fabless.perf.batched import BatchedServing, phase_times_s, serving_estimates
    from fabless.perf.designs import SystolicDesigns

# The batched evaluator needs numpy, which the scalar model and the commands built on it
# do not: it is imported on first use, so `import fabless.perf` stays light.
_LAZY = {
    "SystolicDesigns": "fabless.perf.designs",
    "serving_estimates": "fabless.perf.batched",
    "phase_times_s": "fabless.perf.batched",
    "BatchedServing": "fabless.perf.batched",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "estimate_op",
    "estimate_gemm",
    "estimate_graph",
    "prefill_time",
    "decode_time",
    "estimate_serving",
    "phase_time_s",
    "SystolicDesigns",
    "serving_estimates",
    "phase_times_s",
    "BatchedServing",
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
