"""`fabless explore` as a user runs it: one-line errors naming the field that leave nothing
behind, and a small search whose --json is its pareto.json and whose chip files load."""

import json
from pathlib import Path

import pytest

SPACE = """base = "fab1"
prefix = "cli"
[params]
"core.sram.mib" = { low = 16, high = 32, step = 8 }
clock_ghz = { low = 1.6, high = 2.0, step = 0.2 }
"""

WORKLOAD = """name = "cli"
objectives = ["tokens_per_usd"]
[slo]
tpot_s = 0.05
ttft_s = 2.0
[[mix]]
model = "llama-3-8b"
share = 1.0
input = 1024
output = 128
[constraints]
max_chips = 4
"""


def explore(fabless, folder: Path, space: str, workload: str, *extra: str):
    (folder / "space.toml").write_text(space)
    (folder / "workload.toml").write_text(workload)
    return fabless("explore", "--space", str(folder / "space.toml"), "--workload", str(folder / "workload.toml"),
                   "--storage", f"sqlite:///{folder}/study.db", "--out", str(folder / "out"), "--workers", "1",
                   *extra)


@pytest.mark.parametrize(("space", "workload", "message"), [
    (SPACE.replace("low = 16, high = 32", "low = 32, high = 16"), WORKLOAD,
     "params.core.sram.mib: empty range: low 32 is above high 16"),
    (SPACE + '"core.matrix.depth" = { low = 1, high = 2 }\n', WORKLOAD,
     "params.core.matrix.depth: unknown field 'core.matrix.depth'"),
    (SPACE, WORKLOAD.replace("llama-3-8b", "llama-9"), "mix.0.model: unknown model 'llama-9'"),
])
def test_a_bad_input_file_is_one_line_naming_the_field_and_leaves_nothing(fabless, tmp_path, space, workload,
                                                                          message):
    result = explore(fabless, tmp_path, space, workload, "--trials", "2")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    assert not (tmp_path / "out").exists() and not (tmp_path / "study.db").exists()


def test_constraints_no_design_meets_name_the_binding_one_and_leave_no_output(fabless, tmp_path):
    workload = WORKLOAD.replace("max_chips = 4", "max_chips = 4\nmax_tdp_w = 10")
    result = explore(fabless, tmp_path, SPACE, workload, "--trials", "3")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: no design meets the constraints: tdp binds")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_small_search_prints_its_pareto_json_and_writes_chip_files_that_load(fabless, tmp_path):
    result = explore(fabless, tmp_path, SPACE, WORKLOAD, "--trials", "4", "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == json.loads((tmp_path / "out" / "pareto.json").read_text())
    assert printed["completed_trials"] == 4 and printed["front"]
    assert (tmp_path / "out" / "pareto.png").stat().st_size > 0
    for member in printed["front"]:
        shown = fabless("chip", "show", member["chip_file"], "--json")
        assert shown.returncode == 0, shown.stderr
        chip = json.loads(shown.stdout)
        assert chip["name"] == member["chip"] and chip["core"]["sram"]["mib"] == member["params"]["core.sram.mib"]
