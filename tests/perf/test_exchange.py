"""The HBM round trips a compiled multi-core systolic program makes, by hand (perf/exchange.py)."""

import pytest

from fabless.chip import load_chip
from fabless.cyclesim import AGREEMENT_WORKLOADS
from fabless.perf import estimate_graph
from fabless.perf.estimate import target_for
from fabless.perf.exchange import (
    exchange_latency_s,
    exchanged_bytes,
    hbm_latency_s,
    kv_round_trip_s,
    program_start_s,
)
from fabless.perf.fusion import fuse
from fabless.perf.rules import op_time, weight_slack_s

PREFILL_LAYER = AGREEMENT_WORKLOADS[8]  # smollm2-135m, 256 tokens: hidden 576, q+2kv 960, mlp 1536
DECODE_LAYER = AGREEMENT_WORKLOADS[6]  # llama-3-8b, one token over 1024


def _ops(workload):  # type: ignore[no-untyped-def]
    _, graph = workload.build()
    return {op.name: op for op in fuse(graph.ops)}


def test_the_access_latency_is_the_simulators() -> None:
    assert hbm_latency_s() == pytest.approx(400e-9)


def test_fab1_exchanges_what_the_compiler_gathers() -> None:
    fab1 = load_chip("fab1")  # 8 cores: a share stored once, the whole loaded by 8
    ops = _ops(PREFILL_LAYER)
    # Q/K/V leave the accumulator as fp32: 256 x 960 x 4 B x 9.
    assert exchanged_bytes(fab1, ops["q_proj+k_proj+v_proj"]) == 256 * 960 * 4 * 9 == 8_847_360
    # Attention's output in bf16, the output projection's input: 256 x 576 x 2 B x 9.
    assert exchanged_bytes(fab1, ops["attention"]) == 2_654_208
    # Both residual sums (fp32 residual stream): 256 x 576 x 4 B x 9.
    assert exchanged_bytes(fab1, ops["attn_residual+mlp_norm"]) == 5_308_416
    assert exchanged_bytes(fab1, ops["mlp_residual"]) == 5_308_416
    # The MLP activation in bf16: 256 x 1536 x 2 B x 9.
    assert exchanged_bytes(fab1, ops["silu_mul"]) == 7_077_888
    # Output and down projections feed an add on the same columns; norms, RoPE, the KV
    # write and gate/up (feeding the activation) exchange nothing.
    for name in ("o_proj", "down_proj", "gate_proj+up_proj", "attn_norm", "rope", "kv_write"):
        assert exchanged_bytes(fab1, ops[name]) == 0
        assert exchange_latency_s(fab1, ops[name]) == 0
    assert exchange_latency_s(fab1, ops["silu_mul"]) == pytest.approx(800e-9)


def test_one_core_and_gpus_exchange_nothing() -> None:
    ops = _ops(PREFILL_LAYER)
    for chip in (load_chip("fab1").model_copy(update={"cores": 1}), load_chip("h100")):
        assert all(exchanged_bytes(chip, op) == 0 for op in ops.values())
        assert kv_round_trip_s(chip, ops["attention"]) == 0


def test_only_attention_over_a_cache_waits_for_its_new_keys() -> None:
    fab1 = load_chip("fab1")
    assert kv_round_trip_s(fab1, _ops(DECODE_LAYER)["attention"]) == pytest.approx(800e-9)
    # A prefill into a bucket of its own length attends its keys straight from SRAM.
    assert kv_round_trip_s(fab1, _ops(PREFILL_LAYER)["attention"]) == 0
    assert kv_round_trip_s(fab1, _ops(DECODE_LAYER)["o_proj"]) == 0


def test_an_exchange_adds_its_bytes_to_the_ops_memory_time_and_its_round_trip_less_what_is_hidden() -> None:
    fab1 = load_chip("fab1")
    silu = _ops(PREFILL_LAYER)["silu_mul"]
    target = target_for(fab1, sustained=True)
    # fab1: 8 TB/s at 90% = 7.2e12 B/s; silu_mul moves 256 x 1536 x (2 + 2 + 2) B of its own.
    own = 256 * 1536 * 6
    timed = op_time(target, silu, hidden_s=300e-9)
    assert timed.memory_s == pytest.approx((own + 7_077_888) / 7.2e12)
    # No kernel launch on a compiled program: the overhead is the round trip's exposed part.
    assert timed.overhead_s == pytest.approx(800e-9 - 300e-9)
    assert op_time(target, silu, hidden_s=1e-6).overhead_s == 0


def test_the_next_ops_weight_stream_beyond_its_compute_hides_the_round_trip() -> None:
    fab1 = load_chip("fab1")
    target = target_for(fab1, sustained=True)
    o_proj = _ops(DECODE_LAYER)["o_proj"]  # 4096 x 4096 bf16 weights: 33.55 MB at 7.2e12 B/s
    timed = op_time(target, o_proj)
    assert weight_slack_s(target, o_proj, timed) == pytest.approx(4096 * 4096 * 2 / 7.2e12 - timed.compute_s)
    # So the decode layer's attention pays only its new keys' round trip, not its gather's.
    graph = DECODE_LAYER.build()[1]
    timed_ops = dict((op.name, t) for op, t in estimate_graph(fab1, graph).ops)
    assert timed_ops["attention"].overhead_s == pytest.approx(800e-9)


def test_a_compiled_program_waits_one_access_latency_for_its_first_hbm_bytes() -> None:
    fab1 = load_chip("fab1")
    timed = estimate_graph(fab1, PREFILL_LAYER.build()[1]).ops
    first, _ = timed[0]
    assert program_start_s(fab1, first) == pytest.approx(400e-9)
    assert timed[0][1].overhead_s == pytest.approx(400e-9)
    # Attention's operands are another op's output, held in SRAM.
    assert program_start_s(fab1, _ops(PREFILL_LAYER)["attention"]) == 0
    assert program_start_s(load_chip("h100"), first) == 0
