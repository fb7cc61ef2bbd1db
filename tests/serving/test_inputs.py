"""Bad values at the serving library's entry points are one-line errors, and every run ends."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.errors import FablessError
from fabless.serving import (
    AffineStepTimer,
    Deployment,
    Disaggregation,
    EngineConfig,
    MemoStepTimer,
    Request,
    Slo,
    latency_curve,
    max_rate,
    offline_requests,
    poisson_requests,
    run_engine,
    simulate,
)
from fabless.serving import engine as engine_module

TIMER = AffineStepTimer(fixed_s=0.01, per_prefill_token_s=1e-5, per_sequence_s=1e-4)
DEPLOYMENT = Deployment(TIMER, EngineConfig(kv_capacity_tokens=100_000, max_batch=64, max_step_tokens=1024))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: poisson_requests(math.nan, 3, 10, 10), r"rate_per_s: must be a finite number above 0 and at most "
                                                         r"1,000,000 \(got nan\)"),
        (lambda: poisson_requests(math.inf, 3, 10, 10), r"rate_per_s: .* \(got inf\)"),
        (lambda: poisson_requests(0.0, 3, 10, 10), r"rate_per_s: .* \(got 0.0\)"),
        (lambda: poisson_requests(-1, 3, 10, 10), r"rate_per_s: .* \(got -1\)"),
        (lambda: poisson_requests(2e6, 3, 10, 10), r"rate_per_s: .* \(got 2000000.0\)"),
        (lambda: poisson_requests(1e-9, 3, 10, 10), r"3 requests at 1e-09 per second arrive over .* raise the rate"),
        (lambda: poisson_requests(1.0, 0, 10, 10), r"count: must be a whole number from 1 to 1,000,000 \(got 0\)"),
        (lambda: poisson_requests(1.0, 3, 0, 10), r"input_tokens: must be a whole number from 1 to 1,048,576"),
        (lambda: poisson_requests(1.0, 3, 10, 2.5), r"output_tokens: .* \(got 2.5\)"),
        (lambda: poisson_requests(1.0, 3, 10, 10, seed=-1), r"seed: must be a whole number from 0 to "),
        (lambda: offline_requests(3, 10, 10, length_spread=math.nan), r"length_spread: .* from 0 to 1 \(got nan\)"),
        (lambda: offline_requests(3, 1_000_000, 10, length_spread=0.5), r"input_tokens: 1,000,000 x \(1 \+ "
                                                                       r"length_spread 0.5\) draws lengths past"),
        (lambda: offline_requests(True, 10, 10), r"count: .* \(got True\)"),
        (lambda: Request(math.nan, 1, 1), r"arrival_s: must be a finite number from 0 to 100,000,000 \(got nan\)"),
        (lambda: Request(0.0, 10**5000, 1), r"input_tokens: .* \(got a number of more than 4,300 digits\)"),
        (lambda: Slo(2.0, math.inf), r"tpot_s: must be a finite number above 0 and at most 86,400 \(got inf\)"),
        (lambda: Slo(0.0, 0.1), r"ttft_s: .* \(got 0.0\)"),
        (lambda: Slo("2", 0.1), r"ttft_s: .* \(got '2'\)"),
        (lambda: EngineConfig(kv_capacity_tokens=100, max_batch=math.nan), r"max_batch: .* \(got nan\)"),
        (lambda: EngineConfig(kv_capacity_tokens=-1), r"kv_capacity_tokens: must be a whole number from 0 to"),
        (lambda: EngineConfig(kv_capacity_tokens=100, block_tokens=0), r"block_tokens: .* from 1 to 65,536"),
        (lambda: EngineConfig(kv_capacity_tokens=100, max_step_tokens=0), r"max_step_tokens: .* \(got 0\)"),
        (lambda: EngineConfig(kv_capacity_tokens=100, watermark=2.0), r"watermark: .* from 0 to 1 \(got 2.0\)"),
        (lambda: EngineConfig(kv_capacity_tokens=100, mode="both"), r"mode: must be one of mixed, prefill, decode"),
        (lambda: AffineStepTimer(fixed_s=math.nan, per_prefill_token_s=0.0), r"fixed_s: .* \(got nan\)"),
        (lambda: AffineStepTimer(fixed_s=0.0, per_prefill_token_s=-1.0), r"per_prefill_token_s: .* \(got -1.0\)"),
        (lambda: MemoStepTimer(TIMER, buckets_per_octave=0), r"buckets_per_octave: .* \(got 0\)"),
        (lambda: Deployment(TIMER, DEPLOYMENT.engine, replicas=0), r"replicas: .* from 1 to 65,536 \(got 0\)"),
        (lambda: simulate([], DEPLOYMENT), r"no requests to serve"),
        (lambda: simulate([(0.0, 1, 1)], DEPLOYMENT), r"requests: every item must be a Request \(got \(0.0, 1, 1\)\)"),
    ],
)
def test_bad_values_name_the_parameter_the_range_and_the_value(make, message):
    with pytest.raises(FablessError, match=message) as error:
        make()
    assert "\n" not in str(error.value)


def test_requests_are_stored_as_plain_numbers():
    request = Request(np.float64(0.5), np.int64(3), np.int32(4))
    assert type(request.arrival_s) is float and type(request.input_tokens) is int
    assert request == Request(0.5, 3, 4)


def test_max_rate_refuses_slos_met_at_every_rate_instead_of_doubling_forever():
    def workload(rate: float) -> list[Request]:
        return poisson_requests(rate, 20, 100, 10)

    with pytest.raises(FablessError, match=r"are met even at 524,288 requests/s, so they bound no rate"):
        max_rate(workload, DEPLOYMENT, Slo(86_400.0, 86_400.0))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"start_per_s": math.nan}, r"start_per_s: must be a finite number from 0.001 to 1,000,000 \(got nan\)"),
        ({"tolerance": 0.0}, r"tolerance: .* from 1e-06 to 1 \(got 0.0\)"),
        ({"rule": "p50"}, r"rule: must be one of fraction, p99 \(got 'p50'\)"),
    ],
)
def test_max_rate_checks_its_search_options(options, message):
    with pytest.raises(FablessError, match=message):
        max_rate(lambda rate: poisson_requests(rate, 5, 10, 2), DEPLOYMENT, Slo(1.0, 0.1), **options)


def test_latency_curve_checks_every_rate():
    with pytest.raises(FablessError, match=r"rate_per_s: .* \(got nan\)"):
        latency_curve(lambda rate: poisson_requests(rate, 5, 10, 2), DEPLOYMENT, [1.0, math.nan])


def test_a_run_that_needs_too_many_steps_is_refused_before_it_starts():
    config = EngineConfig(kv_capacity_tokens=10**8, max_batch=64, max_step_tokens=1024)
    with pytest.raises(FablessError, match=r"1,000 requests need at least 15,625,000 engine steps on one instance, "
                                           r"past the 10,000,000 a simulation runs"):
        run_engine(offline_requests(1000, 10, 1_000_000), TIMER, config)


def test_a_run_past_the_step_bound_stops_with_an_error(monkeypatch):
    # 3 requests of 6 answer tokens need 6 steps at least, but one block of KV preempts them in turn.
    monkeypatch.setattr(engine_module, "MAX_ENGINE_STEPS", 8)
    config = EngineConfig(kv_capacity_tokens=8, max_batch=4, max_step_tokens=8, block_tokens=4, watermark=0.0)
    with pytest.raises(FablessError, match=r"the simulation passed 8 engine steps on one instance before every "
                                           r"request finished"):
        run_engine([Request(0.0, 2, 6)] * 3, TIMER, config)


class _BrokenTimer:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def prefill_s(self, tokens: int, seq: int) -> float:
        return self.seconds

    def decode_s(self, batch: int, context: int) -> float:
        return self.seconds


@pytest.mark.parametrize("seconds", [math.nan, math.inf, -1.0])
def test_a_timer_that_prices_an_impossible_step_is_an_error_not_a_hang(seconds):
    deployment = Deployment(_BrokenTimer(seconds), EngineConfig(kv_capacity_tokens=1000))
    with pytest.raises(FablessError, match=r"the step timer priced a step at .* s: step times must be finite"):
        simulate(offline_requests(3, 10, 10), deployment)


def test_a_kv_transfer_priced_at_nan_is_an_error():
    disaggregation = Disaggregation(TIMER, DEPLOYMENT.engine, 1, kv_transfer_s=lambda tokens: math.nan)
    deployment = Deployment(TIMER, DEPLOYMENT.engine, disaggregation=disaggregation)
    with pytest.raises(FablessError, match=r"the KV transfer of a 10-token prompt was priced at nan s"):
        simulate(offline_requests(3, 10, 10), deployment)


@st.composite
def _served(draw: st.DrawFn) -> tuple[list[Request], Deployment]:
    block = draw(st.sampled_from([1, 4, 16]))
    max_batch = draw(st.integers(1, 16))
    config = EngineConfig(
        kv_capacity_tokens=draw(st.integers(0, 2000)), max_batch=max_batch,
        max_step_tokens=draw(st.integers(max_batch, 512)), block_tokens=block,
        watermark=draw(st.floats(0.0, 1.0)),
    )
    timer = AffineStepTimer(draw(st.floats(0.0, 1.0)), draw(st.floats(0.0, 1e-3)), draw(st.floats(0.0, 1e-2)))
    requests = draw(st.lists(st.builds(Request, st.floats(0.0, 100.0), st.integers(1, 300), st.integers(1, 60)),
                             min_size=1, max_size=20))
    prefill = draw(st.booleans())
    disaggregation = Disaggregation(timer, config, 1, lambda tokens: tokens * 1e-4) if prefill else None
    return requests, Deployment(timer, config, draw(st.integers(1, 3)), disaggregation)


@settings(max_examples=100, deadline=None)
@given(_served())
def test_any_valid_deployment_serves_every_request_or_says_why(served):
    requests, deployment = served
    try:
        result = simulate(requests, deployment)
    except FablessError as error:
        assert "\n" not in str(error)
        return
    times = result.times
    assert np.all(np.isfinite(times.finish_s)) and np.all(np.isfinite(times.first_token_s))
    assert np.all(times.first_token_s >= times.arrival_s) and np.all(times.finish_s >= times.first_token_s)


def test_a_one_token_answer_through_a_prefill_pool_finishes():
    # Found by the property test above: the decode pool admitted it, it finished on the spot,
    # and the engine took the empty step for a jam.
    config = EngineConfig(kv_capacity_tokens=2, max_batch=1, max_step_tokens=1, block_tokens=1)
    disaggregation = Disaggregation(TIMER, config, 1, kv_transfer_s=lambda tokens: 1e-4)
    result = simulate([Request(0.0, 1, 1)], Deployment(TIMER, config, disaggregation=disaggregation))
    assert result.times.finish_s[0] == result.times.first_token_s[0] > 0
