"""MLPerf Inference Llama-2-70B: the published results and our prediction of them.

Offline: every sample is queued at time 0 and the score is output tokens per second.
Server: Poisson arrivals; the score is the completed output tokens per second at the highest rate
whose p99 TTFT and p99 TPOT meet the limits. We predict both by simulating the serving
engine on the submission's own parallelism plan and batch limit where it published them
(so the check is of the model, not of our plan search), else on the plan the search
ranks best for the submission's chip count.

The server score is what MLPerf reports, "Completed tokens per second": the output tokens
of every query over the time from the first arrival to the last answer, at the highest
rate that passed. That is not the offered rate x mean answer length: a rate above the
engine's capacity can pass a finite run's p99 limits while its queue still grows, and
its completed tokens/s then stays at the capacity, less the drain of the last answers
(~45 s of a 600 s run). Each simulated run offers `server_duration_s` of arrivals,
MLPerf's minimum Server duration (min_duration 600000 ms in the v4.1 AMD log; NVIDIA's
submissions ran 2400 s, whose drain is a quarter as long).
The server engine uses a 2048-token step budget (vLLM's default with chunked prefill,
2024) so a long prompt chunk does not stall every decoding sequence; offline uses 8192.
"""

import csv
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from fabless.checks import real
from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError
from fabless.model.config import ModelConfig, load_hf_config
from fabless.model.precision import Precision
from fabless.multichip.plan import ParallelPlan, candidate_plans, chip_memory
from fabless.multichip.search import PlanChoice, evaluate_plan
from fabless.multichip.step import ShardedStepTimer
from fabless.serving.engine import EngineConfig
from fabless.serving.metrics import ServingMetrics, Slo
from fabless.serving.requests import MAX_ARRIVAL_S, Request, offline_requests, poisson_requests
from fabless.serving.simulate import Deployment, simulate
from fabless.serving.sweep import max_rate
from fabless.serving.timer import MemoStepTimer

_DATA = resources.files("fabless") / "data" / "mlperf"
LENGTH_SPREAD = 0.9
"""Prompt and answer lengths are drawn uniformly within +-90% of their means: the OpenOrca
subset spans a few tokens to 1024 (its exact distribution is not in the repository)."""


@dataclass(frozen=True)
class PublishedResult:
    round: str
    submitter: str
    system: str
    chip: str
    accelerators: int
    scenario: str
    tokens_per_s: float
    plan: ParallelPlan | None
    """The submission's TP x PP x DP, where its configuration says."""
    max_batch: int | None
    result_id: str
    date: str


@dataclass(frozen=True)
class Workload:
    config: ModelConfig
    precision: Precision
    samples: int
    input_tokens: int
    output_tokens: int
    server_slo: Slo


@dataclass(frozen=True)
class Prediction:
    plan: ParallelPlan
    tokens_per_s: float
    metrics: ServingMetrics
    rate_per_s: float | None
    """Server scenario: the highest Poisson rate that met the p99 limits."""


def published_results() -> list[PublishedResult]:
    with (_DATA / "llama2_70b.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    results = []
    for row in rows:
        chips = int(row["accelerators"])
        plan = None
        if row["tp"]:
            tp, pp = int(row["tp"]), int(row["pp"] or 1)
            plan = ParallelPlan(tp=tp, pp=pp, dp=chips // (tp * pp))
        results.append(PublishedResult(
            round=row["round"], submitter=row["submitter"], system=row["system"], chip=row["chip"],
            accelerators=chips, scenario=row["scenario"], tokens_per_s=float(row["tokens_per_s"]), plan=plan,
            max_batch=int(row["max_batch"]) if row["max_batch"] else None, result_id=row["result_id"],
            date=row["date"],
        ))
    return results


@cache
def workload(input_tokens: int | None = None) -> Workload:
    """The benchmark's model, precision and request shape (`input_tokens` overrides the mean prompt)."""
    raw = tomllib.loads((_DATA / "llama2_70b_workload.toml").read_text())
    with resources.as_file(_DATA / raw["model"]) as path:
        config = load_hf_config(Path(path))
    config = ModelConfig(**{**config.__dict__, "name": "llama-2-70b"})
    return Workload(
        config=config,
        precision=Precision.from_options(raw["weights"], kv_cache=raw["kv_cache"]),
        samples=raw["samples"],
        input_tokens=input_tokens or raw["input_tokens_mean"],
        output_tokens=raw["output_tokens_mean"],
        server_slo=Slo(ttft_s=raw["server_ttft_p99_s"], tpot_s=raw["server_tpot_p99_s"]),
    )


OFFLINE_STEP_TOKENS = 8192
SERVER_STEP_TOKENS = 2048


DEFAULT_MAX_BATCH = 1024
SERVER_DURATION_S = 600.0


def predict(
    chip: ChipSpec, chips: int, scenario: str, load: Workload, plan: ParallelPlan | None = None,
    max_batch: int | None = None, requests: int | None = None, server_duration_s: float = SERVER_DURATION_S,
    seed: int = 0,
) -> Prediction:
    """Simulate the scenario on `plan` (default: the best-ranked plan of `chips` chips).

    `requests` is the offline sample count (default: the data set's); the server runs
    offer `server_duration_s` of Poisson arrivals at each rate tried.
    """
    if scenario not in ("offline", "server"):
        raise FablessError(f"scenario: must be offline or server (got {scenario!r})")
    real("server_duration_s", server_duration_s, 0.0, MAX_ARRIVAL_S, above=True)
    step_tokens = SERVER_STEP_TOKENS if scenario == "server" else OFFLINE_STEP_TOKENS
    max_batch = max_batch or DEFAULT_MAX_BATCH
    slo = load.server_slo
    # Offline has no latency limit; rank plans by throughput at a TPOT no engine would run past.
    tpot_limit = slo.tpot_s if scenario == "server" else 10.0
    plans = [plan] if plan is not None else candidate_plans(load.config, chips, max_tp=chip.links.domain_chips)
    choices = [
        choice for candidate in plans
        if (choice := evaluate_plan(chip, load.config, load.precision, candidate, load.input_tokens,
                                    load.output_tokens, tpot_limit, max_batch, step_tokens)) is not None
    ]
    if not choices:
        raise FablessError(f"no plan of {chips} {chip.name} chips fits {load.config.name} within TPOT {tpot_limit} s")
    best: PlanChoice = max(choices, key=lambda c: c.output_tokens_per_s)
    deployment = _deployment(chip, load, best.plan, max_batch, step_tokens)
    if scenario == "offline":
        batch = offline_requests(requests or load.samples, load.input_tokens, load.output_tokens, seed, LENGTH_SPREAD)
        metrics = simulate(batch, deployment).metrics
        return Prediction(best.plan, metrics.output_tokens_per_s, metrics, None)

    def arrivals(rate: float) -> list[Request]:
        count = max(1000, round(rate * server_duration_s))
        return poisson_requests(rate, count, load.input_tokens, load.output_tokens, seed, LENGTH_SPREAD)

    start = best.output_tokens_per_s / load.output_tokens / 2
    point = max_rate(arrivals, deployment, slo, rule="p99", start_per_s=start, tolerance=0.03)
    return Prediction(best.plan, point.metrics.output_tokens_per_s, point.metrics, point.rate_per_s)


def _deployment(chip: ChipSpec, load: Workload, plan: ParallelPlan, max_batch: int, step_tokens: int) -> Deployment:
    memory = chip_memory(chip, load.config, load.precision, plan, step_tokens, max_batch)
    engine = EngineConfig(kv_capacity_tokens=memory.kv_capacity_tokens, max_batch=max_batch,
                          max_step_tokens=step_tokens)
    # One memo for every run of a rate search: the runs price the same steps.
    timer = MemoStepTimer(ShardedStepTimer(chip, load.config, load.precision, plan))
    return Deployment(timer, engine, replicas=plan.dp)
