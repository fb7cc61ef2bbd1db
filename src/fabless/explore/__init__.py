"""Design-space search: which chip to build for a budget and a workload mix.

A space (ranges over fields of a base chip) and a workload (models, shares, SLOs,
objectives, constraints) go to `search`, which runs Optuna trials over a process pool or
Ray, each scored by `evaluate`; `pareto_front` picks the front and `write_outputs` writes it
as chip descriptions every other layer reads.
"""

from fabless.explore.design import Design, DesignError, Params, build_design, draft_chip, hbm_stacks, price
from fabless.explore.evaluate import Constraint, Evaluation, Served, default_ppa, evaluate, evaluate_params, trial_name
from fabless.explore.objectives import CONSTRAINTS, OBJECTIVES, Objective
from fabless.explore.space import DERIVED, Param, Space, load_space, parse_space, searchable_fields
from fabless.explore.workload import Request, Workload, load_workload, parse_workload

__all__ = [
    # inputs
    "Space",
    "Param",
    "load_space",
    "parse_space",
    "searchable_fields",
    "DERIVED",
    "Workload",
    "Request",
    "load_workload",
    "parse_workload",
    "OBJECTIVES",
    "Objective",
    "CONSTRAINTS",
    # designs and their evaluation
    "Params",
    "Design",
    "DesignError",
    "draft_chip",
    "build_design",
    "price",
    "hbm_stacks",
    "Evaluation",
    "Constraint",
    "Served",
    "evaluate",
    "evaluate_params",
    "default_ppa",
    "trial_name",
]
