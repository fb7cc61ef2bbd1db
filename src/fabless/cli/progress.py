"""Progress on stderr for the slow steps, drawn only when stderr is a terminal.

Piped, redirected or under CI nothing is drawn, so logs hold no bar frames; the bar is
transient, so a finished command leaves only its results on the screen.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from fabless.cli.console import console


@contextmanager
def progress(description: str, total: int | None = None, enabled: bool = True) -> Iterator[Callable[..., None]]:
    """Show `description` with a spinner (no `total`) or a bar of `total` steps; yield `advance(steps=1, note=None)`.

    `enabled=False` draws nothing, for a step whose own output already shows it advancing.
    """
    err = console(stderr=True)
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    # stdout is left alone: results written while the bar runs must reach stdout, not the bar's stream.
    bar = Progress(*columns, TimeElapsedColumn(), console=err, transient=True,
                   disable=not (enabled and err.is_terminal), redirect_stdout=False, redirect_stderr=False)
    task = bar.add_task(description, total=total)

    def advance(steps: float = 1, note: str | None = None) -> None:
        bar.update(task, advance=steps, description=description if note is None else f"{description}: {note}")

    with bar:
        yield advance
