"""Where the CLI writes: checked before slow work, written whole or not at all, `build/` by default."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fabless.errors import FablessError
from fabless.files import check_output_path, output_file

BUILD = Path("build")
"""Default folder for what commands generate (traces, RTL); `.gitignore` covers it."""


def prepare_output(path: Path, what: str) -> Path:
    """Check at once that `what` can be written at `path`, creating `build/` if the path is inside it."""
    if path.parent == BUILD and not BUILD.is_dir():
        try:
            BUILD.mkdir()
        except OSError as error:
            raise FablessError(f"cannot create {BUILD}/ for {what}: {error.strerror or error}") from None
    return check_output_path(path, what)


@contextmanager
def staged_output(path: Path, what: str) -> Iterator[Path]:
    """A scratch path with the target's own file name, for writers that choose a format by suffix.

    It becomes `path` (with the umask's mode, or written into a device such as /dev/null)
    only if the block succeeds; otherwise nothing is left behind.
    """
    with output_file(path, what) as staged:
        folder = staged.parent
        with tempfile.TemporaryDirectory(dir=folder, prefix=f".{path.name}.") as scratch:
            named = Path(scratch) / path.name
            yield named
            if not named.is_file():
                raise FablessError(f"nothing was written for {what} at {path}")
            os.replace(named, staged)
