"""Fit checks, the largest batch and the chips a model needs."""

import pytest

from fabless.chip import load_chip
from fabless.model import Precision, load_model_config
from fabless.perf import HBM_USABLE_FRACTION, chips_needed, max_batch, memory_footprint


def test_footprint_weights_and_kv_match_hand_computation():
    config = load_model_config("llama-3-8b")
    footprint = memory_footprint(config, Precision(), batch=4, context=1000)
    assert footprint.weight_bytes == config.params * 2
    # 32 layers x (K and V) x 8 heads x 128 x 2 bytes per token.
    assert footprint.kv_cache_bytes == 4 * 1000 * 32 * 2 * 8 * 128 * 2


def test_llama3_70b_needs_two_h100s_in_bf16_and_one_in_fp8_at_small_batch():
    chip = load_chip("h100")
    config = load_model_config("llama-3-70b")
    assert chips_needed(chip, config, Precision(), 1, 2048) == 2
    assert chips_needed(chip, config, Precision.from_options("fp8"), 1, 2048) == 1


def test_max_batch_is_the_largest_that_fits():
    chip = load_chip("h100")
    config = load_model_config("llama-3-8b")
    batch = max_batch(chip, config, Precision(), context=4096)
    usable = chip.hbm.capacity_bytes * HBM_USABLE_FRACTION
    assert memory_footprint(config, Precision(), batch, 4096).total_bytes <= usable
    assert memory_footprint(config, Precision(), batch + 1, 4096).total_bytes > usable
    assert batch == pytest.approx((usable - config.params * 2) / (4096 * 131072), rel=0.1)
