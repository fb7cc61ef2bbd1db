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
    rows = load_measurements(chip_name)
    assert {dict(m.shape)["dtype"] for m in rows} == {"bf16", "fp8"}
    assert statistics.median(abs(e) for e in errors(chip, rows)) <= 0.10


def test_cdna3_chips_are_fitted_alone_since_their_power_caps_differ():
    groups = calibration_groups()
    assert ["mi300x"] in groups and ["mi325x"] in groups
    assert efficiency_for(load_chip("mi300x")).matmul_fp8 < efficiency_for(load_chip("mi325x")).matmul_fp8


def test_a_fit_without_memory_bound_rows_leaves_hbm_at_its_family_default():
    chip = load_chip("mi300x")
    fitted = fit([chip], load_measurements("mi300x"))
    assert fitted.hbm == family_efficiency("gpu").hbm
    assert fitted.kernel_overhead_s == family_efficiency("gpu").kernel_overhead_s


def test_hopper_chips_share_one_fit():
    assert ["h100", "h200"] in calibration_groups()
    assert efficiency_for(load_chip("h100")) == efficiency_for(load_chip("h200"))


def test_fit_recovers_parameters_that_generated_the_measurements():
    chip = load_chip("h100")
    truth = replace(
        efficiency_for(chip),
        matmul=0.66,
        matmul_fp8=0.58,
        hbm=0.81,
        kernel_overhead_s=3e-6,
        step_overhead_s=0.4e-3,
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
    for name in ("matmul", "matmul_fp8", "hbm", "sustained_compute"):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), rel=0.03), name
    assert max(abs(e) for e in errors(chip, synthetic, fitted)) < 0.02
