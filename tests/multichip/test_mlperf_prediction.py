"""Issue #7's bar: every published MLPerf Llama-2-70B row predicted within +-20%, on the
submission's own plan and batch limit, as bench/mlperf_llama2_70b.py prints them.

A row that still misses is a strict xfail that names what the model lacks, so it fails
loudly the day the model catches up and the mark must go."""

import pytest

from fabless.chip import load_chip
from fabless.multichip.mlperf import PublishedResult, predict, published_results, workload

BAR = 0.20
_FP4 = ("the v5.0 8xB200 submission ran Llama-2-70B in FP4 (Blackwell's NVFP4); the b200 preset has no fp4 "
        "matrix math, so the model prices the benchmark's fp8 workload and its uncalibrated family defaults")
MISSES: dict[tuple[str, str], str] = {
    ("b200", "offline"): _FP4,
    ("b200", "server"): _FP4,
    ("h100", "server"): "predicted +20.5% since the 2026-11-23 H100 kernel fit (sustained rate 0.80, was 0.76): "
    "the TP2 server engine's scheduling under the p99 TTFT limit is not modelled",
}


def _params() -> list:
    params = []
    for result in published_results():
        reason = MISSES.get((result.chip, result.scenario))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(result, id=f"{result.chip}-{result.scenario}", marks=marks))
    return params


@pytest.mark.parametrize("result", _params())
def test_prediction_is_within_twenty_percent_of_the_published_score(result: PublishedResult):
    prediction = predict(load_chip(result.chip), result.accelerators, result.scenario, workload(),
                         plan=result.plan, max_batch=result.max_batch)
    assert prediction.tokens_per_s == pytest.approx(result.tokens_per_s, rel=BAR)


def test_server_score_is_completed_tokens_per_second_not_the_offered_rate():
    """MLPerf scores "Completed tokens per second": a rate past capacity that passes a finite run
    still completes no more than the engine can serve."""
    result = next(r for r in published_results() if (r.chip, r.scenario) == ("h100", "server"))
    prediction = predict(load_chip(result.chip), result.accelerators, result.scenario, workload(),
                         plan=result.plan, max_batch=result.max_batch, server_duration_s=200.0)
    assert prediction.rate_per_s is not None
    assert prediction.tokens_per_s == prediction.metrics.output_tokens_per_s
    assert prediction.tokens_per_s < prediction.rate_per_s * workload().output_tokens
