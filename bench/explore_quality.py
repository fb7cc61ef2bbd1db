"""Do the samplers beat random search on the shipped example, at equal trial budgets?

Run: python bench/explore_quality.py [TRIALS] [SEEDS] [WORKERS]   (default 200 trials, 3 seeds, 2 workers)
On the shipped space and workload (src/fabless/data/explore), per seed: TPE on one
objective (tokens per TCO dollar) and NSGA-II on two (tokens per TCO dollar up, die area
down) against Optuna's RandomSampler. Random search does not look at the objectives, so one
random study per seed serves both comparisons. Prints, after 50, 100 and TRIALS trials, the
best feasible tokens per dollar and the hypervolume of the feasible front (reference point:
0 tokens per dollar, REFERENCE_AREA_MM2), as the mean and range over seeds.
"""

import dataclasses
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fabless.explore import load_space, load_workload
from fabless.explore.pareto import Member, completed
from fabless.explore.search import SamplerName, open_study, run_search

DATA = resources.files("fabless") / "data" / "explore"
THROUGHPUT, AREA = "tokens_per_usd", "die_area_mm2"
REFERENCE_AREA_MM2 = 2 * 858.0
"""Hypervolume reference: two reticle-limit dies, above any design the space gives."""


def best_throughput(members: list[Member]) -> float:
    return max((m.value(THROUGHPUT) for m in members if m.evaluation["feasible"]), default=0.0)


def hypervolume(members: list[Member]) -> float:
    """Area (tokens/USD x mm2) dominated by the feasible points, up to the reference point."""
    points = sorted((m.value(AREA), m.value(THROUGHPUT)) for m in members
                    if m.evaluation["feasible"] and m.value(AREA) < REFERENCE_AREA_MM2)
    volume, best = 0.0, 0.0
    for index, (area, throughput) in enumerate(points):
        best = max(best, throughput)
        right = points[index + 1][0] if index + 1 < len(points) else REFERENCE_AREA_MM2
        volume += best * (right - area)
    return volume


def run(sampler: SamplerName, objectives: tuple[str, ...], seed: int, trials: int, workers: int) -> list[Member]:
    space = load_space(Path(str(DATA / "space-fab1.toml")))
    workload = dataclasses.replace(load_workload(Path(str(DATA / "workload-chat.toml"))), objectives=objectives)
    with tempfile.TemporaryDirectory() as folder:
        study = open_study(space, workload, f"sqlite:///{folder}/q.db", "q", seed, False, sampler)
        run_search(space, workload, study, trials, workers)
        return sorted(completed(study), key=lambda m: m.number)


def summary(values: list[float], scale: float) -> str:
    scaled = [v / scale for v in values]
    return f"{statistics.mean(scaled):,.3f} ({min(scaled):,.3f}-{max(scaled):,.3f})"


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    budgets = sorted({b for b in (50, 100, trials) if b <= trials})
    started = time.perf_counter()
    runs: dict[str, list[list[Member]]] = {"random": [], "tpe": [], "nsga2": []}
    for seed in range(seeds):
        runs["random"].append(run("random", (THROUGHPUT,), seed, trials, workers))
        runs["tpe"].append(run("tpe", (THROUGHPUT,), seed, trials, workers))
        runs["nsga2"].append(run("nsga2", (THROUGHPUT, AREA), seed, trials, workers))
    elapsed = time.perf_counter() - started
    table = Table(title=f"samplers against random search on the shipped example: {seeds} seeds x {trials} trials, "
                  f"mean (min-max over seeds); {elapsed:,.0f} s on {workers} workers")
    for column in ("metric", "sampler", *(f"after {b} trials" for b in budgets)):
        table.add_column(column, justify="left" if column in ("metric", "sampler") else "right")
    rows = [("best tokens/USD (millions)", "tpe", best_throughput, 1e6),
            ("best tokens/USD (millions)", "random", best_throughput, 1e6),
            ("hypervolume (1e9 tokens/USD x mm2)", "nsga2", hypervolume, 1e9),
            ("hypervolume (1e9 tokens/USD x mm2)", "random", hypervolume, 1e9)]
    for metric, sampler, measure, scale in rows:
        table.add_row(metric, sampler, *(summary([measure(members[:b]) for members in runs[sampler]], scale)
                                         for b in budgets))
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
