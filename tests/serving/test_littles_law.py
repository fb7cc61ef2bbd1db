"""Little's law, L = lambda W, on a steady-state run of the simulator."""

import numpy as np
import pytest

from fabless.serving import AffineStepTimer, Deployment, EngineConfig, poisson_requests, run_engine, simulate

# About 20 ms per decode step at batch 10: a few thousand tokens/s, loaded well below capacity.
TIMER = AffineStepTimer(fixed_s=0.01, per_prefill_token_s=2e-5, per_sequence_s=5e-4, per_context_token_s=1e-7)
ENGINE = EngineConfig(kv_capacity_tokens=200_000, max_batch=128, max_step_tokens=2048)


def test_requests_in_system_equal_arrival_rate_times_latency():
    requests = poisson_requests(4.0, 4000, 300, 100, seed=7, length_spread=0.5)
    times = simulate(requests, Deployment(TIMER, ENGINE)).times
    arrival, finish = times.arrival_s, times.finish_s
    # A window well after warm-up and well before the last arrival.
    start, end = arrival[400], arrival[3600]
    # L: the time-average number of requests in the system over the window, from each
    # request's stay clipped to the window.
    stay = np.clip(np.minimum(finish, end) - np.maximum(arrival, start), 0.0, None)
    in_system = stay.sum() / (end - start)
    inside = (arrival >= start) & (arrival < end)
    rate = inside.sum() / (end - start)
    latency = (finish - arrival)[inside].mean()
    assert in_system == pytest.approx(rate * latency, rel=0.03)
    assert in_system > 2.0  # the run is loaded, not trivially empty


def test_mean_decode_batch_is_the_decoding_stays_summed():
    # Little's law inside the engine: the batch x step-time it accumulates equals the sum of
    # every request's time between its first and its last token (no preemption here).
    requests = poisson_requests(4.0, 2000, 300, 100, seed=11, length_spread=0.5)
    run = run_engine(requests, TIMER, ENGINE)
    assert run.preemptions.sum() == 0
    assert run.batch_time_s == pytest.approx(np.sum(run.finish_s - run.first_token_s), rel=1e-9)
