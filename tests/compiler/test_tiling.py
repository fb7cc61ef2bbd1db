"""The tiling planner: tiles cover the matmul, fit SRAM and the accumulator, or fail clearly."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.chip import Sram, load_chip
from fabless.compiler.tiling import accumulator_rows, plan_matmul
from fabless.errors import FablessError

FAB1 = load_chip("fab1")


def _with_sram(mib: float):
    core = FAB1.core.model_copy(update={"sram": Sram(mib=mib, bytes_per_cycle=4096)})
    return FAB1.model_copy(update={"core": core})


def test_small_decode_projection_is_one_tile_on_fab1():
    # 576 x 192 int8 is 108 KiB: below MIN_TILE_BYTES, nothing to pipeline.
    plan = plan_matmul(FAB1, 1, 576, 192, x_dtype="int8", w_dtype="int8", out_dtype="fp32")
    assert (plan.m_block, plan.k_tile, plan.n_tile, plan.steps) == (1, 576, 192, 1)


def test_large_decode_projection_pipelines_over_every_mxu():
    # 4096 x 512 bf16 (4 MiB): eight tiles, each one column block per MXU (4 x 128), K cut in 8.
    plan = plan_matmul(FAB1, 1, 4096, 512, x_dtype="bf16", w_dtype="bf16", out_dtype="fp32")
    assert (plan.k_tile, plan.n_tile, plan.k_tiles * plan.n_tiles) == (512, 512, 8)
    assert plan.gemms(FAB1) == 8 * 4


def test_lm_head_splits_n_to_fit_sram():
    plan = plan_matmul(FAB1, 1, 576, 49152, x_dtype="fp32", w_dtype="fp32", out_dtype="fp32")
    assert plan.n_tiles > 1
    assert plan.n_tile % FAB1.core.matrix.cols == 0
    assert plan.sram_bytes <= FAB1.core.sram.capacity_bytes


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(1, 3000),
    k=st.integers(1, 5000),
    n=st.integers(1, 70000),
    mib=st.sampled_from([0.25, 1.0, 24.0]),
    w=st.sampled_from(["int8", "fp8", "bf16", "fp32"]),
)
def test_plans_cover_the_matmul_and_fit(m, k, n, mib, w):
    chip = _with_sram(mib)
    rows, cols = chip.core.matrix.rows, chip.core.matrix.cols
    plan = plan_matmul(chip, m, k, n, x_dtype="bf16", w_dtype=w, out_dtype="fp32")
    assert plan.m_block * plan.m_blocks >= m and plan.m_block <= m
    assert plan.k_tile * plan.k_tiles >= k and plan.k_tile <= k
    assert plan.n_tile * plan.n_tiles >= n and plan.n_tile <= n
    assert plan.k_tile == k or plan.k_tile % rows == 0
    assert plan.n_tile == n or plan.n_tile % cols == 0
    assert plan.sram_bytes <= chip.core.sram.capacity_bytes
    assert plan.accumulator_rows(chip) <= accumulator_rows(chip)


def test_tile_that_cannot_fit_names_the_buffer_and_sizes():
    with pytest.raises(FablessError) as error:
        plan_matmul(
            _with_sram(0.01),
            4,
            512,
            512,
            x_dtype="fp32",
            w_dtype="fp32",
            out_dtype="fp32",
            name="q_proj",
        )
    assert str(error.value) == (
        "q_proj: weight tile 128x128 fp32 double-buffered needs 131072 B, and all tiles 133120 B, "
        "but the SRAM budget of chip fab1 is 10485 B; raise core.sram.mib"
    )


def test_resident_activations_leave_the_budget_to_weights():
    plan = plan_matmul(
        FAB1,
        64,
        576,
        4096,
        x_dtype="fp32",
        w_dtype="int8",
        out_dtype="fp32",
        sram_budget_bytes=2 * 576 * 2048,
        resident=True,
    )
    # 2.25 MiB of int8 weights pipeline as eight 576 x 512 tiles (one column block per MXU).
    assert (plan.k_tile, plan.n_tile, plan.sram_bytes) == (576, 512, 2 * 576 * 512)


def test_nonpositive_dimension_is_an_error():
    with pytest.raises(FablessError, match="k must be at least 1"):
        plan_matmul(FAB1, 1, 0, 8, x_dtype="fp32", w_dtype="fp32", out_dtype="fp32")
