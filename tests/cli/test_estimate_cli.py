"""The estimate and compare commands: JSON in seconds, one-line errors with exit code 2."""

import json

import pytest


def test_estimate_gemm_json_names_the_chip_and_gives_seconds(fabless):
    result = fabless("estimate", "gemm", "--chip", "h100", "--m", "512", "--n", "4096", "--k", "4096", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["chip"] == "h100"
    assert 2 * 512 * 4096 * 4096 / 989.4e12 < record["time_s"] < 1e-3


def test_compare_reports_every_chip_and_batch(fabless):
    result = fabless(
        "compare",
        "--model",
        "llama-3-70b",
        "--chips",
        "fab1,h100",
        "--batch",
        "1,32",
        "--input",
        "2048",
        "--output",
        "256",
        "--weights",
        "fp8",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["chip"], r["batch"]) for r in rows] == [("fab1", 1), ("fab1", 32), ("h100", 1), ("h100", 32)]
    for row in rows:
        assert row["model"] == "llama-3-70b"
        assert row["tokens_per_s"] == pytest.approx(row["batch"] * 256 / (row["ttft_s"] + 255 * row["tpot_s"]))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("estimate", "gemm", "--chip", "h10", "--m", "1", "--n", "1", "--k", "1"), "did you mean h100"),
        (("estimate", "prefill", "--chip", "h100", "--model", "llama-3-8", "--seq", "16"), "did you mean llama-3-8b"),
        (("estimate", "decode", "--chip", "h100", "--model", "llama-3-70b", "--batch", "8"), "it needs 2 chips"),
        (("compare", "--model", "llama-3-8b", "--batch", "0"), "--batch values must be integers from 1 to 65,536"),
    ],
)
def test_bad_input_gets_one_line_and_exit_code_2(fabless, args, message):
    result = fabless(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2_without_a_traceback(fabless):
    result = fabless("estimate", "gemm", "--chip", "h100", "--m", "x", "--n", "1", "--k", "1")
    assert result.returncode == 2
    assert "Invalid value for '--m'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cycle_fidelity_times_a_compiled_decode_step_near_the_analytical_one(fabless):
    args = ("estimate", "decode", "--chip", "fab1", "--model", "smollm2-135m", "--context", "128", "--json")
    cycle = json.loads(fabless(*args, "--fidelity", "cycle").stdout)
    analytical = json.loads(fabless(*args).stdout)
    assert cycle["fidelity"] == "cycle" and analytical["fidelity"] == "analytical"
    # The compiled program runs on one of fab1's cores; the analytical model spreads over all
    # eight and adds the host's per-step cost, so the two stay within a factor of two here.
    assert 0.5 < cycle["time_s"] / analytical["time_s"] < 2.0


def test_cycle_fidelity_rejects_a_gpu(fabless):
    result = fabless("estimate", "decode", "--chip", "h100", "--model", "smollm2-135m", "--fidelity", "cycle")
    assert result.returncode == 2
    assert "--fidelity cycle times one systolic chip" in result.stderr
