"""`write_verilog` writes as the CLI does: whole or not at all, the umask's mode, devices kept."""

import errno
import os
from pathlib import Path

import pytest

import fabless.rtl.verilog
from fabless.chip import load_chip
from fabless.errors import FablessError
from fabless.rtl.config import RtlConfig
from fabless.rtl.verilog import write_verilog

CONFIG = RtlConfig.from_chip(load_chip("small-test"))
TEXT = "// a stand-in core: these tests are about writing, not generating\nmodule fabless_core; endmodule\n"


@pytest.fixture(autouse=True)
def quick_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fabless.rtl.verilog, "generate_verilog", lambda *_args: TEXT)


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664)])
def test_the_verilog_gets_the_mode_the_umask_gives(tmp_path: Path, umask: int, mode: int) -> None:
    previous = os.umask(umask)
    try:
        path = write_verilog(CONFIG, tmp_path / "rtl")
    finally:
        os.umask(previous)
    assert path == tmp_path / "rtl" / "fabless_core.v" and path.read_text() == TEXT
    assert path.stat().st_mode & 0o777 == mode
    assert os.listdir(tmp_path / "rtl") == ["fabless_core.v"]


def test_a_write_failing_part_way_leaves_no_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_then_full(self: Path, data: bytes) -> int:
        with self.open("wb") as out:
            out.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_then_full)
    with pytest.raises(FablessError, match=r"^cannot write the core's Verilog to .*: No space left on device$"):
        write_verilog(CONFIG, tmp_path)
    assert os.listdir(tmp_path) == []


def test_a_failed_generation_makes_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_args: object) -> str:
        raise FablessError("amaranth failed")

    monkeypatch.setattr(fabless.rtl.verilog, "generate_verilog", fail)
    with pytest.raises(FablessError, match="amaranth failed"):
        write_verilog(CONFIG, tmp_path / "rtl")
    assert os.listdir(tmp_path) == []


def test_a_missing_parent_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(FablessError, match=r"^cannot write the core's Verilog to .*: directory .* does not exist; "):
        write_verilog(CONFIG, tmp_path / "nowhere" / "rtl")


def test_verilog_linked_to_dev_null_is_written_into_it_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "fabless_core.v").symlink_to("/dev/null")
    before = os.stat("/dev/null")
    write_verilog(CONFIG, tmp_path)
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_rdev, after.st_mode) == (before.st_ino, before.st_rdev, before.st_mode)
    assert (tmp_path / "fabless_core.v").is_symlink() and os.listdir(tmp_path) == ["fabless_core.v"]
