"""The cost and TCO charts: written whole or not at all, with the umask's mode, in the format the suffix names."""

import errno
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

import matplotlib.figure
import pytest

from fabless.chip import load_chip
from fabless.errors import FablessError
from fabless.model import Precision, load_model_config
from fabless.ppa import CostStudy, TcoStudy, Workload, cost_study, load_ppa_data, tco_study
from fabless.ppa.plot import plot_cost, plot_tco


@cache
def _cost() -> CostStudy:
    return cost_study(load_chip("fab1"), load_ppa_data(), 100_000)


@cache
def _tco() -> TcoStudy:
    workload = Workload(config=load_model_config("llama-3-8b"), precision=Precision.from_options("fp8"), batch=64,
                        input_len=1024, output_len=256)
    return tco_study(load_chip("fab1"), [load_chip("h100")], workload, load_ppa_data(), 100_000)


def _draw_cost(path: str | Path) -> None:
    plot_cost(_cost(), path)


def _draw_tco(path: str | Path) -> None:
    plot_tco(_tco(), path)


DRAW: dict[str, Callable[[str | Path], None]] = {"cost": _draw_cost, "tco": _draw_tco}
WHAT = {"cost": "the cost chart", "tco": "the TCO chart"}


@pytest.mark.parametrize("chart", DRAW)
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664)])
def test_a_new_chart_gets_the_mode_the_umask_gives(chart: str, umask: int, mode: int, tmp_path: Path) -> None:
    previous = os.umask(umask)
    try:
        DRAW[chart](tmp_path / "chart.png")
    finally:
        os.umask(previous)
    assert (tmp_path / "chart.png").stat().st_mode & 0o777 == mode
    assert os.listdir(tmp_path) == ["chart.png"]


@pytest.mark.parametrize(("name", "magic"), [("chart.png", b"\x89PNG"), ("chart.svg", b"<?xml"),
                                             ("chart.PDF", b"%PDF"), ("chart", b"\x89PNG")])
def test_the_format_follows_the_suffix_not_the_temporary_file(name: str, magic: bytes, tmp_path: Path) -> None:
    _draw_cost(tmp_path / name)
    assert (tmp_path / name).read_bytes().startswith(magic)


def test_an_unknown_format_is_one_line_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(FablessError, match=r"^cannot write the cost chart to .*chart\.docx: matplotlib cannot write "
                                           r"\.docx; use \.png, \.svg or \.pdf$"):
        _draw_cost(tmp_path / "chart.docx")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("chart", DRAW)
def test_a_chart_failing_part_way_leaves_no_file_and_no_temporary(
    chart: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_then_full(_figure: object, path: Path, **_kwargs: object) -> None:
        Path(path).write_bytes(b"\x89PNG half a chart")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", half_then_full)
    with pytest.raises(FablessError, match=rf"^cannot write {WHAT[chart]} to .*: No space left on device$"):
        DRAW[chart](tmp_path / "chart.png")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("chart", DRAW)
def test_a_chart_to_dev_null_writes_into_it_instead_of_replacing_it(chart: str) -> None:
    before = os.stat("/dev/null")
    DRAW[chart]("/dev/null")
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_rdev, after.st_mode) == (before.st_ino, before.st_rdev, before.st_mode)
