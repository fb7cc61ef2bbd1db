"""`fabless run --timing`: the executed programs timed on the cycle simulator, in order."""

import re

from fabless.model.random_checkpoint import RandomModel, write_random_checkpoint


def test_run_timing_reports_the_cycles_of_every_executed_program(fabless, tmp_path):
    directory = write_random_checkpoint(tmp_path / "tiny", RandomModel())
    args = ("run", "--model", str(directory), "--prompt", "a b c", "--max-new-tokens", "3", "--no-chat")
    result = fabless(*args, "--timing")
    assert result.returncode == 0, result.stderr
    # The statistics go to stderr, beside the generated text on stdout.
    text = " ".join(result.stderr.split())
    # One prefill and two decode steps: three programs in sequence, their instructions summed.
    assert "Cycle-level timing of the 3 executed programs on fab1" in text
    executed = int(re.search(r"│ total │ ([\d,]+) │", text).group(1).replace(",", ""))
    timed = int(re.search(r"│ instructions │ ([\d,]+) │", text).group(1).replace(",", ""))
    assert timed == executed
    cycles = float(re.search(r"([\d,]+) cycles = ([\d,.]+) us", text).group(1).replace(",", ""))
    assert cycles > 0
