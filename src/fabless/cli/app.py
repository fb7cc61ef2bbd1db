"""The root `fabless` command; each command group lives in its own module."""

import importlib
import sys

import typer

from fabless.errors import FablessError

app = typer.Typer(
    name="fabless",
    help="Design an AI inference chip and prove it before tape-out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module registers its commands on `app` when imported.
_COMMAND_MODULES = ("chip", "estimate", "compare", "run", "asm", "trace", "rtl", "cost", "serve")

for _module in _COMMAND_MODULES:
    importlib.import_module(f"fabless.cli.{_module}")


def main() -> None:
    """Entry point: bad input becomes one line on stderr and exit code 2."""
    try:
        # Without standalone mode click returns an Exit's code instead of exiting with it.
        code = app(standalone_mode=False)
    except FablessError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as error:
        # Typer's own usage errors (a missing option, a value of the wrong type).
        error.show()  # type: ignore[attr-defined]
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
