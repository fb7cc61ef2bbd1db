"""Sharding, per-chip memory, sharded step times and the plan search."""

import pytest

from fabless.chip import load_chip
from fabless.errors import FablessError
from fabless.model import Precision, load_model_config
from fabless.multichip import (
    ParallelPlan,
    ShardedStepTimer,
    all_reduce_s,
    candidate_plans,
    chip_memory,
    kv_transfer_time,
    network_for,
    search_plans,
    send_s,
    stage_config,
)
from fabless.perf import decode_time, efficiency_for, phase_time_s, prefill_time
from fabless.perf.serving import engine_overhead_s

FP8 = Precision.from_options("fp8")


@pytest.fixture(scope="module")
def llama70b():
    return load_model_config("llama-3-70b")


def test_tensor_parallel_divides_heads_width_and_vocab(llama70b):
    shard = stage_config(llama70b, tp=8)
    assert (shard.num_heads, shard.num_kv_heads) == (8, 1)
    assert shard.intermediate_size == 28672 // 8 and shard.vocab_size == 128256 // 8
    assert shard.num_layers == 80


def test_kv_heads_replicate_below_one_per_chip(llama70b):
    assert stage_config(llama70b, tp=16).num_kv_heads == 1


def test_pipeline_stage_gets_its_share_of_layers(llama70b):
    assert stage_config(llama70b, tp=2, pp=3).num_layers == 27


def test_unsplittable_degrees_are_errors(llama70b):
    with pytest.raises(FablessError, match="64 attention heads do not split 3 ways"):
        stage_config(llama70b, tp=3)
    with pytest.raises(FablessError, match="expert parallelism needs a mixture-of-experts"):
        stage_config(llama70b, tp=2, ep=2)


def test_expert_parallel_splits_experts_inside_the_tp_group():
    mixtral = load_model_config("mixtral-8x7b")
    shard = stage_config(mixtral, tp=4, ep=4)
    assert shard.num_experts == 2 and shard.intermediate_size == mixtral.intermediate_size


def test_kv_capacity_is_what_weights_and_activations_leave(llama70b):
    chip = load_chip("h100")
    one = chip_memory(chip, llama70b, FP8, ParallelPlan(tp=1), 4096, 64)
    two = chip_memory(chip, llama70b, FP8, ParallelPlan(tp=2), 4096, 64)
    assert two.kv_bytes_per_token == pytest.approx(one.kv_bytes_per_token / 2)
    assert two.weight_bytes < 0.51 * one.weight_bytes
    assert two.kv_capacity_tokens == int((two.capacity_bytes - two.weight_bytes - two.activation_bytes)
                                         // two.kv_bytes_per_token)
    bf16 = chip_memory(chip, llama70b, Precision(), ParallelPlan(tp=1), 4096, 64)
    assert not bf16.fits and bf16.kv_capacity_tokens == 0


def test_candidate_plans_use_exactly_the_chips(llama70b):
    plans = candidate_plans(llama70b, 8)
    assert all(p.chips == 8 for p in plans)
    assert {p.describe() for p in plans} >= {"TP8 x PP1 x DP1", "TP4 x PP2 x DP1", "TP1 x PP1 x DP8"}


def test_one_chip_step_is_the_performance_model(llama70b):
    """On one chip a step is the calibrated serving step: the kernels plus the engine's cost."""
    chip = load_chip("h200")
    timer = ShardedStepTimer(chip, llama70b, FP8, ParallelPlan(tp=1))
    assert timer.decode_s(32, 1000) == pytest.approx(phase_time_s(chip, llama70b, FP8, "decode", 32, 1000, 1))
    assert timer.prefill_s(2048, 512) == pytest.approx(phase_time_s(chip, llama70b, FP8, "prefill", 4, 512, 1))


def test_tensor_parallel_step_adds_two_all_reduces_per_layer(llama70b):
    chip = load_chip("h100")
    timer = ShardedStepTimer(chip, llama70b, FP8, ParallelPlan(tp=4))
    compute = decode_time(chip, stage_config(llama70b, tp=4), FP8, 64, 1000).time_s
    reduce = all_reduce_s(timer.network, 4, 64 * 8192 * 2)  # [64, hidden] in bf16
    engine = engine_overhead_s(efficiency_for(chip), 64)
    assert timer.decode_s(64, 1000) == pytest.approx(compute + 80 * 2 * reduce + engine)


def test_pipeline_decode_keeps_pp_micro_batches_in_flight(llama70b):
    chip = load_chip("h100")
    timer = ShardedStepTimer(chip, llama70b, FP8, ParallelPlan(tp=1, pp=2))
    stage = decode_time(chip, stage_config(llama70b, tp=1, pp=2), FP8, 32, 1000).time_s
    hop = send_s(timer.network, 32 * 8192 * 1.0)  # [32, hidden] fp8 activations to the next stage
    # The engine's own cost is paid once per step, for all 64 sequences, not per stage.
    engine = engine_overhead_s(efficiency_for(chip), 64)
    assert timer.decode_s(64, 1000) == pytest.approx(2 * stage + hop + engine)


def test_overlap_hides_the_shorter_of_compute_and_communication(llama70b):
    chip = load_chip("h100")
    serial = ShardedStepTimer(chip, llama70b, FP8, ParallelPlan(tp=8))
    hidden = ShardedStepTimer(chip, llama70b, FP8, ParallelPlan(tp=8), overlap=1.0)
    compute = decode_time(chip, stage_config(llama70b, tp=8), FP8, 16, 500).time_s
    comm = serial.stage_comm_s(16)
    engine = engine_overhead_s(efficiency_for(chip), 16)
    assert serial.decode_s(16, 500) == pytest.approx(compute + comm + engine)
    assert hidden.decode_s(16, 500) == pytest.approx(max(compute, comm) + engine)


def test_search_returns_the_fewest_chips_that_fit_and_meet_tpot():
    chip = load_chip("h100")
    model = load_model_config("llama-3.1-405b")
    choices = search_plans(chip, model, FP8, 2048, 256, slo_tpot_s=0.1)
    chips = choices[0].plan.chips
    assert all(c.plan.chips == chips and c.tpot_s <= 0.1 for c in choices)
    assert choices == sorted(choices, key=lambda c: -c.output_tokens_per_s)
    # Half as many chips cannot even hold the weights.
    assert not any(chip_memory(chip, model, FP8, p, 8192, 1024).fits for p in candidate_plans(model, chips // 2))


def test_search_fails_with_a_clear_error_when_nothing_meets_the_slo(llama70b):
    with pytest.raises(FablessError, match="no plan of up to 2 h100 chips"):
        search_plans(load_chip("h100"), llama70b, FP8, 2048, 256, slo_tpot_s=0.001, chip_counts=[1, 2])


def test_pipeline_prefill_pays_the_bubble_only_when_alone(llama70b):
    chip = load_chip("h100")
    timer = ShardedStepTimer(chip, llama70b, FP8, ParallelPlan(tp=1, pp=4))
    stage_config_4 = stage_config(llama70b, tp=1, pp=4)
    stage = prefill_time(chip, stage_config_4, FP8, 1, 512).time_s
    hop = send_s(timer.network, 512 * 8192 * 1.0)
    # Kept full by other micro-batches: 4 stage times; alone: 4 + 3 (fill and drain).
    eff = efficiency_for(chip)
    assert timer.prefill_s(2048, 512) == pytest.approx(4 * stage + 3 * hop + engine_overhead_s(eff, 4))
    assert timer.lone_prefill_s(2048) == pytest.approx(7 * stage + 3 * hop + engine_overhead_s(eff, 1))


def test_kv_transfer_moves_each_shard_in_parallel(llama70b):
    chip = load_chip("h100")
    plan = ParallelPlan(tp=2)
    per_token = llama70b.kv_cache_bytes_per_token(FP8.kv_bytes)
    inside = kv_transfer_time(chip, llama70b, FP8, plan, total_chips=8)
    across = kv_transfer_time(chip, llama70b, FP8, plan, total_chips=16)
    # Within one NVLink domain a chip's half of the KV goes over its links; beyond, over its NIC.
    assert inside(1000) == pytest.approx(send_s(network_for(chip, 8), 1000 * per_token / 2))
    assert across(1000) == pytest.approx(send_s(network_for(chip, 16), 1000 * per_token / 2, across_domains=True))
    assert across(1000) > inside(1000)
