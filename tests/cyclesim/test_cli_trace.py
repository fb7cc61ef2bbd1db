"""`fabless trace`: a timeline file, a summary, and one-line errors with exit code 2."""

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parents[1] / "funcsim" / "gemm_example.s"


def fabless(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from fabless.cli.app import main; main()", *args],
        capture_output=True, text=True, timeout=120,
    )


def test_trace_of_a_program_file_writes_the_timeline_and_a_json_summary(tmp_path: Path) -> None:
    out = tmp_path / "gemm.json"
    result = fabless("trace", "--chip", "fab1", "--program", str(EXAMPLE), "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    trace = json.loads(out.read_text())
    assert summary["chip"] == "fab1"
    assert summary["cycles"] == trace["otherData"]["cycles"] > 0
    assert summary["time_s"] == summary["cycles"] / 1.8e9
    assert {u["name"] for u in summary["units"]} == {"dma0", "mxu0", "mxu0.ldw"}


def test_trace_errors_are_one_line_with_exit_code_2(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    missing = fabless("trace", "--chip", "fab1", "--program", str(tmp_path / "none.s"), "--out", str(out))
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"error: program {tmp_path / 'none.s'} does not exist: pass an assembler (.s) or binary (.bin) file"
    ]
    gpu = fabless("trace", "--chip", "h100", "--program", str(EXAMPLE), "--out", str(out))
    assert gpu.returncode == 2
    assert "use the analytical model" in gpu.stderr
    assert not out.exists()


def test_trace_of_a_prompt_compiles_prefill_and_decode_steps(tmp_path: Path) -> None:
    out = tmp_path / "smollm2.json"
    result = fabless("trace", "--chip", "fab1", "--model", "smollm2-135m", "--prompt",
                     "Explain how a systolic array multiplies matrices.", "--decode", "1", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    trace = json.loads(out.read_text())
    assert summary["matrix_flops"] > 0 and summary["hbm_bytes"] > 0
    names = {e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    assert names == {u["name"] for u in summary["units"]}
    assert {"dma0", "dma1", "vpu", "mxu0", "mxu0.ldw"} <= names


def test_trace_by_token_count_needs_no_tokenizer(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    short = fabless("trace", "--chip", "fab1", "--model", "smollm2-135m", "--tokens", "4", "--out", str(out), "--json")
    longer = fabless("trace", "--chip", "fab1", "--model", "smollm2-135m", "--tokens", "64", "--out", str(out),
                     "--json")
    assert short.returncode == 0 and longer.returncode == 0, short.stderr + longer.stderr
    assert json.loads(longer.stdout)["matrix_flops"] > json.loads(short.stdout)["matrix_flops"]


def test_a_prompt_for_a_model_without_a_tokenizer_asks_for_a_token_count(tmp_path: Path) -> None:
    result = fabless("trace", "--chip", "fab1", "--model", "llama-3-8b", "--prompt", "hi", "--out",
                     str(tmp_path / "t.json"))
    assert result.returncode == 2
    assert "model llama-3-8b ships no tokenizer to count the prompt's tokens: pass --tokens N" in result.stderr
