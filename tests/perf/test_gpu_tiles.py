"""The GPU GEMM model's mechanisms: tile choice, stream-K, overlap and the boost window."""

import statistics
from dataclasses import replace

import pytest

from fabless.chip import load_chip
from fabless.perf import estimate_gemm
from fabless.perf.calibrate import DATA, calibration_groups, errors, fit, fitted_toml, held_out, load_measurements
from fabless.perf.calibration import efficiency_for
from fabless.perf.gpu import tiles


def test_hopper_picks_no_tile_beyond_its_macro_tile_and_every_tile_is_sourced():
    h100 = load_chip("h100")
    macro = h100.core.matrix.rows * h100.core.matrix.cols
    assert {(t.m, t.n) for t in tiles() if t.m * t.n <= macro} >= {(128, 256), (256, 128), (128, 128)}
    assert all(0.0 < t.efficiency <= 1.0 for t in tiles())
    assert "CUTLASS" in (DATA / "gpu_tiles.toml").read_text()


def test_stream_k_removes_the_partial_last_wave():
    """133 tiles of 128x256 would need two waves on 132 SMs; stream-K deals them evenly."""
    h100 = load_chip("h100")
    eff = efficiency_for(h100)
    full = estimate_gemm(h100, 128 * 12, 256 * 11, 8192, efficiency=eff).compute_s
    one_more = estimate_gemm(h100, 128 * 7, 256 * 19, 8192, efficiency=eff).compute_s
    assert one_more / full == pytest.approx(133 / 132, rel=0.08)
    data_parallel = estimate_gemm(h100, 128 * 7, 256 * 19, 8192, efficiency=replace(eff, streamk=0.0)).compute_s
    assert data_parallel > 1.3 * one_more


def test_a_kernel_longer_than_the_boost_window_runs_the_rest_at_the_sustained_rate():
    h100 = load_chip("h100")
    eff = efficiency_for(h100)
    short = estimate_gemm(h100, 2048, 4096, 4096, efficiency=eff)
    long = estimate_gemm(h100, 65536, 16384, 8192, efficiency=eff)
    assert short.compute_s < eff.boost_window_s < long.compute_s
    assert long.flops / long.compute_s < short.flops / short.compute_s


def test_a_weight_streaming_gemm_pays_part_of_its_compute_on_top_of_the_stream():
    h100 = load_chip("h100")
    eff = efficiency_for(h100)
    timed = estimate_gemm(h100, 64, 28672, 8192, efficiency=eff)
    hidden = estimate_gemm(h100, 64, 28672, 8192, efficiency=replace(eff, gemm_overlap_loss=0.0))
    assert eff.gemm_overlap_loss > 0.0 and timed.memory_s > hidden.memory_s


def test_h200_is_held_out_of_the_hopper_fit():
    assert "h200" in held_out()
    assert "h200" not in (DATA / "fitted.toml").read_text().split("[chip.h200]")[1].split("source")[1].split("\n")[0]


def test_calibrate_script_reproduces_the_committed_hopper_fit_exactly():
    group = next(g for g in calibration_groups() if "h100" in g)
    fitted_chips = [load_chip(name) for name in group if name not in held_out()]
    measurements = [m for chip in fitted_chips for m in load_measurements(chip.name)]
    text = fitted_toml(group, fit(fitted_chips, measurements), measurements)
    assert text in (DATA / "fitted.toml").read_text()


@pytest.mark.parametrize(("chip_name", "kind", "bar"), [("h100", "gemm", 0.06), ("h100", "attention", 0.10)])
def test_measured_kernel_file_errors(chip_name, kind, bar):
    chip = load_chip(chip_name)
    rows = [m for m in load_measurements(chip_name) if m.kind == kind and m.source.startswith("Fabless")]
    assert len(rows) >= 13
    assert statistics.median(abs(e) for e in errors(chip, rows)) <= bar
