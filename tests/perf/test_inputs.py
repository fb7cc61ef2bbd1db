"""The performance model refuses impossible shapes by name and never prices a valid one as NaN."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.chip import load_chip, preset_names
from fabless.errors import FablessError
from fabless.model import Precision, load_model_config
from fabless.perf import (
    allreduce_s,
    chips_needed,
    decode_time,
    estimate_gemm,
    estimate_serving,
    fits,
    memory_footprint,
    phase_time_s,
    prefill_time,
    shard_config,
)

CHIPS = preset_names()


@pytest.fixture(scope="module")
def h100():
    return load_chip("h100")


@pytest.fixture(scope="module")
def llama8b():
    return load_model_config("llama-3-8b")


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((0, 8, 8), r"m: must be a whole number from 1 to 4,294,967,296 \(got 0\)"),
        ((8, -8, 8), r"n: .* \(got -8\)"),
        ((8, 8, math.nan), r"k: .* \(got nan\)"),
        ((8, 8, 8.0), r"k: .* \(got 8.0\)"),
        ((True, 8, 8), r"m: .* \(got True\)"),
        ((2**33, 8, 8), r"m: .* \(got 8589934592\)"),
    ],
)
def test_gemm_dimensions_are_checked_by_name(h100, shape, message):
    with pytest.raises(FablessError, match=message):
        estimate_gemm(h100, *shape)


def test_step_and_serving_shapes_are_checked_by_name(h100, llama8b):
    precision = Precision()
    cases = [
        (lambda: prefill_time(h100, llama8b, precision, 0, 128), r"batch: .* \(got 0\)"),
        (lambda: prefill_time(h100, llama8b, precision, 1, -5), r"seq: .* \(got -5\)"),
        (lambda: decode_time(h100, llama8b, precision, 1, math.inf), r"context: .* \(got inf\)"),
        (lambda: phase_time_s(h100, llama8b, precision, "train", 1, 8, 1), r"phase: must be prefill or decode"),
        (lambda: phase_time_s(h100, llama8b, precision, "decode", 1, 8, 0), r"chips: .* from 1 to 65,536"),
        (lambda: estimate_serving(h100, llama8b, precision, 1, 2**21, 8), r"input_len: .* to 1,048,576"),
        (lambda: estimate_serving(h100, llama8b, precision, 1, 8, 0), r"output_len: .* \(got 0\)"),
        (lambda: estimate_serving(h100, llama8b, precision, 1, 8000, 256),
         r"input_len 8,000 \+ output_len 256 tokens exceed llama-3-8b's context window"),
        (lambda: estimate_serving(h100, llama8b, precision, 2**21, 8, 8), r"batch: .* to 1,048,576"),
        (lambda: estimate_serving(h100, llama8b, precision, 1, 8, 8, chips=-2), r"chips: .* \(got -2\)"),
        (lambda: memory_footprint(llama8b, precision, 1, 0), r"context: .* \(got 0\)"),
        (lambda: fits(h100, memory_footprint(llama8b, precision, 1, 8), chips=0), r"chips: .* \(got 0\)"),
        (lambda: shard_config(llama8b, math.nan), r"chips: .* \(got nan\)"),
        (lambda: allreduce_s(h100, math.nan, 2), r"message_bytes: .* \(got nan\)"),
    ]
    for make, message in cases:
        with pytest.raises(FablessError, match=message):
            make()


def test_a_model_too_large_for_any_deployment_is_an_error_not_a_chip_count(h100):
    config = load_model_config("llama-3-70b")
    with pytest.raises(FablessError, match=r"llama-3-70b at batch 1048576 and 1,048,576 tokens per sequence needs "
                                           r"more than 65,536 h100 chips"):
        chips_needed(h100, config, Precision(), 2**20, 2**20)


@settings(max_examples=100, deadline=None)
@given(
    chip_name=st.sampled_from(CHIPS),
    m=st.integers(1, 2**32), n=st.integers(1, 2**32), k=st.integers(1, 2**32),
    dtype=st.sampled_from(["bf16", "fp8", "int8", "fp32"]),
)
def test_any_valid_gemm_takes_a_finite_positive_time(chip_name, m, n, k, dtype):
    chip = load_chip(chip_name)
    if not chip.supports(dtype):
        return
    result = estimate_gemm(chip, m, n, k, dtype)
    assert 0 < result.time_s < math.inf and result.flops > 0


@settings(max_examples=40, deadline=None)
@given(
    chip_name=st.sampled_from(CHIPS),
    batch=st.integers(1, 4096), input_len=st.integers(1, 6000), output_len=st.integers(1, 2192),
)
def test_any_valid_serving_shape_has_finite_positive_times(llama8b, chip_name, batch, input_len, output_len):
    chip = load_chip(chip_name)
    precision = Precision.from_options("fp8" if chip.supports("fp8") else "bf16")
    try:
        estimate = estimate_serving(chip, llama8b, precision, batch, input_len, output_len)
    except FablessError as error:  # a valid shape may overflow the model or every deployment
        assert "context window of 8,192" in str(error) or "chips: lower the batch or the context" in str(error)
        return
    assert 0 < estimate.ttft_s < math.inf and 0 < estimate.tpot_s < math.inf
    assert 1 <= estimate.chips <= 65_536 and estimate.fits


def test_a_chip_without_links_cannot_share_a_model():
    from fabless.chip import load_chip
    from fabless.perf import allreduce_s

    fab1 = load_chip("fab1")
    lonely = fab1.model_copy(update={"links": fab1.links.model_copy(update={"count": 0})})
    assert allreduce_s(lonely, 1e6, 1) == 0.0
    with pytest.raises(FablessError, match=r"fab1 has no chip-to-chip bandwidth \(links.count 0"):
        allreduce_s(lonely, 1e6, 4)
