"""`fabless run` end to end on small random checkpoints: output, counts, and one-line errors."""

import json
import subprocess
import sys

import pytest

from fabless.chip import load_chip
from fabless.compiler import ChipModel, Numerics
from fabless.model.checkpoint import load_checkpoint
from fabless.model.random_checkpoint import RandomModel, write_random_checkpoint


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    llama = write_random_checkpoint(root / "llama", RandomModel())
    bert = write_random_checkpoint(root / "bert", RandomModel(model_type="bert", hidden_size=60, num_heads=4))
    return llama, bert


def _fabless(*args: str, text: bool = True) -> subprocess.CompletedProcess:
    code = "from fabless.cli.app import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=text, timeout=120)


PROMPT = "The quick brown fox"


def _expected_ids(directory, new_tokens: int) -> tuple[list[int], list[int]]:
    """The prompt's ids and the greedy continuation, computed by the chip in this process."""
    checkpoint = load_checkpoint(str(directory))
    ids = checkpoint.tokenizer.chat_prompt(PROMPT)
    chip = ChipModel(load_chip("fab1"), checkpoint, Numerics.for_weights("int8"), max_context=128, cores=1)
    return ids, chip.generate(ids, new_tokens)


def test_piped_text_is_exactly_the_decoded_tokens_and_statistics_go_to_stderr(checkpoints):
    args = ("--prompt", PROMPT, "--max-new-tokens", "4", "--weights", "int8", "--cores", "1")
    result = _fabless("run", "--model", str(checkpoints[0]), *args, text=False)
    assert result.returncode == 0, result.stderr
    _, new = _expected_ids(checkpoints[0], 4)
    tokenizer = load_checkpoint(str(checkpoints[0])).tokenizer
    assert result.stdout == tokenizer.decode(new).encode("utf-8")
    err = result.stderr.decode()
    assert "then 3 decode steps in" in err and "HBM bytes read" in err
    assert "\x1b[" not in err  # stderr is a pipe here: no colour codes, no progress frames


def test_run_json_holds_the_text_the_ids_and_the_counts(checkpoints):
    args = ("--prompt", PROMPT, "--max-new-tokens", "3", "--weights", "int8", "--cores", "1", "--json")
    result = _fabless("run", "--model", str(checkpoints[0]), *args)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    ids, new = _expected_ids(checkpoints[0], 3)
    assert (record["prompt_tokens"], record["token_ids"]) == (len(ids), new)
    assert record["text"] == load_checkpoint(str(checkpoints[0])).tokenizer.decode(new)
    assert record["decode_steps"] == 2 and record["weights"] == "int8" and record["cores"] == 1
    assert record["total_instructions"] == sum(record["instructions"].values()) > 0
    assert set(record["instructions"]) == {"dma", "mxu", "vpu"}


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
    assert "then 4 decode steps in" in result.stderr
    for engine in ("dma", "mxu", "vpu"):
        assert engine in result.stderr
    assert "HBM bytes read" in result.stderr and "weights int8" in result.stderr


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
    # The similarities are the result; the memory map is a statistic beside it.
    assert "HBM memory map of bert" in result.stderr and "layers.1.qkv.weight" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--weights", "int4", "--prompt", "x"), "error: --weights 'int4' is not one of fp32, bf16, fp8, int8\n"),
        (("--text", "x"), "error: model llama is a decoder: pass --prompt\n"),
        (("--prompt", "x", "--max-new-tokens", "0"),
         "error: Invalid value for '--max-new-tokens': must be an integer from 1 to 100,000 (got 0); "
         "see `fabless run --help`\n"),
        (("--prompt", "x", "--cores", "-1"),
         "error: Invalid value for '--cores': must be an integer from 1 to 4,096 (got -1); see `fabless run --help`\n"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(checkpoints, args, message):
    result = _fabless("run", "--model", str(checkpoints[0]), *args)
    assert (result.returncode, result.stderr) == (2, message)


def test_encoder_without_texts_is_an_error(checkpoints):
    result = _fabless("run", "--model", str(checkpoints[1]))
    assert result.returncode == 2
    assert result.stderr == "error: model bert is an encoder: pass --text (twice or more) to compare\n"
