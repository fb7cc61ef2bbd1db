"""`fabless run` end to end on small random checkpoints: output, counts, and one-line errors."""

import subprocess
import sys

import pytest

from fabless.model.random_checkpoint import RandomModel, write_random_checkpoint


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    llama = write_random_checkpoint(root / "llama", RandomModel())
    bert = write_random_checkpoint(root / "bert", RandomModel(model_type="bert", hidden_size=60, num_heads=4))
    return llama, bert


def _fabless(*args: str) -> subprocess.CompletedProcess:
    code = "from fabless.cli.app import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


def test_run_generates_and_counts_instructions(checkpoints):
    result = _fabless(
        "run",
        "--model",
        str(checkpoints[0]),
        "--prompt",
        "The quick brown fox",
        "--max-new-tokens",
        "5",
        "--weights",
        "int8",
    )
    assert result.returncode == 0, result.stderr
    assert "then 4 decode steps in" in result.stdout
    for engine in ("dma", "mxu", "vpu"):
        assert engine in result.stdout
    assert "HBM bytes read" in result.stdout


def test_run_compares_embeddings(checkpoints):
    result = _fabless(
        "run",
        "--model",
        str(checkpoints[1]),
        "--text",
        "the quick fox",
        "--text",
        "a lazy dog",
        "--weights",
        "bf16",
        "--memory-map",
    )
    assert result.returncode == 0, result.stderr
    assert "Cosine similarity" in result.stdout and "1.0000" in result.stdout
    assert "HBM memory map of bert" in result.stdout and "layers.1.qkv.weight" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--weights", "int4", "--prompt", "x"), "error: --weights 'int4' is not one of fp32, bf16, fp8, int8\n"),
        (("--text", "x"), "error: model llama is a decoder: pass --prompt\n"),
        (("--prompt", "x", "--max-new-tokens", "0"), "error: --max-new-tokens must be at least 1 (got 0)\n"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(checkpoints, args, message):
    result = _fabless("run", "--model", str(checkpoints[0]), *args)
    assert (result.returncode, result.stderr) == (2, message)


def test_encoder_without_texts_is_an_error(checkpoints):
    result = _fabless("run", "--model", str(checkpoints[1]))
    assert result.returncode == 2
    assert result.stderr == "error: model bert is an encoder: pass --text (twice or more) to compare\n"
