"""Tables piped to another program are never cropped: every name and header arrives whole."""

import json
import os
import subprocess
import sys

import pytest

from fabless import __version__
from fabless.chip import preset_names
from fabless.model.zoo import zoo_names


def piped(*args: str) -> str:
    """stdout of `fabless ARGS | cat`, with no COLUMNS hint, as a shell pipe sees it."""
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    done = subprocess.run([sys.executable, "-c", "from fabless.cli.app import main; main()", *args],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


CASES = [
    (("chip", "list"), [*preset_names(), "Fabless fab1 reference inference chip", "bf16 TFLOPS", "fp8 TFLOPS",
                        "HBM GiB", "HBM TB/s", "TDP W"]),
    (("chip", "show", "h100"), ["hbm.bandwidth_tb_s", "core.matrix.rows", "field", "value", "source"]),
    (("model", "list"), [*zoo_names(), "params", "layers", "hidden", "heads / kv heads", "context", "experts"]),
    (("compare", "--model", "llama-3-8b", "--chips", "fab1,h100,tpu-v6e", "--batch", "1"),
     ["fab1", "h100", "tpu-v6e", "TTFT ms", "TPOT ms", "tokens/s", "tok/s per $/h", "tokens/J", "weights bf16"]),
    (("tco", "--model", "llama-3-70b", "--chips", "fab1,h100,tpu-v6e", "--weights", "fp8"),
     ["fab1", "h100", "tpu-v6e", "tokens/s", "capex USD", "USD/chip-h", "USD/Mtoken", "break-even", "weights fp8"]),
    (("cost", "--chip", "fab1"), ["Silicon area of one fab1", "gross/wafer", "USD/good die", "unit cost part",
                                  "programme part", "chips built", "TDP at full load"]),
    (("estimate", "gemm", "--chip", "h100", "--m", "512", "--n", "4096", "--k", "4096"),
     ["GEMM 512x4096x4096, bf16 inputs, on one NVIDIA H100 SXM5 80GB", "compute / memory / overhead"]),
    (("estimate", "decode", "--chip", "h100", "--model", "llama-3-8b", "--batch", "8"),
     ["decode of llama-3-8b on 1 x NVIDIA H100 SXM5 80GB, weights bf16, activations bf16, KV bf16 (analytical)",
      "TPOT", "tokens/s"]),
    (("serve", "--model", "llama-3-8b", "--chip", "h100", "--num-chips", "2", "--rate", "4", "--requests", "50",
      "--input", "256", "--output", "16"),
     ["llama-3-8b on 2 x NVIDIA H100 SXM5 80GB", "weights fp8", "TTFT p50 / p90 / p99", "mean batch / preemptions"]),
    (("plan", "--model", "llama-3.1-405b", "--chip", "fab1"),
     ["llama-3.1-405b on 4 x Fabless fab1 reference inference chip, weights fp8", "tok/s/chip", "GiB/chip",
      "KV tokens", "TP4 x PP1 x DP1"]),
]


@pytest.mark.parametrize(("args", "names"), CASES, ids=[" ".join(args[:2]) for args, _ in CASES])
def test_piped_tables_hold_every_name_and_header_uncut(args, names):
    text = piped(*args)
    assert "…" not in text
    for name in names:
        assert name in text, name


def test_model_list_json_gives_each_zoo_model_its_shape():
    rows = {row["name"]: row for row in json.loads(piped("model", "list", "--json"))}
    assert sorted(rows) == zoo_names()
    llama = rows["llama-3-70b"]
    assert (llama["layers"], llama["hidden_size"], llama["heads"], llama["kv_heads"], llama["context"]) == (
        80, 8192, 64, 8, 8192)
    assert rows["mixtral-8x7b"]["experts"] == 8 and rows["mixtral-8x7b"]["experts_per_token"] == 2
    assert 70e9 < llama["params"] < 71e9


def test_version_prints_the_package_version():
    assert piped("--version") == f"fabless {__version__}\n"
