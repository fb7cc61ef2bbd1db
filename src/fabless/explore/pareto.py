"""The Pareto front of a study: feasible trials no other feasible trial beats on every objective."""

import json
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

from fabless.errors import FablessError
from fabless.explore.objectives import CONSTRAINTS, OBJECTIVES


@dataclass(frozen=True)
class Member:
    """One trial on the front: its number, parameters and stored evaluation."""

    number: int
    params: dict[str, Any]
    evaluation: dict[str, Any]

    def value(self, objective: str) -> float:
        return float(self.evaluation["objectives"][objective])


def completed(study: optuna.Study) -> list[Member]:
    """Every completed trial of `study` that holds an evaluation, in trial order."""
    return [Member(number=t.number, params=dict(t.params), evaluation=t.user_attrs["evaluation"])
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if "evaluation" in t.user_attrs]


def pareto_front(members: list[Member], objectives: tuple[str, ...]) -> list[Member]:
    """Non-dominated feasible members, best first on the first objective; a repeated parameter
    set appears once (its first trial)."""
    seen: set[str] = set()
    feasible = []
    for member in members:
        key = json.dumps(member.params, sort_keys=True)
        if member.evaluation["feasible"] and key not in seen:
            seen.add(key)
            feasible.append(member)
    scores = [tuple(_score(m, name) for name in objectives) for m in feasible]
    front = [m for m, s in zip(feasible, scores, strict=True)
             if not any(_dominates(other, s) for other in scores)]
    return sorted(front, key=lambda m: (-_score(m, objectives[0]), m.number))


def no_feasible_error(members: list[Member]) -> FablessError:
    """Which constraint binds when no trial met them all: the one the least-violating trial misses most."""
    if not members:
        return FablessError("no trial completed: nothing to report")
    closest = min(members, key=lambda m: sum(max(0.0, c["violation"]) for c in m.evaluation["constraints"].values()))
    constraints = closest.evaluation["constraints"]
    name = max(CONSTRAINTS, key=lambda n: constraints[n]["violation"])
    worst = constraints[name]
    return FablessError(
        f"no design meets the constraints: {name} binds (the closest design, trial {closest.number}, has "
        f"{worst['value']:.4g} against a limit of {worst['limit']:.4g}); relax it or widen the space"
    )


def _score(member: Member, objective: str) -> float:
    """Larger is better, whatever the objective's direction."""
    value = member.value(objective)
    return value if OBJECTIVES[objective].direction == "maximize" else -value


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(x > y for x, y in zip(a, b, strict=True))
