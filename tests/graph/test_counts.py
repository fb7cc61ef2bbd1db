"""FLOP and byte counts of whole models against hand-computed values."""

import pytest

from fabless.graph import Attention, MatMul, MoeMatMul, decode_graph, encode_graph, prefill_graph
from fabless.model import Precision, load_model_config


def _sum(graph, kind, field):
    return sum(getattr(op.cost(), field) for op in graph.ops if isinstance(op, kind))


def test_llama3_8b_decode_counts_match_hand_computation():
    graph = decode_graph(load_model_config("llama-3-8b"), Precision(), batch=1, context=1024)
    # Per layer: q and o are 4096x4096, k and v 4096x1024 (8 KV heads of 128), MLP 3 x 4096x14336.
    layer_weights = 2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336
    head = 4096 * 128256
    assert _sum(graph, MatMul, "flops") == 2 * (32 * layer_weights + head)
    assert _sum(graph, MatMul, "weight_bytes") == 2 * (32 * layer_weights + head)
    # One query against 1025 keys in 32 heads of 128: QK^T and PV are 2 FLOPs per MAC each.
    assert _sum(graph, Attention, "flops") == 32 * 4 * 32 * 1025 * 128
    # The KV cache read: K and V of 1025 tokens x 8 heads x 128 in bf16, every layer.
    assert _sum(graph, Attention, "kv_bytes") == 32 * 2 * 1025 * 8 * 128 * 2


def test_minilm_encode_counts_match_hand_computation():
    graph = encode_graph(load_model_config("minilm-l6"), Precision(), batch=1, seq=128)
    # Six layers of four 384x384 projections and a 384x1536 MLP in and out, over 128 tokens.
    assert _sum(graph, MatMul, "flops") == 6 * 2 * 128 * (4 * 384 * 384 + 2 * 384 * 1536)
    # Bidirectional attention: 12 heads of 32, every query against every key.
    assert _sum(graph, Attention, "flops") == 6 * 4 * 12 * 128 * 128 * 32


def test_causal_prefill_attention_computes_only_the_lower_triangle():
    graph = prefill_graph(load_model_config("smollm2-135m"), Precision(), batch=2, seq=100)
    attention = next(op for op in graph.ops if isinstance(op, Attention))
    assert attention.score_elements == 2 * 9 * (100 * 101 / 2)


def test_fp8_weights_halve_weight_bytes():
    config = load_model_config("llama-3-8b")
    bf16 = decode_graph(config, Precision(), 1, 128).cost().weight_bytes
    fp8 = decode_graph(config, Precision.from_options("fp8"), 1, 128).cost().weight_bytes
    assert fp8 == pytest.approx(bf16 / 2)


def test_moe_decode_reads_only_routed_experts():
    config = load_model_config("mixtral-8x7b")
    graph = decode_graph(config, Precision(), batch=1, context=16)
    experts = [op for op in graph.ops if isinstance(op, MoeMatMul)]
    # One token routed to 2 of 8 experts: exactly 2 experts' gate, up and down matrices per layer.
    assert sum(op.cost().weight_bytes for op in experts) == 32 * 2 * 3 * 4096 * 14336 * 2
    many = decode_graph(config, Precision(), batch=256, context=16)
    touched = next(op for op in many.ops if isinstance(op, MoeMatMul)).experts_touched
    assert touched == pytest.approx(8, rel=1e-6)


def test_params_match_published_counts():
    published = {"llama-3-8b": 8.03e9, "llama-3-70b": 70.6e9, "mixtral-8x7b": 46.7e9, "smollm2-135m": 134.5e6}
    for name, params in published.items():
        assert load_model_config(name).params == pytest.approx(params, rel=0.005)
