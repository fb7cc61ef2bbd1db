"""`fabless chip list|show` through the real entry point."""

import json
import subprocess
import sys

from fabless.chip import load_chip, preset_names


def fabless(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from fabless.cli.app import main; main()", *args],
        capture_output=True, text=True, timeout=120,
    )


def test_chip_list_json_has_every_preset_with_its_peaks():
    result = fabless("chip", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert sorted(rows) == preset_names()
    h200 = load_chip("h200")
    assert rows["h200"]["bf16_flops_per_s"] == h200.peak_matrix_ops_per_s("bf16")
    assert rows["h200"]["hbm_bytes_per_s"] == 4.8e12


def test_chip_show_prints_fields_and_sources():
    result = fabless("chip", "show", "h200")
    assert result.returncode == 0, result.stderr
    assert "H200" in result.stdout
    assert "hbm.bandwidth_tb_s" in result.stdout


def test_chip_show_json_round_trips():
    result = fabless("chip", "show", "tpu-v6e", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == load_chip("tpu-v6e").model_dump(mode="json")


def test_bad_chip_name_exits_2_with_one_line():
    result = fabless("chip", "show", "h300")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "did you mean" in lines[0] and "h200" in lines[0]
