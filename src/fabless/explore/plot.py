"""The Pareto plot: one objective as best-so-far per trial, two as a scatter with the front
drawn, more as every pair."""

from itertools import combinations
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: never needs a display

import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen
from matplotlib.axes import Axes  # noqa: E402

from fabless.explore.objectives import OBJECTIVES  # noqa: E402
from fabless.explore.pareto import Member  # noqa: E402
from fabless.files import output_file  # noqa: E402


def plot_front(members: list[Member], front: list[Member], objectives: tuple[str, ...], path: Path) -> None:
    if len(objectives) == 1:
        figure, axis = plt.subplots(figsize=(7, 4.5))
        _progress(axis, members, objectives[0])
    else:
        pairs = list(combinations(objectives, 2))
        columns = min(3, len(pairs))
        rows = -(-len(pairs) // columns)
        figure, grid = plt.subplots(rows, columns, figsize=(5.5 * columns, 4.5 * rows), squeeze=False)
        for axis, (x, y) in zip(grid.flat, pairs, strict=False):
            _scatter(axis, members, front, x, y)
        for axis in list(grid.flat)[len(pairs):]:
            axis.set_visible(False)
    figure.tight_layout()
    with output_file(path, "the Pareto plot") as staged:
        figure.savefig(staged, format="png", dpi=110)
    plt.close(figure)


def _label(name: str) -> str:
    return f"{name} ({OBJECTIVES[name].unit}, {OBJECTIVES[name].direction})"


def _progress(axis: Axes, members: list[Member], name: str) -> None:
    better = max if OBJECTIVES[name].direction == "maximize" else min
    best: float | None = None
    xs, trial_y, ys = [], [], []
    for member in members:
        if not member.evaluation["feasible"]:
            continue
        value = member.value(name)
        best = value if best is None else better(best, value)
        xs.append(member.number)
        trial_y.append(value)
        ys.append(best)
    axis.scatter(xs, trial_y, s=6, color="0.7", label="feasible trials")
    axis.step(xs, ys, where="post", color="tab:red", label="best so far")
    axis.set_xlabel("trial")
    axis.set_ylabel(_label(name))
    axis.legend()


def _scatter(axis: Axes, members: list[Member], front: list[Member], x: str, y: str) -> None:
    feasible = [m for m in members if m.evaluation["feasible"]]
    axis.scatter([m.value(x) for m in feasible], [m.value(y) for m in feasible], s=6, color="0.7",
                 label="feasible trials")
    ordered = sorted(front, key=lambda m: m.value(x))
    axis.plot([m.value(x) for m in ordered], [m.value(y) for m in ordered], "o-", color="tab:red", markersize=4,
              label="Pareto front")
    axis.set_xlabel(_label(x))
    axis.set_ylabel(_label(y))
    axis.legend(fontsize=8)
