"""`fabless serve` and `fabless plan` end to end."""

import json
import subprocess
import sys


def _fabless(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from fabless.cli.app import main; main()", *args],
                          capture_output=True, text=True, timeout=120)


def test_serve_prints_metrics_as_json():
    done = _fabless("serve", "--model", "llama-3-8b", "--chip", "h100", "--num-chips", "2", "--rate", "5",
                    "--requests", "200", "--input", "512", "--output", "64", "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["requests"] == 200 and record["rate_per_s"] == 5.0
    assert 0 < record["ttft_p50_s"] <= record["ttft_p99_s"]
    assert record["plan"].endswith("DP2") or record["plan"].startswith("TP2")


def test_serve_with_a_prefill_pool_and_a_plot(tmp_path):
    plot = tmp_path / "curve.png"
    done = _fabless("serve", "--model", "llama-3-8b", "--chip", "h100", "--num-chips", "2", "--prefill-chips", "1",
                    "--rate", "4", "--requests", "100", "--input", "512", "--output", "32", "--plot", str(plot),
                    "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["prefill_chips"] == 1
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_plan_finds_the_cheapest_chip_count():
    done = _fabless("plan", "--model", "llama-3.1-405b", "--chip", "fab1", "--slo-tpot", "0.05", "--json")
    assert done.returncode == 0, done.stderr
    plans = json.loads(done.stdout)["plans"]
    assert plans and all(p["tpot_s"] <= 0.05 for p in plans)
    assert len({p["chips"] for p in plans}) == 1


def test_bad_rate_is_a_one_line_error():
    done = _fabless("serve", "--model", "llama-3-8b", "--chip", "h100", "--num-chips", "1", "--rate", "fast")
    assert done.returncode == 2 and "--rate takes requests per second or auto" in done.stderr
