"""The calibrated GPU model against published measurements, and the fitter on known answers."""

import statistics
from dataclasses import replace

import pytest

from fabless.chip import load_chip
from fabless.perf.calibrate import Measurement, calibration_groups, errors, fit, load_measurements, predict_s
from fabless.perf.calibration import efficiency_for, family_efficiency


@pytest.mark.parametrize("chip_name", ["h100", "h200"])
@pytest.mark.parametrize("kind", ["gemm", "whole model"])
def test_committed_fit_has_at_most_ten_percent_median_error(chip_name, kind):
    chip = load_chip(chip_name)
    rows = [m for m in load_measurements(chip_name) if (m.kind == "gemm") == (kind == "gemm")]
    assert len(rows) >= 4
    assert statistics.median(abs(e) for e in errors(chip, rows)) <= 0.10


@pytest.mark.parametrize("chip_name", ["mi300x", "mi325x"])
def test_cdna3_gemm_fit_has_at_most_ten_percent_median_error(chip_name):
    chip = load_chip(chip_name)
    rows = [m for m in load_measurements(chip_name) if m.kind == "gemm"]
    assert {dict(m.shape)["dtype"] for m in rows} == {"bf16", "fp8"}
    assert statistics.median(abs(e) for e in errors(chip, rows)) <= 0.10


def test_cdna3_chips_are_fitted_alone_since_their_power_caps_differ():
    groups = calibration_groups()
    assert ["mi300x"] in groups and ["mi325x"] in groups
    assert efficiency_for(load_chip("mi300x")).matmul_fp8 < efficiency_for(load_chip("mi325x")).matmul_fp8


def test_mi300x_decode_fit_has_at_most_ten_percent_median_error():
    chip = load_chip("mi300x")
    rows = [m for m in load_measurements("mi300x") if m.kind == "decode"]
    assert len({dict(m.shape)["batch"] for m in rows}) >= 4
    assert statistics.median(abs(e) for e in errors(chip, rows)) <= 0.10


def test_a_fit_to_one_model_shard_leaves_hbm_kernel_cost_and_sustained_rate_at_family_defaults():
    """MI300X's decode rows are all one TP8 shard of one model: its weight stream and kernel count
    are the same at every batch, so they cannot be told from the fixed step cost, and no
    compute-bound whole step shows the sustained rate. Only the step and per-sequence costs move."""
    chip = load_chip("mi300x")
    fitted = fit([chip], load_measurements("mi300x"))
    family = family_efficiency("gpu")
    assert fitted.hbm == family.hbm
    assert fitted.kernel_overhead_s == family.kernel_overhead_s
    assert fitted.sustained_compute == family.sustained_compute
    assert 0.0 < fitted.step_overhead_s < 5e-3
    assert 0.0 < fitted.sequence_overhead_s < 1e-3


def test_hopper_chips_share_one_fit():
    assert ["h100", "h200"] in calibration_groups()
    assert efficiency_for(load_chip("h100")) == efficiency_for(load_chip("h200"))


def test_fit_recovers_parameters_that_generated_the_measurements():
    chip = load_chip("h100")
    family = family_efficiency("gpu")
    # Three m per (n, k) is no shape sweep: the tile, overlap and boost parameters stay at defaults.
    truth = replace(
        efficiency_for(chip),
        streamk=family.streamk,
        gemm_overlap_loss=family.gemm_overlap_loss,
        boost_window_s=family.boost_window_s,
        matmul=0.66,
        matmul_fp8=0.58,
        hbm=0.81,
        kernel_overhead_s=3e-6,
        step_overhead_s=0.4e-3,
        sequence_overhead_s=50e-6,
        sustained_compute=0.9,
    )
    shapes = [(m, n, k, d) for m in (1, 64, 4096) for n, k in ((8192, 8192), (28672, 4096)) for d in ("bf16", "fp8")]
    synthetic = [
        Measurement("h100", "gemm", (("m", str(m)), ("n", str(n)), ("k", str(k)), ("dtype", d)), 1.0, "synthetic")
        for m, n, k, d in shapes
    ]
    synthetic += [
        Measurement(
            "h100",
            phase,
            (
                ("model", "llama-3-8b"),
                ("weights_dtype", "bf16"),
                ("batch", str(b)),
                ("seq_or_context", str(length)),
                ("chips", "1"),
            ),
            1.0,
            "synthetic",
        )
        for phase, b, length in (("decode", 1, 512), ("decode", 64, 2048), ("prefill", 1, 2048), ("prefill", 4, 512))
    ]
    synthetic = [replace(m, measured_s=predict_s(chip, m, truth)) for m in synthetic]
    fitted = fit([chip], synthetic)
    for name in ("matmul", "matmul_fp8", "hbm", "sustained_compute", "sequence_overhead_s"):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), rel=0.03), name
    assert max(abs(e) for e in errors(chip, synthetic, fitted)) < 0.02


def test_fit_separates_the_per_sequence_cost_from_the_fixed_step_cost_across_batch_sizes():
    """Decode steps of one TP8 shard at batch 1 to 128, as in AMD's MI300X latency tables."""
    chip = load_chip("mi300x")
    truth = replace(efficiency_for(chip), step_overhead_s=2e-3, sequence_overhead_s=80e-6)
    synthetic = [
        Measurement(
            "mi300x",
            "decode",
            (
                ("model", "llama-3-70b"),
                ("weights_dtype", "fp8"),
                ("batch", str(b)),
                ("seq_or_context", str(length)),
                ("chips", "8"),
            ),
            1.0,
            "synthetic",
        )
        for b in (1, 4, 16, 64, 128)
        for length in (1152, 3072)
    ]
    synthetic = [replace(m, measured_s=predict_s(chip, m, truth)) for m in synthetic]
    fitted = fit([chip], synthetic)
    assert fitted.step_overhead_s == pytest.approx(truth.step_overhead_s, rel=0.03)
    assert fitted.sequence_overhead_s == pytest.approx(truth.sequence_overhead_s, rel=0.03)
