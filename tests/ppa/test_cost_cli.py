"""`fabless cost` and `fabless tco` through the real entry point: numbers trace to data and overrides."""

import json
import subprocess
import sys
from importlib import resources

import pytest

from fabless.ppa import die_yield, gross_dies_per_wafer, load_ppa_data


def fabless(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from fabless.cli.app import main; main()", *args],
        capture_output=True, text=True, timeout=120,
    )


def cost_json(*args: str) -> dict:
    result = fabless("cost", "--chip", "fab1", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_cost_prints_area_yield_unit_and_programme_breakdowns():
    result = fabless("cost", "--chip", "fab1", "--volume", "100000")
    assert result.returncode == 0, result.stderr
    for text in ("Silicon area", "matrix", "sram", "memory_phy", "yield", "unit cost part", "mask_set",
                 "respin_risk", "TDP at full load"):
        assert text in result.stdout


def test_cost_json_numbers_follow_the_data_files():
    data = load_ppa_data()
    report = cost_json()
    die = report["dies"][0]
    cost = data.cost
    assert die["gross_per_wafer"] == gross_dies_per_wafer(die["area_mm2"], cost.wafer_diameter_mm,
                                                          cost.edge_exclusion_mm, cost.scribe_mm)
    assert die["yield_fraction"] == pytest.approx(die_yield(die["area_mm2"], cost.defect_density_per_cm2["N3"],
                                                            cost.yield_model, cost.clustering_alpha))
    assert die["wafer_usd"] == cost.wafer_price_usd["N3"]
    assert report["unit_cost_usd"]["memory"] == pytest.approx(192 * 2**30 / 1e9 * cost.memory_usd_per_gb["HBM3E"])
    assert report["programme_cost_usd"]["mask_set"] == data.programme.mask_set_usd["N3"]


def test_overrides_move_the_printed_numbers_accordingly(tmp_path):
    base = cost_json()
    doubled = cost_json("--set", f"wafer_price_usd.N3={2 * base['dies'][0]['wafer_usd']}")
    sort = load_ppa_data().cost.wafer_sort_usd_per_die
    die_usd = base["dies"][0]["usd_per_good_die"] - sort
    assert doubled["dies"][0]["usd_per_good_die"] - sort == pytest.approx(2 * die_usd)
    file = tmp_path / "cheap_hbm.toml"
    file.write_text("[memory_usd_per_gb]\nHBM3E = 0.0\n[mask_set_usd]\nN3 = 1.0\n")
    cheap = cost_json("--data", str(file))
    assert cheap["unit_cost_usd"]["memory"] == 0.0
    assert cheap["programme_cost_usd"]["mask_set"] == 1.0
    area = cost_json("--set", "host_io_mm2=120")
    assert area["area_mm2"]["compute_die"] == pytest.approx(base["area_mm2"]["compute_die"] + 100)


def test_cost_errors_are_one_line_with_exit_code_2(tmp_path):
    for args, message in [
        (("--volume", "0"), "Invalid value for '--volume': must be an integer from 1 to 10,000,000,000 (got 0)"),
        (("--set", "pue=abc"), "PPA data pue"),
        (("--set", "logic_mtr_per_mm2.N3=5"), "reticle limit"),
    ]:
        result = fabless("cost", "--chip", "fab1", *args)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    chip = tmp_path / "n1.toml"
    preset = (resources.files("fabless") / "data" / "chips" / "fab1.toml").read_text()
    chip.write_text(preset.replace('process_node = "N3"', 'process_node = "N1"'))
    result = fabless("cost", "--chip", str(chip))
    assert result.returncode == 2 and "process node N1 has no" in result.stderr


def test_cost_plot_is_written_whole(tmp_path):
    plot = tmp_path / "cost.png"
    result = fabless("cost", "--chip", "fab1", "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cost.png"]
    missing = tmp_path / "nowhere" / "cost.png"
    result = fabless("cost", "--chip", "fab1", "--plot", str(missing))
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_tco_prices_tokens_and_break_even_and_follows_overrides(tmp_path):
    args = ("tco", "--model", "llama-3-70b", "--chips", "fab1,h100,tpu-v6e,tpu7x", "--weights", "fp8", "--json")
    result = fabless(*args)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    rows = {(row["chip"], row["option"]): row for row in report["rows"]}
    assert set(rows) == {("fab1", "build"), ("h100", "buy"), ("h100", "rent"), ("tpu-v6e", "rent")}
    rent = rows[("h100", "rent")]
    assert rent["usd_per_chip_hour"]["total"] == 2.99  # the preset's rental price
    assert rent["usd_per_mtoken"] == pytest.approx(2.99 * rent["chips"] / (rent["tokens_per_s"] * 3600) * 1e6)
    assert rows[("fab1", "build")]["break_even_volume"] is None
    assert report["unpriced"] == ["tpu7x"]
    assert rent["break_even_volume"] > 0
    decode = report["build_decode_power_w"]
    assert 0 < decode["total"] < json.loads(fabless("cost", "--chip", "fab1", "--json").stdout)["tdp_w"]["total"]
    dearer = json.loads(fabless(*args, "--set", "usd_per_kwh=0.16").stdout)
    before, after = rows[("h100", "buy")]["usd_per_chip_hour"], dearer["rows"][1]["usd_per_chip_hour"]
    assert after["power_usd"] == pytest.approx(2 * before["power_usd"])
    plot = tmp_path / "tco.png"
    assert fabless(*args[:-1], "--plot", str(plot)).returncode == 0 and plot.stat().st_size > 0
