"""The HBM layout: aligned, disjoint regions and a row-major KV cache."""

import numpy as np
import pytest

from fabless.compiler.layout import plan_layout
from fabless.compiler.numerics import Numerics
from fabless.errors import FablessError
from fabless.model import load_model_config

SMOL = load_model_config("smollm2-135m")


@pytest.mark.parametrize("weights", ["fp32", "int8"])
def test_regions_are_aligned_and_disjoint(weights):
    layout = plan_layout(SMOL, Numerics.for_weights(weights), max_context=64)
    rows = layout.memory_map()
    for (_, offset, size, _, _), (_, next_offset, _, _, _) in zip(rows, rows[1:], strict=False):
        assert offset % 4096 == 0 and offset + size <= next_offset
    assert layout.size_bytes == rows[-1][1] + rows[-1][2]
    assert ("layers.0.qkv.scale" in layout.regions) == (weights == "int8")


def test_weights_are_stored_out_by_in_with_fused_projections():
    layout = plan_layout(SMOL, Numerics.for_weights("fp32"), max_context=8)
    assert layout["layers.3.qkv.weight"].shape == (576 + 2 * 192, 576)
    assert layout["layers.3.gate_up.weight"].shape == (2 * 1536, 576)
    assert layout["lm_head.weight"].shape == (49152, 576)


def test_kv_offset_matches_row_major_index():
    layout = plan_layout(SMOL, Numerics.for_weights("bf16"), max_context=16, batch=2)
    region = layout["kv_cache"]
    index = np.ravel_multi_index((7, 1, 1, 2, 13, 5), region.shape)
    assert layout.kv_offset(7, 1, 2, 13, sequence=1) + 5 * 2 == region.offset + index * 2


def test_context_beyond_the_model_is_an_error():
    with pytest.raises(FablessError, match="max context 9000 must be within 1..8192"):
        plan_layout(SMOL, Numerics(), max_context=9000)


def test_unknown_region_is_an_error():
    with pytest.raises(FablessError, match="has no region 'layers.99.qkv.weight'"):
        plan_layout(SMOL, Numerics(), max_context=4)["layers.99.qkv.weight"]
