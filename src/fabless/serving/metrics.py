"""What users feel: TTFT and TPOT percentiles, throughput, and goodput against SLOs."""

from dataclasses import asdict, dataclass

import numpy as np

from fabless.checks import MAX_SLO_S, real


@dataclass(frozen=True)
class Slo:
    """Service-level objectives on each request's time to first token and time per output token."""

    ttft_s: float
    tpot_s: float

    def __post_init__(self) -> None:
        # An infinite SLO is met at every rate, so a rate search against it would never end.
        object.__setattr__(self, "ttft_s", real("ttft_s", self.ttft_s, 0.0, MAX_SLO_S, above=True))
        object.__setattr__(self, "tpot_s", real("tpot_s", self.tpot_s, 0.0, MAX_SLO_S, above=True))


@dataclass(frozen=True)
class RequestTimes:
    """Per-request records of a simulation, aligned by request."""

    arrival_s: np.ndarray
    first_token_s: np.ndarray
    finish_s: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    preemptions: np.ndarray

    @property
    def ttft_s(self) -> np.ndarray:
        return self.first_token_s - self.arrival_s

    @property
    def tpot_s(self) -> np.ndarray:
        """(finish - first token) / (output tokens - 1), MLPerf's definition; 0 for one-token answers."""
        gaps = np.maximum(self.output_tokens - 1, 1)
        return np.where(self.output_tokens > 1, (self.finish_s - self.first_token_s) / gaps, 0.0)

    @property
    def latency_s(self) -> np.ndarray:
        return self.finish_s - self.arrival_s


@dataclass(frozen=True)
class ServingMetrics:
    requests: int
    duration_s: float
    ttft_p50_s: float
    ttft_p90_s: float
    ttft_p99_s: float
    tpot_p50_s: float
    tpot_p90_s: float
    tpot_p99_s: float
    output_tokens_per_s: float
    requests_per_s: float
    goodput_requests_per_s: float
    slo_fraction: float
    """Share of requests that met both SLOs (1.0 when no SLO was given)."""
    preemptions: int
    mean_batch: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def summarize(times: RequestTimes, slo: Slo | None = None, mean_batch: float = 0.0) -> ServingMetrics:
    """Metrics over the whole run: from the first arrival to the last token."""
    count = len(times.arrival_s)
    duration = float(np.max(times.finish_s) - np.min(times.arrival_s))
    ttft, tpot = times.ttft_s, times.tpot_s
    met = meets(times, slo)
    per_s = 1.0 / duration if duration > 0 else 0.0
    return ServingMetrics(
        requests=count,
        duration_s=duration,
        ttft_p50_s=_pct(ttft, 50),
        ttft_p90_s=_pct(ttft, 90),
        ttft_p99_s=_pct(ttft, 99),
        tpot_p50_s=_pct(tpot, 50),
        tpot_p90_s=_pct(tpot, 90),
        tpot_p99_s=_pct(tpot, 99),
        output_tokens_per_s=float(np.sum(times.output_tokens)) * per_s,
        requests_per_s=count * per_s,
        goodput_requests_per_s=float(np.sum(met)) * per_s,
        slo_fraction=float(np.mean(met)),
        preemptions=int(np.sum(times.preemptions)),
        mean_batch=mean_batch,
    )


def meets(times: RequestTimes, slo: Slo | None) -> np.ndarray:
    """Which requests met both SLOs."""
    if slo is None:
        return np.ones(len(times.arrival_s), dtype=bool)
    return (times.ttft_s <= slo.ttft_s) & (times.tpot_s <= slo.tpot_s)


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q))
