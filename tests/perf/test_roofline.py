"""No estimate beats the roofline, and the model moves the right way when inputs change."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.chip import load_chip, preset_names
from fabless.model import Precision, load_model_config
from fabless.perf import decode_time, estimate_gemm, prefill_time

CHIPS = preset_names()


@settings(max_examples=60, deadline=None)
@given(
    chip_name=st.sampled_from(CHIPS),
    m=st.integers(1, 16384),
    n=st.integers(1, 32768),
    k=st.integers(1, 32768),
    dtype=st.sampled_from(["bf16", "fp8", "int8"]),
)
def test_gemm_is_never_faster_than_peak_compute_or_bandwidth(chip_name, m, n, k, dtype):
    chip = load_chip(chip_name)
    if not chip.supports(dtype):
        return
    result = estimate_gemm(chip, m, n, k, dtype)
    assert result.time_s >= 2 * m * n * k / chip.peak_matrix_ops_per_s(dtype)
    operand_bytes = (m * k + k * n) * (1 if dtype in ("fp8", "int8") else 2)
    assert result.time_s >= operand_bytes / chip.hbm.bytes_per_s


@pytest.mark.parametrize("chip_name", CHIPS)
def test_whole_model_steps_respect_the_roofline(chip_name):
    chip = load_chip(chip_name)
    config = load_model_config("llama-3-8b")
    for step in (prefill_time(chip, config, Precision(), 4, 1024), decode_time(chip, config, Precision(), 16, 2048)):
        assert step.mxu_utilization <= 1.0
        assert step.hbm_utilization <= 1.0
        assert step.time_s >= step.flops / chip.peak_matrix_ops_per_s("bf16")


@pytest.mark.parametrize("chip_name", ["h100", "fab1"])
def test_more_batch_never_lowers_decode_throughput_when_memory_bound(chip_name):
    chip = load_chip(chip_name)
    config = load_model_config("llama-3-8b")
    throughput = [b / decode_time(chip, config, Precision(), b, 1024).time_s for b in (1, 2, 4, 8, 16, 32, 64)]
    assert throughput == sorted(throughput)


@pytest.mark.parametrize("chip_name", ["h100", "fab1"])
def test_more_bandwidth_never_slows_a_memory_bound_step(chip_name):
    chip = load_chip(chip_name)
    faster = chip.model_copy(
        update={"hbm": chip.hbm.model_copy(update={"bandwidth_tb_s": 2 * chip.hbm.bandwidth_tb_s})}
    )
    config = load_model_config("llama-3-8b")
    slow = decode_time(chip, config, Precision(), 1, 4096).time_s
    fast = decode_time(faster, config, Precision(), 1, 4096).time_s
    assert fast < slow
    gemv_slow = estimate_gemm(chip, 1, 8192, 8192).time_s
    gemv_fast = estimate_gemm(faster, 1, 8192, 8192).time_s
    assert gemv_fast < gemv_slow


def test_decode_at_batch_one_is_bandwidth_bound_on_h100():
    chip = load_chip("h100")
    step = decode_time(chip, load_model_config("llama-3-8b"), Precision(), 1, 1024)
    # 16 GB of bf16 weights at 3.35 TB/s is 4.8 ms; kernels reach 80-90% of peak plus launch costs.
    assert 4.8e-3 < step.time_s < 8e-3
    assert step.hbm_utilization > 0.6


def test_wave_quantisation_penalises_one_tile_too_many_on_a_gpu():
    chip = load_chip("h100")
    # 132 SMs with 128x256 tiles: 132 tiles fill one wave, 133 need a second.
    full = estimate_gemm(chip, 128 * 12, 256 * 11, 8192)
    over = estimate_gemm(chip, 128 * 12 + 1, 256 * 11, 8192)
    assert over.compute_s > 1.05 * full.compute_s
