"""A chip name from someone else's file cannot put Verilog, and so a `$system` call that
Verilator would run, into the generated core, even when the spec skipped validation."""

from pathlib import Path

import pytest

from fabless.chip import ChipSpec
from fabless.rtl.config import RtlConfig
from fabless.rtl.program import core_stream, encode_stream
from fabless.rtl.pysim import run_pysim
from fabless.rtl.randprog import numpy_draw, random_image, random_program
from fabless.rtl.verilator import build_verilator, verilator_missing
from fabless.rtl.verilog import generate_verilog


def _payloads(marker: Path) -> list[str]:
    """A comment-closing name and a newline one that binds a `$system` module into the core."""
    shell = f'initial $system("touch {marker}");'
    return [
        f"x */ {shell} /*",
        f"x\nmodule pwn; {shell} endmodule\nbind fabless_core pwn p();\n//",
    ]


def _hostile(chip: ChipSpec, name: str) -> ChipSpec:
    # model_copy does not validate: the spec a caller could build around the schema.
    return chip.model_copy(update={"name": name})


@pytest.mark.parametrize("which", [0, 1])
def test_a_hostile_name_stays_one_inert_comment_line(array_chip, tmp_path: Path, which: int):
    name = _payloads(tmp_path / "PWNED")[which]
    config = RtlConfig.from_chip(array_chip(4, 4))
    hostile = generate_verilog(config, name).splitlines()
    benign = generate_verilog(config, "x").splitlines()
    assert hostile[1:] == benign[1:]
    assert hostile[0].startswith("// Fabless compute core for chip x_") and hostile[0].endswith(": 4x4 int8 MXU,")
    assert "$" not in hostile[0] and "*/" not in hostile[0]


def test_a_hostile_name_builds_and_runs_under_verilator_without_running_a_command(
        array_chip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    problem = verilator_missing()
    if problem:
        pytest.skip(f"needs Verilator: {problem}")
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    # Both payloads in one name, so one build covers them.
    chip = _hostile(array_chip(4, 4), "".join(_payloads(marker)))
    config = RtlConfig.from_chip(chip)
    model = build_verilator(config, tmp_path / "cache", chip.name, optimize=False)
    words = encode_stream(core_stream(random_program(config, numpy_draw(1), 4)))
    image = random_image(config, 1)
    rtl, reference = model.run(words, image), run_pysim(config, words, image)
    assert not rtl.error and rtl.cycles == reference.cycles
    assert (rtl.image.acc == reference.image.acc).all()
    assert not marker.exists()
