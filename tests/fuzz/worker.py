"""Run cases in a forked worker: a hang is killed at a timeout, a runaway allocation is capped.

The worker is forked from a parent that has already imported Fabless, so a restart after a
hang costs a fork, not an import. It executes one case at a time in a fresh folder that is
also its working directory, so CLI defaults such as `trace.json` land there.
"""

import multiprocessing
import os
import resource
import shutil
import stat
import tempfile
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from .cases import Case, Status, Verdict

Executor = Callable[[Case, Path], Verdict]

GIB = 2**30


class Worker:
    """A child process that runs cases with `execute`; restarted whenever one hangs or kills it."""

    def __init__(self, execute: Executor, timeout_s: float, memory_bytes: int = 4 * GIB) -> None:
        self._execute, self._timeout_s, self._memory_bytes = execute, timeout_s, memory_bytes
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        # The parent owns the scratch folder, so a worker killed mid-case leaves nothing behind.
        self._root = Path(tempfile.mkdtemp(prefix="fabless-fuzz-"))

    def run(self, case: Case) -> Verdict:
        if self._process is None or not self._process.is_alive():
            self._start()
        assert self._conn is not None and self._process is not None
        self._conn.send(case)
        if not self._conn.poll(self._timeout_s):
            self.close()
            return Verdict(Status.HUNG, f"no result after {self._timeout_s:g} s")
        try:
            return self._conn.recv()
        except EOFError:
            self._process.join()
            code = self._process.exitcode
            self.close()
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            return Verdict(Status.CRASHED, f"the worker died ({how})")

    def close(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join()
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
        _remove(self._root)

    def _start(self) -> None:
        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, self._execute, self._memory_bytes, self._root), daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent


def _serve(conn: Connection, execute: Executor, memory_bytes: int, root: Path) -> None:
    # A parent that already maps more than the cap (a pytest process with torch loaded) keeps some headroom.
    limit = max(memory_bytes, _address_space_bytes() + GIB)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # The same warning policy under pytest and the benchmark: a numeric warning is the
    # library computing inf or NaN from the input, which it should have refused.
    warnings.simplefilter("ignore")
    warnings.simplefilter("error", RuntimeWarning)
    while True:
        try:
            case = conn.recv()
        except EOFError:
            return
        conn.send(_run_in_folder(case, execute, root))


def _run_in_folder(case: Case, execute: Executor, root: Path) -> Verdict:
    folder = root / f"case{case.index}"
    _remove(folder)  # left by a worker killed on this case
    folder.mkdir()
    try:
        for name in case.folders:
            (folder / name).mkdir(parents=True)
        for name, data in case.files.items():
            (folder / name).write_bytes(data)
        for name in case.read_only:
            (folder / name).chmod(0o555)
        os.chdir(folder)
        try:
            return execute(case, folder)
        except BaseException as error:  # noqa: B036 - a Rust panic or SystemExit is a crash too
            return Verdict(Status.CRASHED, f"{type(error).__name__}: {_first_line(error)}")
    finally:
        os.chdir(root)
        _remove(folder)


def _remove(folder: Path) -> None:
    for path in (folder, *folder.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR)
    shutil.rmtree(folder, ignore_errors=True)


def _address_space_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else "no message"
