"""Every command that writes a file: bad paths fail at once, in one line; failures leave nothing; modes follow umask."""

import errno
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[1] / "funcsim" / "gemm_example.s"

# Each writing command, with the output path as {out}; cheap settings, so the whole file runs in seconds.
WRITERS = {
    "asm": ("asm", str(EXAMPLE), "-o", "{out}"),
    "disasm": ("disasm", "{binary}", "-o", "{out}"),
    "trace": ("trace", "--chip", "fab1", "--program", str(EXAMPLE), "--out", "{out}", "--json"),
    "cost --plot": ("cost", "--chip", "fab1", "--plot", "{out}", "--json"),
    "tco --plot": ("tco", "--model", "llama-3-8b", "--chips", "fab1,h100", "--plot", "{out}", "--json"),
    "serve --plot": ("serve", "--model", "llama-3-8b", "--chip", "h100", "--num-chips", "1", "--rate", "2",
                     "--requests", "20", "--input", "128", "--output", "8", "--plot", "{out}", "--json"),
}


@pytest.fixture
def binary(tmp_path: Path, cli) -> Path:
    path = tmp_path / "gemm.bin"
    assert cli("asm", str(EXAMPLE), "-o", str(path))[0] == 0
    return path


def _flag(name: str) -> str:
    """The option that carries the output path: the CLI names it in front of a path error."""
    parts = WRITERS[name]
    flag = parts[parts.index("{out}") - 1]
    return "--output" if flag == "-o" else flag


def _args(name: str, out: Path, binary: Path) -> list[str]:
    return [part.format(out=out, binary=binary) for part in WRITERS[name]]


@pytest.mark.parametrize("name", WRITERS)
def test_a_missing_folder_is_one_line_exit_2_before_any_work(name, tmp_path, cli, binary):
    out = tmp_path / "nowhere" / "result.png"
    code, stdout, err = cli(*_args(name, out, binary))
    assert code == 2 and stdout == ""
    assert err == (f"error: {_flag(name)}: cannot write {_what(name)} to {out}: directory {out.parent} does not exist; "
                   "create it first\n")


@pytest.mark.parametrize("name", WRITERS)
def test_a_folder_given_as_the_file_is_refused(name, tmp_path, cli, binary):
    folder = tmp_path / "folder"
    folder.mkdir()
    code, _, err = cli(*_args(name, folder, binary))
    assert code == 2
    assert err == (f"error: {_flag(name)}: cannot write {_what(name)} to {folder}: it is a directory; "
                   "give a file name inside it\n")


@pytest.mark.parametrize("name", WRITERS)
def test_a_read_only_folder_is_refused(name, tmp_path, cli, binary, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    # Root may write anywhere, so the folder is made to look read-only to the check.
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != locked and real_access(p, mode))
    code, _, err = cli(*_args(name, locked / "out.png", binary))
    assert code == 2
    where = locked / "out.png"
    assert err == f"error: {_flag(name)}: cannot write {_what(name)} to {where}: directory {locked} is not writable\n"
    assert list(locked.iterdir()) == []


def _trace_half_then_full(monkeypatch: pytest.MonkeyPatch) -> None:
    import fabless.cyclesim.perfetto as perfetto

    real = perfetto._events

    def some_then_full(report: object) -> Iterator[dict[str, object]]:
        yield from itertools.islice(real(report), 3)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(perfetto, "_events", some_then_full)


def _plot_half_then_full(monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.figure

    def half_then_full(_figure: object, path: Path, **_kwargs: object) -> None:
        Path(path).write_bytes(b"half a chart")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", half_then_full)


# The library writer itself dies after writing part of its file: the guarantee is the writer's, not the command's.
FAILURES = {
    "trace": _trace_half_then_full,
    "cost --plot": _plot_half_then_full,
    "tco --plot": _plot_half_then_full,
    "serve --plot": _plot_half_then_full,
}


@pytest.mark.parametrize("name", FAILURES)
def test_a_writer_failing_part_way_leaves_no_file_and_no_temporary(name, tmp_path, cli, binary, monkeypatch):
    FAILURES[name](monkeypatch)
    folder = tmp_path / "outputs"
    folder.mkdir()
    out = folder / "result.png"
    code, _, err = cli(*_args(name, out, binary))
    assert (code, err) == (2, f"error: cannot write {_what(name)} to {out}: No space left on device\n")
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("name", WRITERS)
def test_new_files_get_the_umask_mode(name, tmp_path, cli, binary):
    out = tmp_path / "result.png"
    previous = os.umask(0o002)
    try:
        code, _, err = cli(*_args(name, out, binary))
    finally:
        os.umask(previous)
    assert code == 0, err
    assert out.stat().st_mode & 0o777 == 0o664
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"gemm.bin", "result.png"})


@pytest.mark.parametrize("name", WRITERS)
def test_dev_null_is_written_to_not_replaced(name, tmp_path, cli, binary):
    before = os.stat("/dev/null")
    code, _, err = cli(*_args(name, Path("/dev/null"), binary))
    assert code == 0, err
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_rdev, after.st_mode) == (before.st_ino, before.st_rdev, before.st_mode)


def test_rtl_generate_refuses_a_file_where_its_folder_goes_and_makes_no_folder_on_failure(tmp_path, cli, monkeypatch):
    file = tmp_path / "rtl"
    file.write_text("not a folder")
    code, _, err = cli("rtl", "generate", "--chip", "small-test", "--out", str(file))
    assert code == 2
    assert err == (f"error: --out: cannot write the core's Verilog to {file}: it is a file, and the core's Verilog "
                   "needs a directory\n")
    import fabless.rtl.verilog
    from fabless.errors import FablessError

    def fail(*_args: object) -> str:
        raise FablessError("amaranth failed")

    monkeypatch.setattr(fabless.rtl.verilog, "generate_verilog", fail)
    code, _, err = cli("rtl", "generate", "--chip", "small-test", "--out", str(tmp_path / "new"))
    assert (code, err) == (2, "error: amaranth failed\n")
    assert not (tmp_path / "new").exists()


def test_default_outputs_go_under_build(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = cli("trace", "--chip", "fab1", "--program", str(EXAMPLE), "--json")
    assert code == 0, err
    assert os.listdir(tmp_path) == ["build"] and os.listdir(tmp_path / "build") == ["trace.json"]
    code, _, err = cli("rtl", "generate", "--chip", "small-test")
    assert code == 0, err
    assert sorted(os.listdir(tmp_path / "build")) == ["rtl", "trace.json"]
    assert os.listdir(tmp_path / "build" / "rtl") == ["fabless_core.v"]


def _what(name: str) -> str:
    return {
        "asm": "the program",
        "disasm": "the assembler text",
        "trace": "the trace",
        "cost --plot": "the cost chart",
        "tco --plot": "the TCO chart",
        "serve --plot": "the latency-throughput curve",
    }[name]
