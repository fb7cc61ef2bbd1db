"""What the performance model returns: plain frozen records that add up."""

from dataclasses import dataclass
from typing import Literal

from fabless.graph.ops import Op

Bound = Literal["compute", "memory", "overhead"]


@dataclass(frozen=True)
class OpTime:
    """One op's time on one chip, summed over its repeats."""

    time_s: float
    compute_s: float
    memory_s: float
    overhead_s: float
    flops: float
    bytes: float

    @property
    def bound(self) -> Bound:
        if self.overhead_s >= max(self.compute_s, self.memory_s):
            return "overhead"
        return "compute" if self.compute_s >= self.memory_s else "memory"


@dataclass(frozen=True)
class GraphTime:
    """A whole forward step: the ops' times and what the step moved and computed."""

    time_s: float
    flops: float
    bytes: float
    peak_flops_per_s: float
    peak_bytes_per_s: float
    ops: tuple[tuple[Op, OpTime], ...]

    @property
    def mxu_utilization(self) -> float:
        """Fraction of the matrix units' peak that the step sustained."""
        return self.flops / (self.peak_flops_per_s * self.time_s) if self.time_s else 0.0

    @property
    def hbm_utilization(self) -> float:
        """Fraction of peak HBM bandwidth that the step sustained."""
        return self.bytes / (self.peak_bytes_per_s * self.time_s) if self.time_s else 0.0


@dataclass(frozen=True)
class Footprint:
    """HBM needed to serve a model at a batch and context, on one chip (or summed over chips)."""

    weight_bytes: float
    kv_cache_bytes: float
    activation_bytes: float

    @property
    def total_bytes(self) -> float:
        return self.weight_bytes + self.kv_cache_bytes + self.activation_bytes


@dataclass(frozen=True)
class ServingEstimate:
    """A request shape served at a fixed batch: latency, throughput and fit."""

    chip: str
    model: str
    batch: int
    input_len: int
    output_len: int
    chips: int
    ttft_s: float
    tpot_s: float
    fits: bool
    max_batch: int
    footprint: Footprint

    @property
    def request_latency_s(self) -> float:
        return self.ttft_s + self.tpot_s * max(self.output_len - 1, 0)

    @property
    def tokens_per_s(self) -> float:
        """Output tokens per second over the whole request (prefill included), all chips."""
        return self.batch * self.output_len / self.request_latency_s

    @property
    def decode_tokens_per_s(self) -> float:
        return self.batch / self.tpot_s
