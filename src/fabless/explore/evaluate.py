"""Score one design on a workload: the one function every search trial goes through.

Each model of the mix runs tensor-parallel on the fewest power-of-two chips whose HBM holds
it (`fabless.perf.chips_needed`), or on 2x or 4x that many if that serves more tokens per
chip, within `max_chips`. Its operating point is the largest batch whose steady-state TPOT
meets the SLO (`fabless.multichip.evaluate_plan`); its TTFT is one prompt's prefill on an
idle replica. A chip-hour is `fabless.ppa`'s owned chip-hour at the design's unit cost and
TDP; power is `fabless.ppa.power_at` at the decode step's utilisation. Shares are of the
output tokens, so the mix's $/Mtoken and J/token are share-weighted sums.
"""

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from fabless.errors import FablessError
from fabless.explore.design import Design, Params, build_design
from fabless.explore.objectives import CONSTRAINTS, UNSERVED_USD_PER_MTOKEN
from fabless.explore.workload import Request, Workload
from fabless.multichip import ParallelPlan, PlanChoice, evaluate_plan, stage_config
from fabless.perf import chips_needed, decode_time, phase_time_s
from fabless.ppa import PpaData, load_ppa_data, owned_chip_hour, power_at, serving_utilisation, usd_per_mtoken

TP_WIDENING = (1, 2, 4)
"""Multiples of the fewest chips that hold a model that the evaluation also tries."""


@cache
def default_ppa() -> PpaData:
    """The shipped PPA data (src/fabless/data/ppa), loaded once per process."""
    return load_ppa_data([], [])


@dataclass(frozen=True)
class Served:
    """One model of the mix at its operating point (batch 0 when no point meets the SLO)."""

    model: str
    chips: int
    batch: int
    tpot_s: float
    ttft_s: float
    tokens_per_s: float
    power_w: float
    usd_per_mtoken: float
    joules_per_token: float


@dataclass(frozen=True)
class Constraint:
    """A requirement: `violation` <= 0 means met (Optuna's convention), `slack` = limit - value."""

    value: float
    limit: float | None
    violation: float

    @property
    def slack(self) -> float | None:
        return None if self.limit is None else self.limit - self.value


@dataclass(frozen=True)
class Evaluation:
    objectives: dict[str, float]
    constraints: dict[str, Constraint]
    served: tuple[Served, ...]

    @property
    def feasible(self) -> bool:
        return all(c.violation <= 0 for c in self.constraints.values())

    def violations(self) -> list[float]:
        return [self.constraints[name].violation for name in CONSTRAINTS]

    def to_dict(self) -> dict[str, Any]:
        return {
            "objectives": dict(self.objectives),
            "constraints": {name: {"value": c.value, "limit": c.limit, "slack": c.slack, "violation": c.violation}
                            for name, c in self.constraints.items()},
            "served": [asdict(s) for s in self.served],
            "feasible": self.feasible,
        }


def evaluate(design: Design, workload: Workload, ppa: PpaData | None = None) -> Evaluation:
    """Objectives and constraints of `design` serving `workload` (see the module docstring)."""
    ppa = ppa or default_ppa()
    cost = design.cost
    chip_hour = owned_chip_hour(cost.unit.total_usd, cost.tdp.total_w, ppa.tco).total_usd
    fewest = [_fewest_chips(design, workload, request) for request in workload.requests]
    served = tuple(_serve(design, workload, request, chips, chip_hour, ppa)
                   for request, chips in zip(workload.requests, fewest, strict=True))
    limits = workload.constraints
    all_served = all(s.batch for s in served)
    if all_served:
        mix_usd = sum(r.share * s.usd_per_mtoken for r, s in zip(workload.requests, served, strict=True))
        mix_joules = sum(r.share * s.joules_per_token for r, s in zip(workload.requests, served, strict=True))
        per_usd, per_joule = 1e6 / mix_usd, 1.0 / mix_joules
    else:
        mix_usd, per_usd, per_joule = UNSERVED_USD_PER_MTOKEN, 0.0, 0.0
    objectives = {"tokens_per_usd": per_usd, "tokens_per_joule": per_joule, "usd_per_mtoken": mix_usd,
                  "die_area_mm2": cost.area.total_silicon_mm2, "programme_usd": cost.programme.total_usd}
    constraints = {
        "reticle": _limit(cost.area.compute_die_mm2, limits.max_die_mm2 or ppa.area.reticle_limit_mm2),
        "tdp": _limit(cost.tdp.total_w, limits.max_tdp_w),
        "unit_cost": _limit(cost.unit.total_usd, limits.max_unit_cost_usd),
        "programme": _limit(cost.programme.total_usd, limits.max_programme_usd),
        "chips": _limit(max(fewest), limits.max_chips),
        "tpot": _limit(max(s.tpot_s for s in served), workload.slo.tpot_s),
        "ttft": _limit(max(s.ttft_s for s in served), workload.slo.ttft_s),
    }
    if not all_served:
        # A model with no operating point misses its SLO even where batch 1's latencies look fine
        # (its KV cache does not fit, or a wider group was needed).
        tpot = constraints["tpot"]
        constraints["tpot"] = Constraint(value=tpot.value, limit=tpot.limit, violation=max(tpot.violation, 0.01))
    return Evaluation(objectives=objectives, constraints=constraints, served=served)


def evaluate_params(space: Any, workload: Workload, params: Params, number: int,
                    ppa: PpaData | None = None) -> Evaluation:
    """Build trial `number`'s design from `params` and evaluate it (what a search worker runs)."""
    ppa = ppa or default_ppa()
    return evaluate(build_design(space, params, trial_name(space.prefix, number), ppa), workload, ppa)


def trial_name(prefix: str, number: int) -> str:
    return f"{prefix}-t{number:05d}"


def _limit(value: float, limit: float | None) -> Constraint:
    if limit is None:
        return Constraint(value=value, limit=None, violation=-1.0)
    return Constraint(value=value, limit=limit, violation=(value - limit) / limit)


def _fewest_chips(design: Design, workload: Workload, request: Request) -> int:
    try:
        return chips_needed(design.chip, request.config, workload.precision, 1,
                            request.input_len + request.output_len)
    except FablessError:
        return 1 << 20


def _serve(design: Design, workload: Workload, request: Request, fewest: int, chip_hour: float,
           ppa: PpaData) -> Served:
    """`request` at its best operating point; `fewest` is `_fewest_chips` of it."""
    chip, precision, slo = design.chip, workload.precision, workload.slo
    degrees = [fewest * k for k in TP_WIDENING if fewest * k <= workload.constraints.max_chips] or [fewest]
    best: tuple[int, PlanChoice] | None = None
    for tp in degrees:
        try:
            choice = evaluate_plan(chip, request.config, precision, ParallelPlan(tp=tp), request.input_len,
                                   request.output_len, slo.tpot_s)
        except FablessError:
            choice = None
        if choice is None or (slo.ttft_s is not None and choice.ttft_s > slo.ttft_s):
            continue
        if best is None or choice.tokens_per_s_per_chip > best[1].tokens_per_s_per_chip:
            best = (tp, choice)
    if best is None or fewest > workload.constraints.max_chips:
        return _unserved(design, workload, request, degrees[-1])
    tp, choice = best
    context = request.input_len + request.output_len // 2
    step = decode_time(chip, stage_config(request.config, tp), precision, choice.batch, context)
    use = serving_utilisation(precision.matmul_dtype, step.mxu_utilization, step.hbm_utilization, ppa.power)
    power = power_at(design.cost.blocks, design.cost.area, ppa.power, use).total_w
    tokens = choice.output_tokens_per_s
    return Served(model=request.config.name, chips=tp, batch=choice.batch, tpot_s=choice.tpot_s, ttft_s=choice.ttft_s,
                  tokens_per_s=tokens, power_w=power, usd_per_mtoken=usd_per_mtoken(chip_hour, tp, tokens),
                  joules_per_token=power * tp / tokens)


def _unserved(design: Design, workload: Workload, request: Request, tp: int) -> Served:
    """No operating point: the batch-1 latencies on the widest group tried, to say how far off."""
    try:
        tpot = phase_time_s(design.chip, request.config, workload.precision, "decode", 1,
                            request.input_len + request.output_len // 2, tp)
        ttft = phase_time_s(design.chip, request.config, workload.precision, "prefill", 1, request.input_len, tp)
    except FablessError:
        tpot = ttft = 1e6
    return Served(model=request.config.name, chips=tp, batch=0, tpot_s=tpot, ttft_s=ttft, tokens_per_s=0.0,
                  power_w=0.0, usd_per_mtoken=UNSERVED_USD_PER_MTOKEN, joules_per_token=0.0)
