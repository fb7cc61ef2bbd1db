"""Latency against load: a curve over request rates, and the highest rate that meets SLOs."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from fabless.errors import FablessError
from fabless.serving.metrics import ServingMetrics, Slo
from fabless.serving.requests import Request
from fabless.serving.simulate import Deployment, simulate

Rule = Literal["fraction", "p99"]
GOODPUT_FRACTION = 0.99
"""`--rate auto` rule: at least 99% of requests meet both the TTFT and the TPOT SLO."""


def slo_met(metrics: ServingMetrics, slo: Slo, rule: Rule = "fraction") -> bool:
    """"fraction": >= 99% of requests meet both SLOs (`metrics` must be summarised with this
    `slo`); "p99": the p99 TTFT and the p99 TPOT each meet their SLO (MLPerf's Server rule,
    where the two tails may be different requests)."""
    if rule == "p99":
        return metrics.ttft_p99_s <= slo.ttft_s and metrics.tpot_p99_s <= slo.tpot_s
    return metrics.slo_fraction >= GOODPUT_FRACTION


@dataclass(frozen=True)
class CurvePoint:
    rate_per_s: float
    metrics: ServingMetrics


def latency_curve(
    workload: Callable[[float], Sequence[Request]], deployment: Deployment, rates: Sequence[float],
    slo: Slo | None = None,
) -> list[CurvePoint]:
    """Metrics at each offered rate, for a workload that makes requests at a given rate."""
    return [CurvePoint(rate, simulate(workload(rate), deployment, slo).metrics) for rate in rates]


def max_rate(
    workload: Callable[[float], Sequence[Request]], deployment: Deployment, slo: Slo, rule: Rule = "fraction",
    start_per_s: float = 1.0, tolerance: float = 0.02,
) -> CurvePoint:
    """The highest rate that meets the SLOs: doubling to bracket it, then bisection to `tolerance`."""
    def run(rate: float) -> CurvePoint:
        return CurvePoint(rate, simulate(workload(rate), deployment, slo).metrics)

    low: CurvePoint | None = None
    high = run(start_per_s)
    while slo_met(high.metrics, slo, rule):
        low, high = high, run(high.rate_per_s * 2.0)
    while low is None:
        if high.rate_per_s < start_per_s * 1e-4:
            raise FablessError(
                f"no request rate meets TTFT {slo.ttft_s} s and TPOT {slo.tpot_s} s on this deployment: "
                "relax the SLOs or add chips"
            )
        candidate = run(high.rate_per_s / 2.0)
        if slo_met(candidate.metrics, slo, rule):
            low = candidate
        else:
            high = candidate
    while high.rate_per_s - low.rate_per_s > tolerance * low.rate_per_s:
        middle = run((low.rate_per_s + high.rate_per_s) / 2.0)
        if slo_met(middle.metrics, slo, rule):
            low = middle
        else:
            high = middle
    return low
