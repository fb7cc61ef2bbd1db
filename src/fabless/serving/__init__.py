"""Serving: requests, continuous batching over a paged KV cache, and latency metrics."""

from fabless.serving.engine import EngineConfig, EngineRun, run_engine
from fabless.serving.kvcache import PagedKVCache
from fabless.serving.metrics import RequestTimes, ServingMetrics, Slo, meets, summarize
from fabless.serving.requests import Request, offline_requests, poisson_requests
from fabless.serving.simulate import Deployment, Disaggregation, ServingResult, simulate
from fabless.serving.sweep import GOODPUT_FRACTION, CurvePoint, latency_curve, max_rate, slo_met
from fabless.serving.timer import AffineStepTimer, MemoStepTimer, StepTimer, mixed_step_s
from fabless.serving.trace import load_trace

__all__ = [
    # requests
    "Request",
    "poisson_requests",
    "offline_requests",
    "load_trace",
    # step timing
    "StepTimer",
    "AffineStepTimer",
    "MemoStepTimer",
    "mixed_step_s",
    # one instance
    "EngineConfig",
    "EngineRun",
    "PagedKVCache",
    "run_engine",
    # deployments and results
    "Deployment",
    "Disaggregation",
    "ServingResult",
    "simulate",
    "RequestTimes",
    "ServingMetrics",
    "Slo",
    "meets",
    "summarize",
    # load sweeps
    "CurvePoint",
    "latency_curve",
    "max_rate",
    "slo_met",
    "GOODPUT_FRACTION",
]
