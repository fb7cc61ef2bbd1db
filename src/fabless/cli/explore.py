"""`fabless explore`: search a design space for the chips worth taping out."""

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from fabless.cli import options
from fabless.cli.app import app
from fabless.cli.console import console, print_table
from fabless.cli.paths import BUILD
from fabless.cli.progress import progress
from fabless.errors import FablessError

if TYPE_CHECKING:
    from fabless.explore.search import Progress

MAX_WORKERS = 1024
SPACE = typer.Option(..., "--space", help="Design space TOML (ranges over a base chip).")
WORKLOAD = typer.Option(..., "--workload", help="Workload TOML (models, shares, SLOs, objectives).")
OUT = typer.Option(BUILD / "explore", "--out", help="Folder for pareto.json, chips/ and pareto.png.")


@app.command("explore")
def explore(
    space_file: Path = SPACE,
    workload_file: Path = WORKLOAD,
    trials: int = options.count(200, "--trials", "Completed trials the study should hold.", high=1_000_000),
    storage: str = typer.Option("sqlite:///build/explore.db", "--storage", help="Optuna RDB storage URL."),
    study: str = typer.Option("explore", "--study", help="Study name inside the storage."),
    workers: int = options.count(os.cpu_count() or 1, "--workers", "Evaluating processes (or Ray tasks in flight).",
                                 high=MAX_WORKERS),
    out: Path = OUT,
    seed: int = options.count(0, "--seed", "Sampler seed.", low=0, high=options.MAX_SEED),
    resume: bool = typer.Option(False, "--resume", help="Continue the study: finish its interrupted trials first."),
    ray: str | None = typer.Option(None, "--ray", help="Run trials on Ray: auto, local or a cluster address."),
    sampler: str = typer.Option("auto", "--sampler", help="auto (TPE for one objective, NSGA-II for several), "
                                "tpe, nsga2 or random."),
    as_json: bool = options.JSON,
) -> None:
    """Search chip descriptions for the Pareto front on a workload mix; write the winners as chip files."""
    from fabless.explore import load_space, load_workload
    from fabless.explore.output import report, write_outputs
    from fabless.explore.pareto import completed, no_feasible_error, pareto_front
    from fabless.explore.search import open_study, run_search

    if sampler not in ("auto", "tpe", "nsga2", "random"):
        raise FablessError(f"--sampler: must be auto, tpe, nsga2 or random (got {sampler!r})")
    space = load_space(space_file)
    workload = load_workload(workload_file)
    _check_out(out)
    _check_storage(storage)
    opened = open_study(space, workload, storage, study, seed, resume, sampler)  # type: ignore[arg-type]
    objective = workload.objectives[0]
    with progress(f"{study}: {trials:,} trials", total=trials) as advance:
        shown = [len(completed(opened))] if resume else [0]

        def on_progress(state: "Progress") -> None:
            best = "-" if state.best is None else f"{state.best:,.4g}"
            advance(steps=state.done - shown[0], note=f"best {objective} {best}, {state.trials_per_s:.1f} trials/s")
            shown[0] = state.done

        try:
            run_search(space, workload, opened, trials, workers, ray_address=ray, on_progress=on_progress)
        except KeyboardInterrupt:
            print(f"interrupted: {len(completed(opened)):,} of {trials:,} trials done; continue with --resume",
                  file=sys.stderr)
            raise
    members = completed(opened)
    front = pareto_front(members, workload.objectives)
    if not front:
        raise no_feasible_error(members)
    document = report(space, workload, study, storage, members, front, out)
    write_outputs(out, space, front, document, members, workload.objectives)
    if as_json:
        print(json.dumps(document, indent=2))
        return
    _print_front(document, workload.objectives)


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise FablessError(f"--out {out}: it is a file; the search writes a folder")
    parent = out.parent if str(out.parent) else Path(".")
    if parent == BUILD and not BUILD.exists():
        BUILD.mkdir()
    if not parent.is_dir():
        raise FablessError(f"--out {out}: directory {parent} does not exist; create it first")


def _check_storage(storage: str) -> None:
    if not storage.startswith("sqlite:///"):
        return
    path = Path(storage.removeprefix("sqlite:///"))
    if path.parent == BUILD and not BUILD.exists():
        BUILD.mkdir()
    if not path.parent.is_dir():
        raise FablessError(f"--storage {storage}: directory {path.parent} does not exist; create it first")


def _print_front(document: dict[str, Any], objectives: tuple[str, ...]) -> None:
    out = console()
    table = Table(title=f"Pareto front of {document['study']}: {len(document['front'])} designs from "
                  f"{document['completed_trials']:,} trials ({document['feasible_trials']:,} feasible); "
                  f"base {document['base']['chip']} for comparison")
    table.add_column("chip")
    for name in objectives:
        table.add_column(name, justify="right")
    for column in ("die mm2", "TDP W", "unit USD", "chip file"):
        table.add_column(column, justify="left" if column == "chip file" else "right")
    base = document["base"]
    rows = [(base["chip"], base["objectives"], {k: c["value"] for k, c in base["constraints"].items()}, "-")]
    rows += [(m["chip"], m["objectives"], m["constraint_values"], m["chip_file"]) for m in document["front"]]
    for name, values, measured, path in rows:
        table.add_row(name, *(f"{values[o]:,.4g}" for o in objectives), f"{measured['reticle']:,.0f}",
                      f"{measured['tdp']:,.0f}", f"{measured['unit_cost']:,.0f}", str(path))
    print_table(out, table)
