"""Many chips: networks, collectives, parallelism plans, sharded step times and plan search."""

from fabless.multichip.collectives import (
    ALGORITHMS,
    Algorithm,
    all_gather_s,
    all_reduce_s,
    all_to_all_s,
    reduce_scatter_s,
    send_s,
)
from fabless.multichip.network import Fabric, Network, network_for, torus_dims
from fabless.multichip.plan import ChipMemory, ParallelPlan, candidate_plans, chip_memory
from fabless.multichip.search import DEFAULT_CHIP_COUNTS, PlanChoice, evaluate_plan, search_plans
from fabless.multichip.shard import check_shardable, stage_config
from fabless.multichip.step import ShardedStepTimer
from fabless.multichip.transfer import kv_transfer_time

__all__ = [
    # network and collectives
    "Fabric",
    "Network",
    "network_for",
    "torus_dims",
    "Algorithm",
    "ALGORITHMS",
    "all_reduce_s",
    "reduce_scatter_s",
    "all_gather_s",
    "all_to_all_s",
    "send_s",
    # plans and memory
    "ParallelPlan",
    "ChipMemory",
    "chip_memory",
    "candidate_plans",
    "check_shardable",
    "stage_config",
    # timing and search
    "ShardedStepTimer",
    "kv_transfer_time",
    "PlanChoice",
    "evaluate_plan",
    "search_plans",
    "DEFAULT_CHIP_COUNTS",
]
