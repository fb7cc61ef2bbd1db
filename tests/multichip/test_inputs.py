"""Plans, plan search and sharded timers refuse impossible values by name."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.chip import load_chip
from fabless.errors import FablessError
from fabless.model import Precision, load_model_config
from fabless.multichip import (
    ParallelPlan,
    ShardedStepTimer,
    candidate_plans,
    chip_memory,
    evaluate_plan,
    kv_transfer_time,
    network_for,
    search_plans,
)
from fabless.multichip.mlperf import predict, workload

FP8 = Precision.from_options("fp8")


@pytest.fixture(scope="module")
def h100():
    return load_chip("h100")


@pytest.fixture(scope="module")
def llama8b():
    return load_model_config("llama-3-8b")


@pytest.mark.parametrize(
    ("degrees", "message"),
    [
        ({"tp": 0}, r"tp: must be a whole number from 1 to 65,536 \(got 0\)"),
        ({"pp": math.nan}, r"pp: .* \(got nan\)"),
        ({"dp": 2.0}, r"dp: .* \(got 2.0\)"),
        ({"tp": 1024, "dp": 1024}, r"TP1024 x PP1 x DP1024 is 1,048,576 chips, more than the 65,536 a plan may use"),
    ],
)
def test_parallel_degrees_are_checked_by_name(degrees, message):
    with pytest.raises(FablessError, match=message):
        ParallelPlan(**degrees)


def test_plan_search_checks_every_parameter_by_name(h100, llama8b):
    cases = [
        ({"slo_tpot_s": math.inf}, r"slo_tpot_s: must be a finite number above 0 and at most 86,400 \(got inf\)"),
        ({"slo_tpot_s": -0.1}, r"slo_tpot_s: .* \(got -0.1\)"),
        ({"input_tokens": 0}, r"input_tokens: .* \(got 0\)"),
        ({"output_tokens": 9000}, r"input_tokens 128 \+ output_tokens 9,000 tokens exceed llama-3-8b's context window"),
        ({"chip_counts": []}, r"chip_counts: give at least one chip count to try"),
        ({"chip_counts": [1, -4]}, r"chip count: .* \(got -4\)"),
        ({"max_batch": 0}, r"max_batch: .* \(got 0\)"),
        ({"step_tokens": 2**30}, r"step_tokens: .* to 16,777,216"),
        ({"slo_ttft_s": math.nan}, r"slo_ttft_s: .* \(got nan\)"),
    ]
    for change, message in cases:
        options = {"input_tokens": 128, "output_tokens": 64, "slo_tpot_s": 0.05, "chip_counts": [1]} | change
        with pytest.raises(FablessError, match=message):
            search_plans(h100, llama8b, FP8, **options)


def test_other_entry_points_check_their_parameters(h100, llama8b):
    plan = ParallelPlan()
    cases = [
        (lambda: evaluate_plan(h100, llama8b, FP8, plan, 128, 64, math.nan), r"slo_tpot_s: .* \(got nan\)"),
        (lambda: chip_memory(h100, llama8b, FP8, plan, 0, 1), r"step_tokens: .* \(got 0\)"),
        (lambda: chip_memory(h100, llama8b, FP8, plan, 8, -1), r"batch: .* \(got -1\)"),
        (lambda: candidate_plans(llama8b, 0), r"chips: .* \(got 0\)"),
        (lambda: network_for(h100, 10**9), r"chips: .* to 65,536 \(got 1000000000\)"),
        (lambda: kv_transfer_time(h100, llama8b, FP8, plan, math.inf), r"chips: .* \(got inf\)"),
        (lambda: ShardedStepTimer(h100, llama8b, FP8, plan, overlap=math.nan), r"overlap: .* from 0 to 1"),
        (lambda: ShardedStepTimer(h100, llama8b, FP8, plan, algorithm="mesh"), r"algorithm: must be one of auto"),
        (lambda: predict(h100, 8, "online", workload()), r"scenario: must be offline or server \(got 'online'\)"),
        (lambda: predict(h100, 8, "server", workload(), server_duration_s=math.inf), r"server_duration_s: .*inf"),
    ]
    for make, message in cases:
        with pytest.raises(FablessError, match=message):
            make()


@settings(max_examples=30, deadline=None)
@given(
    tp=st.sampled_from([1, 2, 4, 8]), pp=st.sampled_from([1, 2, 4]),
    batch=st.integers(1, 1024), context=st.integers(1, 8191), tokens=st.integers(1, 16384),
)
def test_sharded_step_times_are_finite_and_positive(h100, llama8b, tp, pp, batch, context, tokens):
    timer = ShardedStepTimer(h100, llama8b, FP8, ParallelPlan(tp=tp, pp=pp))
    for seconds in (timer.decode_s(batch, context), timer.prefill_s(tokens, min(tokens, 8192)),
                    timer.lone_prefill_s(min(tokens, 8192))):
        assert 0 < seconds < math.inf
