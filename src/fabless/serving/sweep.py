"""Latency against load: a curve over request rates, and the highest rate that meets SLOs."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from fabless.checks import real, shown
from fabless.errors import FablessError
from fabless.serving.metrics import ServingMetrics, Slo
from fabless.serving.requests import MAX_RATE_PER_S, Request
from fabless.serving.simulate import Deployment, simulate

Rule = Literal["fraction", "p99"]
GOODPUT_FRACTION = 0.99
"""`--rate auto` rule: at least 99% of requests meet both the TTFT and the TPOT SLO."""
MIN_START_PER_S = 1e-3
"""The lowest rate a search may start from: one request every 17 minutes."""


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
    checked = [real("rate_per_s", rate, 0.0, MAX_RATE_PER_S, above=True) for rate in rates]
    return [CurvePoint(rate, simulate(workload(rate), deployment, slo).metrics) for rate in checked]


def max_rate(
    workload: Callable[[float], Sequence[Request]], deployment: Deployment, slo: Slo, rule: Rule = "fraction",
    start_per_s: float = 1.0, tolerance: float = 0.02,
) -> CurvePoint:
    """The highest rate that meets the SLOs: doubling to bracket it, then bisection to `tolerance`.

    Every phase is bounded: doubling stops at MAX_RATE_PER_S (SLOs met even there are an
    error: they bound nothing), halving at 1/10,000 of the start, and bisection of a
    factor-2 bracket to a relative `tolerance` >= 1e-6 takes at most 20 runs.
    """
    if rule not in get_args(Rule):
        raise FablessError(f"rule: must be one of {', '.join(get_args(Rule))} (got {shown(rule)})")
    start_per_s = real("start_per_s", start_per_s, MIN_START_PER_S, MAX_RATE_PER_S)
    tolerance = real("tolerance", tolerance, 1e-6, 1.0)

    def run(rate: float) -> CurvePoint:
        return CurvePoint(rate, simulate(workload(rate), deployment, slo).metrics)

    low: CurvePoint | None = None
    high = run(start_per_s)
    while slo_met(high.metrics, slo, rule):
        if high.rate_per_s * 2.0 > MAX_RATE_PER_S:
            raise FablessError(
                f"TTFT {slo.ttft_s} s and TPOT {slo.tpot_s} s are met even at {high.rate_per_s:,.0f} requests/s, "
                "so they bound no rate: tighten the SLOs or give a fixed rate"
            )
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
