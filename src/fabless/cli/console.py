"""The one place the CLI makes its rich consoles, so every command prints tables the same way.

On a terminal a table fits the window: cells wrap (names stay whole, other cells fold)
rather than being cut with an ellipsis. Piped or redirected, nothing is fitted to a width
at all, so `fabless chip list | grep h100` and `... > table.txt` see every name and header
whole, as `ls` and `ps` do when they are not talking to a terminal.
"""

from rich.console import Console
from rich.table import Table

_PIPE_WIDTH = 10_000
"""Columns a piped console pretends to have: wider than any table or line we print."""


def console(stderr: bool = False) -> Console:
    """A console on stdout (results) or stderr (notes and statistics beside a result)."""
    made = Console(stderr=stderr, highlight=False)
    if not made.is_terminal:
        made.width = _PIPE_WIDTH
    return made


def print_table(out: Console, table: Table) -> None:
    """Print `table` with its title as a line of its own, so the title never wraps to the table's width."""
    if table.title:
        out.print(table.title, style="bold", markup=False)
        table.title = None
    for index, column in enumerate(table.columns):
        # The first column holds the names a reader looks for; the others may fold.
        column.no_wrap = index == 0
        column.overflow = "fold"
    out.print(table)
