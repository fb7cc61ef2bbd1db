"""Writing results: whole or not at all, the user's umask, device nodes kept, one-line errors."""

import os
import stat

import pytest

from fabless.errors import FablessError
from fabless.files import check_output_path, output_directory, output_file, write_output


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_write_output_uses_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        write_output(tmp_path / "a.json", "{}", "a report")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o640
    assert (tmp_path / "a.json").read_text() == "{}"


def test_an_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "keep.bin"
    path.write_bytes(b"old")
    path.chmod(0o604)
    write_output(path, b"new", "a program")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o604


def test_a_failure_inside_the_block_leaves_no_file(tmp_path):
    with pytest.raises(RuntimeError):
        with output_file(tmp_path / "trace.json", "a trace") as staged:
            staged.write_text("half")
            raise RuntimeError("simulation failed")
    assert _leftovers(tmp_path) == []


def test_a_failure_keeps_the_old_file_whole(tmp_path):
    path = tmp_path / "trace.json"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with output_file(path, "a trace") as staged:
            staged.write_text("new but half")
            raise RuntimeError
    assert _leftovers(tmp_path) == ["trace.json"]
    assert path.read_text() == "old"


def test_a_device_node_is_written_to_not_replaced():
    before = os.stat("/dev/null")
    write_output("/dev/null", b"discarded", "a trace")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_fifo_receives_the_bytes(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_output(fifo, b"through the pipe", "a trace")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_bad_paths_are_one_line_errors(tmp_path):
    with pytest.raises(FablessError, match=r"directory .*missing does not exist; create it first"):
        check_output_path(tmp_path / "missing" / "a.json", "a trace")
    with pytest.raises(FablessError, match=r"it is a directory; give a file name inside it"):
        check_output_path(tmp_path, "a trace")
    (tmp_path / "file").write_text("")
    with pytest.raises(FablessError, match=r"file is not a directory"):
        check_output_path(tmp_path / "file" / "a.json", "a trace")


def test_output_directory_is_created_and_a_file_there_is_refused(tmp_path):
    assert output_directory(tmp_path / "rtl", "the RTL").is_dir()
    (tmp_path / "taken").write_text("")
    with pytest.raises(FablessError, match=r"taken: it is a file, and the RTL needs a directory"):
        output_directory(tmp_path / "taken", "the RTL")
    with pytest.raises(FablessError, match=r"directory .*no does not exist"):
        output_directory(tmp_path / "no" / "rtl", "the RTL")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_directory_is_named(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(FablessError, match=r"is not writable"):
            write_output(folder / "a.json", "{}", "a trace")
    finally:
        folder.chmod(0o700)


def test_impossible_file_names_are_one_line_errors(tmp_path):
    with pytest.raises(FablessError, match=r"no file name given for a trace"):
        check_output_path("", "a trace")
    with pytest.raises(FablessError, match=r"a file name is at most 255 bytes and a path 4096"):
        check_output_path(tmp_path / ("x" * 300 + ".json"), "a trace")
    with pytest.raises(FablessError, match=r"a file name is at most 255 bytes"):
        output_directory(tmp_path / ("d" * 256), "the RTL")
    with pytest.raises(FablessError, match=r"cannot hold a NUL byte"):
        check_output_path(str(tmp_path / "a\x00b"), "a trace")


def test_a_name_near_the_limit_is_written(tmp_path):
    path = tmp_path / ("y" * 250 + ".bin")
    write_output(path, b"ok", "a program")
    assert path.read_bytes() == b"ok"
    assert _leftovers(tmp_path) == [path.name]
