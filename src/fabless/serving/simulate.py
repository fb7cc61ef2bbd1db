"""Serve a request stream on a deployment: replicas of an engine, optionally disaggregated."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from fabless.checks import MAX_CHIPS, whole
from fabless.errors import FablessError
from fabless.serving.engine import EngineConfig, EngineRun, check_requests, run_engine
from fabless.serving.metrics import RequestTimes, ServingMetrics, Slo, summarize
from fabless.serving.requests import Request
from fabless.serving.timer import MemoStepTimer, StepTimer


@dataclass(frozen=True)
class Disaggregation:
    """A separate pool of prefill instances; the decode instances only decode.

    `kv_transfer_s(input_tokens)` is the time to move a prompt's KV cache from a prefill
    instance to a decode instance over the network. The prefill pool does not wait for
    room in the decode pool (no back-pressure): a request whose KV has arrived queues at
    its decode instance until that instance has blocks and batch room for it.
    """

    timer: StepTimer
    engine: EngineConfig
    replicas: int
    kv_transfer_s: Callable[[int], float]


@dataclass(frozen=True)
class Deployment:
    """`replicas` identical instances (data parallel) behind a round-robin router."""

    timer: StepTimer
    engine: EngineConfig
    replicas: int = 1
    disaggregation: Disaggregation | None = None

    def __post_init__(self) -> None:
        whole("replicas", self.replicas, 1, MAX_CHIPS)
        if self.disaggregation is not None:
            whole("disaggregation.replicas", self.disaggregation.replicas, 1, MAX_CHIPS)


@dataclass(frozen=True)
class ServingResult:
    times: RequestTimes
    metrics: ServingMetrics
    steps: int


def simulate(requests: Sequence[Request], deployment: Deployment, slo: Slo | None = None) -> ServingResult:
    """Serve `requests`; the router sends the i-th arrival to replica i mod replicas."""
    check_requests(requests)
    ordered = sorted(requests, key=lambda r: r.arrival_s)
    arrival = np.array([r.arrival_s for r in ordered])
    inputs = np.array([r.input_tokens for r in ordered], dtype=np.int64)
    outputs = np.array([r.output_tokens for r in ordered], dtype=np.int64)
    disagg = deployment.disaggregation
    steps = 0
    preemptions = np.zeros(len(ordered), dtype=np.int64)
    if disagg is None:
        first, finish, run_steps, batch_time, busy = _pool(ordered, deployment.timer, deployment.engine,
                                                           deployment.replicas, preemptions)
        steps += run_steps
    else:
        prefill_engine = replace(disagg.engine, mode="prefill")
        first, _, prefill_steps, _, _ = _pool(ordered, disagg.timer, prefill_engine, disagg.replicas, preemptions)
        ready = [Request(float(f + _transfer_s(disagg, r.input_tokens)), r.input_tokens, r.output_tokens)
                 for f, r in zip(first, ordered, strict=True)]
        decode_engine = replace(deployment.engine, mode="decode")
        _, finish, decode_steps, batch_time, busy = _pool(ready, deployment.timer, decode_engine,
                                                          deployment.replicas, preemptions)
        # A one-token answer is done when its first token is.
        finish = np.where(outputs > 1, finish, first)
        steps += prefill_steps + decode_steps
    times = RequestTimes(arrival, first, finish, inputs, outputs, preemptions)
    mean_batch = batch_time / busy if busy else 0.0
    return ServingResult(times, summarize(times, slo, mean_batch), steps)


def _transfer_s(disagg: Disaggregation, input_tokens: int) -> float:
    seconds = disagg.kv_transfer_s(input_tokens)
    if not 0.0 <= seconds < math.inf:
        raise FablessError(
            f"the KV transfer of a {input_tokens}-token prompt was priced at {seconds!r} s: "
            "transfer times must be finite and >= 0"
        )
    return seconds


def _pool(
    requests: Sequence[Request], timer: StepTimer, engine: EngineConfig, replicas: int, preemptions: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int, float, float]:
    count = len(requests)
    first = np.full(count, np.nan)
    finish = np.full(count, np.nan)
    memo = timer if isinstance(timer, MemoStepTimer) else MemoStepTimer(timer)
    steps, batch_time, busy = 0, 0.0, 0.0
    for replica in range(replicas):
        picked = list(range(replica, count, replicas))
        if not picked:
            continue
        run: EngineRun = run_engine([requests[i] for i in picked], memo, engine)
        first[picked] = run.first_token_s
        finish[picked] = run.finish_s
        preemptions[picked] += run.preemptions
        steps += run.steps
        batch_time += run.batch_time_s
        busy += run.busy_s
    return first, finish, steps, batch_time, busy
