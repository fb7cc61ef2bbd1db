"""Fuzz every input kind Fabless reads and count how each case ended.

Run: python bench/fuzz_inputs.py [--cases N] [--kinds chip,gguf,...] [--timeout S] [--seed K]
Uses the harness of the CI fuzz tests (tests/fuzz) with more cases; exits 1 if any case
ended in a traceback, a hang, a silent accept, an unclear error or a refused valid input.
"""

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

# The harness lives with the tests it serves; the repository root makes it importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.cases import Outcome  # noqa: E402
from tests.fuzz.harness import KINDS, KindReport, describe, run_kind  # noqa: E402

EXAMPLES_SHOWN = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases per kind (default 10,000)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)}")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a case counts as a hang")
    parser.add_argument("--seed", type=int, default=0, help="fuzzing seed (the CI tests use 0)")
    args = parser.parse_args()
    kinds = [name.strip() for name in args.kinds.split(",") if name.strip()]
    unknown = [name for name in kinds if name not in KINDS]
    if unknown or args.cases < 1 or not args.timeout > 0:
        parser.error(f"unknown kinds {unknown}" if unknown else "--cases and --timeout must be positive")
    # Wide enough for every column when the output is a file or a CI log.
    console = Console(width=None if sys.stdout.isatty() else 150)
    reports = _run(console, kinds, args.cases, args.seed, args.timeout)
    console.print(_table(reports))
    for report in reports:
        for run in report.failures()[:EXAMPLES_SHOWN] if report.failed else ():
            console.print(describe(run, width=200), markup=False, highlight=False)
    sys.exit(1 if any(report.failed for report in reports) else 0)


def _run(console: Console, kinds: list[str], cases: int, seed: int, timeout_s: float) -> list[KindReport]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[failed]} failed"),
    )
    reports = []
    with Progress(*columns, console=console) as progress:
        for name in kinds:
            task = progress.add_task(name, total=cases, failed=0)
            failed = 0

            def advance(run: object, task: int = task) -> None:
                nonlocal failed
                failed += getattr(run, "outcome") not in (Outcome.OK, Outcome.CLEAN_ERROR)  # noqa: B009
                progress.update(task, advance=1, failed=failed)

            reports.append(run_kind(KINDS[name], cases, seed=seed, timeout_s=timeout_s, on_run=advance))
    return reports


def _table(reports: list[KindReport]) -> Table:
    table = Table(title="Fuzzed inputs")
    table.add_column("kind")
    table.add_column("cases", justify="right")
    for outcome in Outcome:
        table.add_column(outcome.value, justify="right")
    for report in reports:
        cells = [str(report.counts[outcome]) for outcome in Outcome]
        table.add_row(report.kind, str(report.cases), *cells)
    return table


if __name__ == "__main__":
    main()
