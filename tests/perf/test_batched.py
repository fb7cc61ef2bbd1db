"""The batched evaluator prices every systolic design exactly as the scalar model does."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.chip import ChipSpec, load_chip
from fabless.errors import FablessError
from fabless.model import Precision, load_model_config
from fabless.perf import (
    SystolicDesigns,
    estimate_serving,
    memory_footprint,
    phase_time_s,
    phase_times_s,
    serving_estimates,
)
from fabless.perf.batched import _footprint_arrays
from fabless.perf.batched_rules import BATCHED_RULES
from fabless.perf.rules import _RULES

RELATIVE = 1e-9
DECODERS = ("llama-3-8b", "llama-3-70b", "llama-3.1-405b", "mixtral-8x7b", "qwen2.5-7b", "smollm2-135m", "gpt2")
FAB1 = load_chip("fab1")


@st.composite
def designs_around_fab1(draw: st.DrawFn) -> ChipSpec:
    """A valid systolic chip with every field a search varies drawn around fab1."""
    rows, cols = draw(st.integers(4, 512)), draw(st.integers(4, 512))
    macs = rows * cols * draw(st.sampled_from([1, 2]))
    spec = FAB1.model_dump()
    spec.update(
        clock_ghz=draw(st.floats(0.5, 3.0)),
        cores=draw(st.integers(1, 64)),
        dies=draw(st.integers(1, 8)),
    )
    spec["core"] = {
        "matrix": {
            "count": draw(st.integers(1, 16)),
            "rows": rows,
            "cols": cols,
            "ops_per_cycle": {"int8": 4 * macs, "fp8": 4 * macs, "bf16": 2 * macs, "fp32": max(1, macs // 2)},
            "weight_buffers": draw(st.integers(1, 2)),
            "accumulator_kib": draw(st.floats(1, 65_536)),
        },
        "vector": {"lanes": draw(st.integers(16, 16_384)), "ops_per_cycle": draw(st.floats(16, 65_536))},
        "sram": {"mib": draw(st.floats(1, 256)), "bytes_per_cycle": draw(st.floats(64, 65_536))},
    }
    spec["hbm"] = {
        "generation": "HBM3E",
        "stacks": draw(st.integers(1, 16)),
        "capacity_gib": draw(st.floats(8, 512)),
        "bandwidth_tb_s": draw(st.floats(0.5, 32)),
    }
    spec["links"] = {
        "count": draw(st.integers(1, 64)),
        "gb_s_per_direction": draw(st.floats(10, 1000)),
        "topology": "torus-3d",
        "domain_chips": 64,
    }
    return ChipSpec.model_validate(spec)


@st.composite
def workloads(draw: st.DrawFn) -> tuple[str, Precision, int, int]:
    """A zoo decoder, a precision, and a prompt and answer inside its context window."""
    name = draw(st.sampled_from(DECODERS))
    window = load_model_config(name).max_positions
    input_len = draw(st.integers(1, min(4096, window - 1)))
    output_len = draw(st.integers(1, min(1024, window - input_len)))
    return name, Precision.from_options(draw(st.sampled_from(["bf16", "fp8", "int8", "int4"]))), input_len, output_len


def assert_close(scalar: float, batched: float) -> None:
    assert abs(batched - scalar) <= RELATIVE * abs(scalar), (scalar, batched)


@settings(max_examples=50, deadline=None)
@given(
    chips=st.lists(designs_around_fab1(), min_size=1, max_size=6),
    workload=workloads(),
    batches=st.lists(st.integers(1, 256), min_size=6, max_size=6),
    one_batch=st.booleans(),
    group=st.sampled_from([None, None, 1, 2, 8]),
)
def test_serving_estimates_equal_the_scalar_model_for_every_design(chips, workload, batches, one_batch, group):
    name, precision, input_len, output_len = workload
    config = load_model_config(name)
    batch = batches[0] if one_batch else np.array(batches[: len(chips)])
    result = serving_estimates(
        SystolicDesigns.from_chips(chips), config, precision, batch, input_len, output_len, group
    )
    for i, chip in enumerate(chips):
        b = int(result.batch[i])
        scalar = estimate_serving(chip, config, precision, b, input_len, output_len, group)
        assert (result.chips[i], result.fits[i], result.max_batch[i]) == (scalar.chips, scalar.fits, scalar.max_batch)
        assert_close(scalar.ttft_s, result.ttft_s[i])
        assert_close(scalar.tpot_s, result.tpot_s[i])
        assert_close(scalar.tokens_per_s, result.tokens_per_s[i])
        assert_close(scalar.footprint.kv_cache_bytes, result.kv_cache_bytes[i])
        assert_close(scalar.footprint.activation_bytes, result.activation_bytes[i])


@settings(max_examples=30, deadline=None)
@given(
    chips=st.lists(designs_around_fab1(), min_size=1, max_size=4),
    name=st.sampled_from((*DECODERS, "minilm-l6")),
    phase=st.sampled_from(["prefill", "decode"]),
    batch=st.integers(1, 64),
    length=st.integers(1, 500),
    degree=st.sampled_from([1, 2, 4, 16]),
)
def test_phase_times_equal_the_scalar_model_on_any_tensor_parallel_group(chips, name, phase, batch, length, degree):
    config = load_model_config(name)
    if phase == "decode" and config.family == "bert":
        phase = "prefill"
    times = phase_times_s(SystolicDesigns.from_chips(chips), config, Precision(), phase, batch, length, degree)
    for i, chip in enumerate(chips):
        assert_close(phase_time_s(chip, config, Precision(), phase, batch, length, degree), times[i])


@pytest.mark.parametrize(
    "preset", ["fab1", "tpu-v6e", "tpu-v5e", "tpu7x", "trainium2", "gaudi3", "maia100", "small-test"]
)
def test_systolic_presets_match_on_mixtral_moe(preset):
    chip = load_chip(preset)
    config, precision = (
        load_model_config("mixtral-8x7b"),
        Precision.from_options("int8" if preset == "maia100" else "bf16"),
    )
    if not chip.supports(precision.matmul_dtype):
        precision = Precision.from_options("int8")
    result = serving_estimates(SystolicDesigns.from_chips([chip]), config, precision, np.array([48]), 1000, 200)
    scalar = estimate_serving(chip, config, precision, 48, 1000, 200)
    assert_close(scalar.ttft_s, result.ttft_s[0])
    assert_close(scalar.tpot_s, result.tpot_s[0])
    assert (result.chips[0], result.max_batch[0]) == (scalar.chips, scalar.max_batch)


def test_a_design_too_small_for_the_model_needs_a_group_or_does_not_fit():
    small = _with_hbm(FAB1, 4.0)
    config, precision = load_model_config("llama-3-70b"), Precision()
    designs = SystolicDesigns.from_chips([FAB1, small])
    grouped = serving_estimates(designs, config, precision, 8, 2048, 256)
    assert list(grouped.chips) == [1, estimate_serving(small, config, precision, 8, 2048, 256).chips]
    assert grouped.chips[1] > 1 and grouped.fits.all()
    forced = serving_estimates(designs, config, precision, 8, 2048, 256, chips=1)
    assert list(forced.fits) == [True, False]
    assert_close(estimate_serving(small, config, precision, 8, 2048, 256, chips=1).ttft_s, forced.ttft_s[1])


def test_a_design_no_group_can_hold_has_no_times():
    tiny = _with_hbm(FAB1, 0.0001)
    config = load_model_config("llama-3.1-405b")
    with pytest.raises(FablessError, match="needs more than"):
        estimate_serving(tiny, config, Precision(), 1, 128, 16)
    result = serving_estimates(SystolicDesigns.from_chips([tiny, FAB1]), config, Precision(), 1, 128, 16)
    assert result.chips[0] == 0 and not result.fits[0] and result.max_batch[0] == 0
    assert np.isnan(result.ttft_s[0]) and np.isnan(result.tokens_per_s[0])
    assert_close(estimate_serving(FAB1, config, Precision(), 1, 128, 16).tpot_s, result.tpot_s[1])


def test_a_single_design_gives_arrays_of_one():
    config = load_model_config("llama-3-8b")
    result = serving_estimates(SystolicDesigns.from_chips([FAB1]), config, Precision.from_options("fp8"), 32, 2048, 256)
    scalar = estimate_serving(FAB1, config, Precision.from_options("fp8"), 32, 2048, 256)
    assert result.ttft_s.shape == result.tokens_per_s.shape == (1,)
    assert_close(scalar.tokens_per_s, result.tokens_per_s[0])
    assert_close(scalar.decode_tokens_per_s, result.decode_tokens_per_s[0])


def test_every_op_type_the_scalar_model_prices_has_a_batched_rule():
    assert set(_RULES) <= set(BATCHED_RULES)


@pytest.mark.parametrize("name", ["llama-3-8b", "mixtral-8x7b", "gpt2"])
@pytest.mark.parametrize("weights", ["bf16", "fp8", "int4"])
def test_footprint_arrays_equal_memory_footprint(name, weights):
    config, precision = load_model_config(name), Precision.from_options(weights)
    batches = np.array([1, 3, 17, 256, 4096, 2**20])
    kv, act = _footprint_arrays(config, precision, batches, 1000)
    for i, b in enumerate(batches):
        footprint = memory_footprint(config, precision, int(b), 1000)
        assert (kv[i], act[i]) == (footprint.kv_cache_bytes, footprint.activation_bytes)


def test_gpu_chips_are_refused_with_the_reason():
    with pytest.raises(FablessError, match="h100 is a gpu chip: the batched evaluator prices systolic chips only"):
        SystolicDesigns.from_chips([FAB1, load_chip("h100")])


def test_a_precision_a_design_cannot_compute_is_refused_naming_the_design():
    no_fp8 = FAB1.model_copy(
        update={
            "core": FAB1.core.model_copy(
                update={"matrix": FAB1.core.matrix.model_copy(update={"ops_per_cycle": {"bf16": 32768}})}
            )
        }
    )
    designs = SystolicDesigns.from_chips([FAB1, no_fp8])
    with pytest.raises(FablessError, match=r"design 1 \(fab1\) has no fp8 matrix math"):
        serving_estimates(designs, load_model_config("llama-3-8b"), Precision.from_options("fp8"), 1, 128, 16)


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        (0, "batch: must be a whole number from 1"),
        (np.array([1, 2, 3]), "batch: must be one whole number or 2 of them"),
    ],
)
def test_bad_batches_are_refused(batch, message):
    designs = SystolicDesigns.from_chips([FAB1, FAB1])
    with pytest.raises(FablessError, match=message):
        serving_estimates(designs, load_model_config("llama-3-8b"), Precision(), batch, 128, 16)


def _with_hbm(chip: ChipSpec, capacity_gib: float) -> ChipSpec:
    return chip.model_copy(update={"hbm": chip.hbm.model_copy(update={"capacity_gib": capacity_gib})})
