"""The few efficiency parameters that turn peak rates into achieved ones, per family or chip."""

import math
import tomllib
from dataclasses import dataclass, fields, replace
from functools import cache
from importlib import resources

from fabless.chip.spec import ChipSpec

_DATA = resources.files("fabless") / "data" / "calibration"


@dataclass(frozen=True)
class Efficiency:
    matmul: float
    """Fraction of dense peak a large, well-shaped matmul sustains (16-bit inputs)."""
    matmul_fp8: float
    """The same for 8-bit inputs, which run closer to the power cap."""
    attention: float
    """Fraction of matmul peak a fused (flash) prefill attention kernel sustains."""
    hbm: float
    """Fraction of peak HBM bandwidth a long streaming kernel reaches."""
    vector: float
    """Fraction of peak vector throughput elementwise kernels reach when compute-bound."""
    kernel_overhead_s: float
    """Fixed cost of each kernel (launch, prologue, epilogue, tail)."""
    sustained_compute: float
    """Fraction of the isolated-kernel compute rate that whole serving steps sustain (power cap)."""
    step_overhead_s: float
    """Fixed cost of each serving step outside the kernels: scheduling, sampling, host sync."""
    sequence_overhead_s: float
    """Cost of each sequence in a serving step outside the kernels' flops and bytes: the engine's
    per-sequence scheduling, input and block-table preparation, sampling and output handling."""
    link: float
    """Fraction of link bandwidth a large collective reaches."""
    allreduce_latency_s: float
    """Fixed cost of one all-reduce over a scale-up domain (the alpha term)."""
    streamk: float = 0.0
    """GPU: fraction of a data-parallel tile's rate a stream-K schedule of the same tile sustains
    (its partial-tile fix-ups); 0 where the GEMM library has no stream-K."""
    gemm_overlap_loss: float = 0.0
    """GPU: fraction of the shorter of a GEMM's compute and HBM stream that does not overlap the other."""
    boost_window_s: float = math.inf
    """How long a kernel run back to back runs on the boost clock before the power cap holds it at
    `sustained_compute`; infinite where no measurement shows the boost end (the isolated rate holds)."""

    def matmul_for(self, dtype: str) -> float:
        return self.matmul_fp8 if dtype in ("fp8", "int8") else self.matmul


_FIELDS = {f.name for f in fields(Efficiency)}


@cache
def _tables() -> tuple[dict, dict]:
    """Family defaults (hand-written) and per-chip fits (written by scripts/calibrate.py)."""
    fitted = _DATA / "fitted.toml"
    return (
        tomllib.loads((_DATA / "efficiency.toml").read_text()),
        tomllib.loads(fitted.read_text()) if fitted.is_file() else {},
    )


@cache
def family_efficiency(family: str) -> Efficiency:
    """The hand-written defaults of a chip family, before any fit."""
    defaults, _ = _tables()
    return Efficiency(**{k: v for k, v in defaults["family"][family].items() if k in _FIELDS})


@cache
def _efficiency(family: str, chip_name: str) -> Efficiency:
    _, fitted = _tables()
    overrides = {k: v for k, v in fitted.get("chip", {}).get(chip_name, {}).items() if k in _FIELDS}
    return replace(family_efficiency(family), **overrides)


def efficiency_for(chip: ChipSpec) -> Efficiency:
    """The family defaults with any parameters fitted for this chip on top."""
    return _efficiency(chip.family, chip.name)
