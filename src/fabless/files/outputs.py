"""Writing results: a file appears whole or not at all, with the mode the user's umask gives.

A regular file is written through a temporary file beside it and renamed over the target,
so a failure part-way leaves the old file (or none). A device node or FIFO that already
exists (`/dev/null`, `/dev/stdout`, a named pipe) is written to as such, never replaced.
Every problem a user can cause (a missing or read-only folder, a folder where a file is
wanted, a file where a folder is wanted) is one `FablessError` line naming the path.
"""

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fabless.checks import clip
from fabless.errors import FablessError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


NAME_MAX = 255
"""Bytes in one path component on Linux and macOS file systems."""
PATH_MAX = 4096


def check_output_path(path: str | Path, what: str) -> Path:
    """Check before slow work starts that `what` can be written at `path`; return it."""
    path = _well_formed(path, what)
    try:
        target = path.resolve() if path.is_symlink() else path
        mode = target.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as error:
        raise FablessError(f"cannot write {what} to {path}: {error.strerror or error}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise FablessError(f"cannot write {what} to {path}: it is a directory; give a file name inside it")
    if mode is not None and not stat.S_ISREG(mode):
        return target
    _check_folder(target.parent, path, what)
    return target


def _well_formed(path: str | Path, what: str) -> Path:
    """The path, if the operating system could accept it at all as a file name."""
    text = str(path) if isinstance(path, Path) else path
    # pathlib reads an empty argument as ".", the current directory: no name was given either way.
    if not text.strip() or text == ".":
        raise FablessError(f"no file name given for {what}: pass a path such as build/out")
    if "\x00" in text:
        raise FablessError(f"cannot write {what} to {text!r}: a file name cannot hold a NUL byte")
    encoded = os.fsencode(text)
    longest = max(len(part) for part in encoded.split(b"/"))
    if longest > NAME_MAX or len(encoded) > PATH_MAX:
        raise FablessError(
            f"cannot write {what} to {clip(text, 60)}: a file name is at most {NAME_MAX} bytes and a path {PATH_MAX}"
        )
    return Path(text)


def _check_folder(folder: Path, path: Path, what: str) -> None:
    folder = folder if str(folder) else Path(".")
    if not folder.exists():
        raise FablessError(f"cannot write {what} to {path}: directory {folder} does not exist; create it first")
    if not folder.is_dir():
        raise FablessError(f"cannot write {what} to {path}: {folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FablessError(f"cannot write {what} to {path}: directory {folder} is not writable")


@contextmanager
def output_file(path: str | Path, what: str) -> Iterator[Path]:
    """A temporary path to write `what` into; it becomes `path` only if the block succeeds."""
    target = check_output_path(path, what)
    existing = target.stat() if target.exists() else None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with tempfile.TemporaryDirectory() as scratch:
            staged = Path(scratch) / (target.name or "output")
            try:
                yield staged
            except OSError as error:
                raise FablessError(f"cannot write {what} to {path}: {error.strerror or error}") from None
            _copy_into_node(staged, target, what)
        return
    folder = target.parent if str(target.parent) else Path(".")
    try:
        # The staging name must fit NAME_MAX beside the target's own, however long that is.
        handle, name = tempfile.mkstemp(dir=folder, prefix=f".{target.name[:200]}.", suffix=".partial")
    except OSError as error:
        raise FablessError(f"cannot write {what} to {path}: {error.strerror or error}") from None
    os.close(handle)
    staged = Path(name)
    try:
        yield staged
        mode = stat.S_IMODE(existing.st_mode) if existing is not None else 0o666 & ~_umask()
        os.chmod(staged, mode)
        os.replace(staged, target)
    except OSError as error:
        raise FablessError(f"cannot write {what} to {path}: {error.strerror or error}") from None
    finally:
        staged.unlink(missing_ok=True)


def _copy_into_node(staged: Path, target: Path, what: str) -> None:
    try:
        with staged.open("rb") as source, target.open("wb") as sink:
            shutil.copyfileobj(source, sink)
    except OSError as error:
        raise FablessError(f"cannot write {what} to {target}: {error.strerror or error}") from None


def write_output(path: str | Path, data: bytes | str, what: str) -> Path:
    """Write `data` (text as UTF-8) to `path` atomically; return the path written."""
    payload = data.encode() if isinstance(data, str) else data
    with output_file(path, what) as staged:
        staged.write_bytes(payload)
    return Path(path)


def output_directory(path: str | Path, what: str) -> Path:
    """A directory to write `what` into, created if missing (its parent must exist)."""
    path = _well_formed(path, what)
    if path.exists() and not path.is_dir():
        raise FablessError(f"cannot write {what} to {path}: it is a file, and {what} needs a directory")
    if not path.exists():
        _check_folder(path.parent, path, what)
        try:
            path.mkdir()
        except OSError as error:
            raise FablessError(f"cannot create {path} for {what}: {error.strerror or error}") from None
    elif not os.access(path, os.W_OK | os.X_OK):
        raise FablessError(f"cannot write {what} to {path}: directory {path} is not writable")
    return path
