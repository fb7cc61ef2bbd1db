"""Continuous batching, chunked prefill, paged KV and preemption on cases followed by hand."""

import math

import numpy as np
import pytest

from fabless.errors import FablessError
from fabless.serving import (
    AffineStepTimer,
    Deployment,
    Disaggregation,
    EngineConfig,
    MemoStepTimer,
    PagedKVCache,
    Request,
    Slo,
    max_rate,
    poisson_requests,
    run_engine,
    simulate,
    slo_met,
)

ONE_SECOND_STEPS = AffineStepTimer(fixed_s=1.0, per_prefill_token_s=0.0)


def test_kv_capacity_is_whole_blocks():
    cache = PagedKVCache.from_capacity(13, block_tokens=4)
    assert (cache.total_blocks, cache.capacity_tokens) == (3, 12)
    assert cache.blocks_for(9) == 3
    assert cache.allocate(2) and not cache.allocate(2) and cache.free_blocks == 1


def test_preemption_by_hand():
    # 3 blocks of 4 tokens; two requests of 4 prompt + 6 answer tokens; every step takes 1 s.
    # Step 1 prefills both (1 block each) and emits their first tokens at t=1. Step 2: each
    # context reaches 5 tokens and needs a second block; A gets the last one, B (the newest)
    # is preempted and waits to recompute its 4 + 1 tokens. A decodes alone through step 6
    # (context 9 takes its third block at step 6) and finishes at t=6. Step 7 re-prefills B
    # (2 blocks), which then decodes steps 8-11 and finishes at t=11.
    config = EngineConfig(kv_capacity_tokens=12, max_batch=2, max_step_tokens=8, block_tokens=4, watermark=0.0)
    run = run_engine([Request(0.0, 4, 6), Request(0.0, 4, 6)], ONE_SECOND_STEPS, config)
    assert list(run.first_token_s) == [1.0, 1.0]
    assert list(run.finish_s) == [6.0, 11.0]
    assert list(run.preemptions) == [0, 1]
    assert run.steps == 11


def test_chunked_prefill_spreads_a_prompt_over_steps():
    # A 10-token prompt with a 4-token budget: chunks 4, 4, 2, first token at t=3, then 4 decodes.
    config = EngineConfig(kv_capacity_tokens=64, max_batch=4, max_step_tokens=4, block_tokens=4)
    run = run_engine([Request(0.0, 10, 5)], ONE_SECOND_STEPS, config)
    assert run.first_token_s[0] == 3.0 and run.finish_s[0] == 7.0


def test_decodes_share_the_budget_with_prompt_chunks():
    # A decodes from t=1; B arrives at t=1.5 with 6 prompt tokens. From step 3 the budget of 4
    # holds A's decode and 3 prompt tokens, so B's prompt takes steps 3 and 4.
    config = EngineConfig(kv_capacity_tokens=64, max_batch=4, max_step_tokens=4, block_tokens=4)
    run = run_engine([Request(0.0, 2, 10), Request(1.5, 6, 2)], ONE_SECOND_STEPS, config)
    assert run.first_token_s[1] == 4.0 and run.finish_s[1] == 5.0


def test_request_larger_than_the_cache_is_an_error():
    config = EngineConfig(kv_capacity_tokens=16, block_tokens=4, max_batch=4, max_step_tokens=8)
    with pytest.raises(FablessError, match="does not fit the KV cache of 16 tokens"):
        run_engine([Request(0.0, 10, 10)], ONE_SECOND_STEPS, config)


def test_disaggregated_prefill_hands_over_after_the_transfer():
    # Prefill pool: 1 s per step, first token at t=1. The KV takes 0.5 s to move; the decode
    # pool picks the request up at t=1.5 and runs 3 one-second decodes: done at t=4.5.
    engine = EngineConfig(kv_capacity_tokens=64, max_batch=4, max_step_tokens=8, block_tokens=4)
    pool = Disaggregation(timer=ONE_SECOND_STEPS, engine=engine, replicas=1, kv_transfer_s=lambda tokens: 0.5)
    result = simulate([Request(0.0, 6, 4)], Deployment(ONE_SECOND_STEPS, engine, disaggregation=pool))
    assert result.times.first_token_s[0] == 1.0 and result.times.finish_s[0] == 4.5


def test_replicas_split_arrivals_round_robin():
    engine = EngineConfig(kv_capacity_tokens=64, max_batch=1, max_step_tokens=8, block_tokens=4)
    requests = [Request(0.0, 4, 2), Request(0.0, 4, 2)]
    one = simulate(requests, Deployment(ONE_SECOND_STEPS, engine, replicas=1))
    two = simulate(requests, Deployment(ONE_SECOND_STEPS, engine, replicas=2))
    assert list(one.times.finish_s) == [2.0, 4.0]
    assert list(two.times.finish_s) == [2.0, 2.0]


def test_metrics_follow_mlperf_definitions():
    engine = EngineConfig(kv_capacity_tokens=64, max_batch=4, max_step_tokens=8, block_tokens=4)
    result = simulate([Request(0.0, 4, 5), Request(0.5, 4, 1)], Deployment(ONE_SECOND_STEPS, engine),
                      Slo(ttft_s=1.0, tpot_s=1.0))
    times = result.times
    # TPOT = (finish - first token) / (tokens - 1); a one-token answer has none.
    assert list(times.tpot_s) == [1.0, 0.0]
    assert list(times.ttft_s) == [1.0, 1.5]
    assert result.metrics.slo_fraction == 0.5
    assert result.metrics.output_tokens_per_s == pytest.approx(6 / 5.0)


def test_slo_rules():
    engine = EngineConfig(kv_capacity_tokens=64, max_batch=4, max_step_tokens=8, block_tokens=4)
    requests = [Request(0.0, 4, 5), Request(0.0, 4, 5)]
    met = simulate(requests, Deployment(ONE_SECOND_STEPS, engine), Slo(ttft_s=1.0, tpot_s=1.0)).metrics
    assert slo_met(met, Slo(ttft_s=1.0, tpot_s=1.0), "p99") and slo_met(met, Slo(ttft_s=1.0, tpot_s=1.0))
    missed = simulate(requests, Deployment(ONE_SECOND_STEPS, engine), Slo(ttft_s=0.5, tpot_s=1.0)).metrics
    assert missed.slo_fraction == 0.0
    assert not slo_met(missed, Slo(ttft_s=0.5, tpot_s=1.0), "p99")
    assert not slo_met(missed, Slo(ttft_s=0.5, tpot_s=1.0), "fraction")


def test_memoised_timer_buckets_within_an_eighth_or_the_minimum_bucket():
    timer = MemoStepTimer(AffineStepTimer(fixed_s=0.0, per_prefill_token_s=1.0))
    assert [timer.bucket(t) for t in (1, 16, 17, 100)] == [1, 16, 32, 112]
    for tokens in (200, 1000, 5000, 123457):
        assert tokens <= timer.bucket(tokens) <= math.ceil(tokens * 1.125)
    timer.prefill_s(1000, 100)
    timer.prefill_s(1001, 101)
    assert timer.evaluations == 1


def test_every_request_finishes_under_heavy_preemption():
    timer = AffineStepTimer(fixed_s=0.01, per_prefill_token_s=1e-5, per_sequence_s=1e-4)
    rng = np.random.default_rng(3)
    requests = [Request(float(t), int(i), int(o)) for t, i, o in
                zip(np.cumsum(rng.exponential(0.02, 400)), rng.integers(1, 200, 400), rng.integers(1, 200, 400),
                    strict=True)]
    config = EngineConfig(kv_capacity_tokens=800, max_batch=64, max_step_tokens=256, block_tokens=16)
    run = run_engine(requests, timer, config)
    assert run.preemptions.sum() > 0
    assert not np.isnan(run.finish_s).any()
    assert (run.finish_s >= run.first_token_s).all() and (run.first_token_s > [r.arrival_s for r in requests]).all()


def test_max_rate_brackets_the_slo_edge():
    timer = AffineStepTimer(fixed_s=0.01, per_prefill_token_s=2e-5, per_sequence_s=5e-4)
    engine = EngineConfig(kv_capacity_tokens=100_000, max_batch=64, max_step_tokens=1024)
    deployment = Deployment(timer, engine)
    slo = Slo(ttft_s=0.5, tpot_s=0.03)

    def workload(rate: float) -> list[Request]:
        return poisson_requests(rate, 600, 200, 50, seed=5)

    point = max_rate(workload, deployment, slo, tolerance=0.02)
    assert slo_met(point.metrics, slo)
    assert not slo_met(simulate(workload(point.rate_per_s * 1.25), deployment, slo).metrics, slo)
