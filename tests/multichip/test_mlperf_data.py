"""The published MLPerf numbers and the workload derived from them agree with each other."""

import csv
from importlib import resources

import pytest

from fabless.multichip.mlperf import published_results, workload


def test_published_results_cover_the_four_systems_in_both_scenarios():
    results = published_results()
    assert {(r.chip, r.scenario) for r in results} == {
        (chip, scenario) for chip in ("h100", "h200", "mi300x", "b200") for scenario in ("offline", "server")
    }
    assert all(r.accelerators == 8 and r.result_id and r.date for r in results)


def test_every_submission_is_simulated_on_its_own_plan_and_batch_limit():
    """Each row records the TP degree and the engine's max sequences its submission used
    (TensorRT-LLM configs for NVIDIA, the vLLM harness's max_num_seqs for AMD)."""
    limits = {(r.chip, r.scenario): r.max_batch for r in published_results()}
    # The v5.0 8xB200 rows were copied without their configuration: their plan is searched.
    assert all(r.plan is not None for r in published_results() if r.round == "v4.1")
    assert limits[("mi300x", "offline")] == 2048 and limits[("mi300x", "server")] == 768


def test_mean_answer_length_is_published_tokens_over_samples():
    with (resources.files("fabless") / "data" / "mlperf" / "llama2_70b.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if not row["samples_per_s"]:
            continue  # the v5.0 8xB200 rows were copied with tokens/s only
        per_sample = float(row["tokens_per_s"]) / float(row["samples_per_s"])
        assert per_sample == pytest.approx(workload().output_tokens, rel=0.02)


def test_workload_is_llama_2_70b_in_fp8_with_the_server_limits():
    load = workload()
    assert load.config.params == pytest.approx(69e9, rel=0.01)
    assert load.precision.weights == "fp8" and load.precision.kv_cache == "fp8"
    assert (load.server_slo.ttft_s, load.server_slo.tpot_s) == (2.0, 0.2)
    assert workload(684).input_tokens == 684
