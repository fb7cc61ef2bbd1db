"""The assembler reads the text form, and names the line of every mistake."""

from pathlib import Path

import pytest

from fabless.errors import FablessError
from fabless.isa import Dtype, MxuLoadWeights, SemSignal, SemWait, assemble, disassemble

EXAMPLE = Path(__file__).parents[1] / "funcsim" / "gemm_example.s"


def test_example_program_assembles_with_its_streams_and_semaphores():
    program = assemble(EXAMPLE.read_text())
    assert program.semaphores == 5
    assert list(program.streams) == ["dma0", "mxu0"]
    assert len(program.streams["dma0"]) == 13 and len(program.streams["mxu0"]) == 16
    assert program.streams["mxu0"][1] == MxuLoadWeights(w_addr=0x100, w_stride=16, k=8, n=8, dtype=Dtype.BF16)


def test_fields_with_defaults_may_be_left_out_and_comments_ignored():
    text = ".stream vpu\nsem.signal sem=2  # count defaults to 1\n\n  # comment line\nsem.wait sem=2 count=1"
    program = assemble(text)
    assert program.streams["vpu"] == (SemSignal(sem=2, count=1), SemWait(sem=2, count=1))
    assert program.semaphores == 3


def test_disassembly_writes_every_field():
    text = disassemble(assemble(".stream mxu0\nmxu.ldw w_addr=256 w_stride=16 k=8 n=8 dtype=bf16"))
    assert text == ".semaphores 0\n.stream mxu0\nmxu.ldw w_addr=0x100 w_stride=16 k=8 n=8 dtype=bf16 transposed=0\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (".stream dma0\ndma.lod hbm_addr=0", r"prog.s:2: unknown mnemonic 'dma.lod'"),
        (".stream dma0\nsem.signal sem=70000", r"prog.s:2: sem.signal: sem=70000 does not fit its 16-bit field"),
        (".stream dma0\nsem.signal", r"prog.s:2: sem.signal is missing sem="),
        (".stream dma0\nsem.signal sem=1 sem=2", r"prog.s:2: sem.signal: field sem given twice"),
        (".stream dma0\nsem.signal sem=one", r"prog.s:2: sem.signal: sem=one is not an integer"),
        (".stream dma0\nsem.signal bogus=1", r"prog.s:2: sem.signal has no field 'bogus'"),
        (".stream dma0\nsem.signal 1", r"prog.s:2: sem.signal: operand '1' is not field=value"),
        ("sem.signal sem=1", r"prog.s:1: instruction before any `.stream <name>` line"),
        (".stream gpu0", r"prog.s:1: stream name 'gpu0' is not"),
        (".stream\n", r"prog.s:1: write `.stream <name>`"),
        (".semaphores x", r"prog.s:1: write `.semaphores <count>`"),
        (".banana", r"prog.s:1: unknown directive '.banana'"),
        (
            "\n.stream vpu\nmxu.ldw w_addr=0 w_stride=0 k=1 n=1 dtype=bf16",
            r"prog.s:3: mxu.ldw runs on a mxu engine, not on vpu",
        ),
        (
            ".semaphores 1\n.stream dma0\nsem.wait sem=1",
            r"prog.s:3: sem.wait uses semaphore 1 but the program declares 1",
        ),
    ],
)
def test_mistakes_name_the_line(text, message):
    with pytest.raises(FablessError, match=message):
        assemble(text, origin="prog.s")
