"""Where the CLI writes: checked before slow work, `build/` by default (`fabless.files` writes it whole)."""

from pathlib import Path

from fabless.errors import FablessError
from fabless.files import check_output_path

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
