"""Where the CLI writes: checked before slow work, `build/` by default (`fabless.files` writes it whole)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fabless.errors import FablessError
from fabless.files import check_output_path

BUILD = Path("build")
"""Default folder for what commands generate (traces, RTL); `.gitignore` covers it."""


@contextmanager
def naming(flag: str) -> Iterator[None]:
    """Put the option a path came from in front of any error about it: the user typed the flag."""
    try:
        yield
    except FablessError as error:
        raise FablessError(f"{flag}: {error}") from None


def prepare_output(path: Path, what: str, flag: str) -> Path:
    """Check at once that `what` can be written at `path` (given by `flag`), creating `build/` if the
    path is inside it."""
    with naming(flag):
        if path.parent == BUILD and not BUILD.is_dir():
            try:
                BUILD.mkdir()
            except OSError as error:
                raise FablessError(f"cannot create {BUILD}/ for {what}: {error.strerror or error}") from None
        return check_output_path(path, what)
