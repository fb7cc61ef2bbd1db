"""What a search leaves: `pareto.json`, one chip description per front member, a Pareto plot.

Every file is written whole or not at all (`fabless.files`), and only after the front is
known, so a search that fails or is interrupted leaves no output behind. `pareto.json` is
written last: its presence means the folder is complete.
"""

import json
from pathlib import Path
from typing import Any

from fabless.explore.chip_file import chip_toml
from fabless.explore.design import Design, build_design, price
from fabless.explore.evaluate import default_ppa, evaluate, trial_name
from fabless.explore.objectives import OBJECTIVES
from fabless.explore.pareto import Member
from fabless.explore.space import Space
from fabless.explore.workload import Workload
from fabless.files import output_directory, write_output


def base_evaluation(space: Space, workload: Workload) -> dict[str, Any]:
    """The base chip (e.g. fab1) as it is described, judged by the same evaluation."""
    ppa = default_ppa()
    design = Design(chip=space.base, params={}, cost=price(space.base, ppa, space.volume))
    return evaluate(design, workload, ppa).to_dict()


def report(space: Space, workload: Workload, study: str, storage: str, members: list[Member],
           front: list[Member], out: Path | None) -> dict[str, Any]:
    """The content of pareto.json (and of `--json`)."""
    base = base_evaluation(space, workload)
    return {
        "study": study,
        "storage": storage,
        "space": space.origin,
        "workload": workload.origin,
        "objectives": [{"name": name, "direction": OBJECTIVES[name].direction, "unit": OBJECTIVES[name].unit}
                       for name in workload.objectives],
        "completed_trials": len(members),
        "feasible_trials": sum(bool(m.evaluation["feasible"]) for m in members),
        "base": {"chip": space.base.name, **base},
        "front": [_member(space, m, out) for m in front],
    }


def _member(space: Space, member: Member, out: Path | None) -> dict[str, Any]:
    name = trial_name(space.prefix, member.number)
    evaluation = member.evaluation
    return {
        "trial": member.number,
        "chip": name,
        "chip_file": str(out / "chips" / f"{name}.toml") if out is not None else None,
        "params": member.params,
        "objectives": evaluation["objectives"],
        "constraint_values": {key: c["value"] for key, c in evaluation["constraints"].items()},
        "constraint_slacks": {key: c["slack"] for key, c in evaluation["constraints"].items()},
        "served": evaluation["served"],
    }


def write_outputs(out: Path, space: Space, front: list[Member], document: dict[str, Any],
                  members: list[Member], objectives: tuple[str, ...]) -> None:
    """Chip files, the plot, then pareto.json, into `out` (created if missing)."""
    from fabless.explore.plot import plot_front

    output_directory(out, "the search results")
    chips = output_directory(out / "chips", "the front's chip descriptions")
    ppa = default_ppa()
    for member in front:
        name = trial_name(space.prefix, member.number)
        design = build_design(space, member.params, name, ppa)
        write_output(chips / f"{name}.toml", chip_toml(design.chip), f"chip description {name}")
    plot_front(members, front, objectives, out / "pareto.png")
    write_output(out / "pareto.json", json.dumps(document, indent=2) + "\n", "pareto.json")
