"""The root `fabless` command; each command group lives in its own module.

Command modules import only typer and the shared options at load time and the layers they
drive inside each command, so `fabless --help` or `fabless chip list` never loads the
compiler, the simulators, the RTL generator or matplotlib.
"""

import importlib
import os
import sys
import warnings

import typer

from fabless import __version__
from fabless.errors import FablessError

app = typer.Typer(
    name="fabless",
    help="Design an AI inference chip and prove it before tape-out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        print(f"fabless {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
    ),
) -> None:
    """Design an AI inference chip and prove it before tape-out."""


# Each module registers its commands on `app` when imported.
_COMMAND_MODULES = ("chip", "model", "estimate", "compare", "run", "asm", "trace", "rtl", "cost", "serve", "explore")

for _module in _COMMAND_MODULES:
    importlib.import_module(f"fabless.cli.{_module}")


INTERNAL_ERROR_EXIT = 70
"""Exit status of a bug in Fabless itself (sysexits' EX_SOFTWARE), distinct from bad input's 2."""


def main() -> None:
    """Entry point: bad input becomes one line on stderr and exit code 2; a bug, one line and 70."""
    warnings.showwarning = _one_line_warning
    try:
        # Without standalone mode click returns an Exit's code instead of exiting with it.
        code = app(standalone_mode=False, prog_name="fabless")
    except FablessError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except typer.TyperException as error:
        # Typer's own usage errors (a missing option, a value out of range): one line, as ours are.
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        context = getattr(error, "ctx", None)
        command = context.command_path if context is not None else "fabless"
        print(f"error: {message.rstrip('.')}; see `{command} --help`", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:
        # The reader went away (`fabless chip list | head -3`): stop quietly, as cat does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except Exception as error:
        if os.environ.get("FABLESS_TRACEBACK"):
            raise
        command = " ".join(sys.argv[1:3]) or "fabless"
        print(
            f"internal error in `fabless {command}`: {type(error).__name__}: {_first_line(error)}; "
            "this is a bug in Fabless, please report it with the command line (FABLESS_TRACEBACK=1 shows where)",
            file=sys.stderr,
        )
        sys.exit(INTERNAL_ERROR_EXIT)
    sys.exit(code if isinstance(code, int) else 0)


def _one_line_warning(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
    """A caveat the user should read (a context past the model's window), as one line, not a source listing."""
    print(f"warning: {message}", file=sys.stderr)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else "no message"
