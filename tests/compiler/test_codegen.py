"""Whole-step compilation from shapes alone: program sizes, reuse, and the errors a user sees."""

import pytest

from fabless.chip import ChipSpec, load_chip
from fabless.compiler import compile_graph, context_bucket, plan_layout
from fabless.compiler.numerics import Numerics
from fabless.errors import FablessError
from fabless.graph import decode_graph, encode_graph, prefill_graph
from fabless.isa import MxuGemm
from fabless.model import Precision, load_model_config

FAB1 = load_chip("fab1")
SMOL = load_model_config("smollm2-135m")


def _chip_with_sram(mib: float) -> ChipSpec:
    raw = FAB1.model_dump()
    raw["core"]["sram"]["mib"] = mib
    return ChipSpec.model_validate(raw)


def test_decode_compiles_without_weights_and_covers_every_weight_once():
    layout = plan_layout(SMOL, Numerics.for_weights("int8"), max_context=256)
    program = compile_graph(FAB1, decode_graph(SMOL, Precision(), 1, 40), layout)
    weight_queues = [name for name in program.streams if name.endswith("dma0")]
    loaded = sum(i.rows * i.row_bytes for q in weight_queues for i in program.streams[q] if hasattr(i, "row_bytes"))
    weights = sum(r.nbytes for r in layout.regions.values() if r.role == "weight")
    assert loaded == weights  # the cores share the weights: each byte streams once
    gemms = sum(isinstance(i, MxuGemm) for code in program.streams.values() for i in code)
    assert gemms < 2500  # whole weight tiles per instruction, not 128x128 blocks
    engines = {"dma0", "dma1", "mxu0", "mxu1", "mxu2", "mxu3", "vpu"}
    assert set(program.streams) == engines | {f"c{core}.{e}" for core in range(1, 8) for e in engines}


def test_one_core_program_streams_every_weight_on_core_0():
    layout = plan_layout(SMOL, Numerics.for_weights("int8"), max_context=256)
    program = compile_graph(FAB1, decode_graph(SMOL, Precision(), 1, 40), layout, cores=1)
    assert set(program.streams) == {"dma0", "dma1", "mxu0", "mxu1", "mxu2", "mxu3", "vpu"}
    with pytest.raises(FablessError, match=r"chip fab1 has 8 cores: a program can use 1..8 \(got 9\)"):
        compile_graph(FAB1, decode_graph(SMOL, Precision(), 1, 40), layout, cores=9)


def test_decode_steps_of_one_bucket_share_a_program_shape():
    assert context_bucket(FAB1, 41, 512) == context_bucket(FAB1, 128, 512) == 128
    assert context_bucket(FAB1, 129, 512) == 256
    assert context_bucket(FAB1, 500, 300) == 300


def test_encoder_compiles():
    config = load_model_config("minilm-l6")
    layout = plan_layout(config, Numerics.for_weights("bf16"), max_context=128)
    assert compile_graph(FAB1, encode_graph(config, Precision(), 1, 20), layout).instruction_count > 0


def test_activation_buffer_that_cannot_fit_names_it_and_its_size():
    layout = plan_layout(SMOL, Numerics(), max_context=2048)
    with pytest.raises(FablessError) as error:
        compile_graph(_chip_with_sram(1.0), prefill_graph(SMOL, Precision(), 1, 400), layout)
    assert str(error.value).startswith("prefill step of 400 tokens for smollm2-135m: SRAM buffer ")
    assert "does not fit" in str(error.value) and str(error.value).endswith("raise core.sram.mib or shorten the input")


def test_weight_tile_that_cannot_fit_names_the_buffer():
    config = load_model_config("minilm-l6")
    layout = plan_layout(config, Numerics(), max_context=16)
    with pytest.raises(FablessError, match=r"weight tile 128x128 fp32 double-buffered needs 131072 B"):
        compile_graph(_chip_with_sram(0.15), encode_graph(config, Precision(), 1, 1), layout)


def test_moe_model_names_the_missing_op():
    config = load_model_config("mixtral-8x7b")
    layout_config = load_model_config("smollm2-135m")
    layout = plan_layout(layout_config, Numerics(), max_context=16)
    with pytest.raises(FablessError, match=r"op router \(MatMul\) is not supported by the compiler"):
        compile_graph(FAB1, decode_graph(config, Precision(), 1, 4), layout)


def test_context_beyond_the_layout_is_an_error():
    layout = plan_layout(SMOL, Numerics(), max_context=64)
    with pytest.raises(FablessError, match="exceeds the layout's max context 64"):
        compile_graph(FAB1, decode_graph(SMOL, Precision(), 1, 70), layout)
