import pytest

from fabless.errors import FablessError
from fabless.isa import DmaLoad, Halt, Program, ProgramBuilder, SemSignal, SemWait, StreamId, parse_stream


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dma0", StreamId(0, "dma", 0)),
        ("mxu3", StreamId(0, "mxu", 3)),
        ("vpu", StreamId(0, "vpu", 0)),
        ("c7.dma1", StreamId(7, "dma", 1)),
        ("c2.vpu", StreamId(2, "vpu", 0)),
    ],
)
def test_stream_names_give_core_engine_and_unit(name, expected):
    assert parse_stream(name) == expected
    assert expected.name == name


@pytest.mark.parametrize("name", ["vpu0", "mxu", "dma", "c.mxu0", "core1.mxu0", "tpu0"])
def test_malformed_stream_names_are_rejected(name):
    with pytest.raises(FablessError, match="is not \\[c<core>.\\]dma<i>"):
        parse_stream(name)


def test_instruction_in_the_wrong_engine_names_stream_and_index():
    load = DmaLoad(hbm_addr=0, sram_addr=0, rows=1, row_bytes=1, hbm_stride=0, sram_stride=0)
    with pytest.raises(FablessError, match=r"mxu0\[1\] dma.load runs on a dma engine, not on mxu"):
        Program({"mxu0": (Halt(), load)})


def test_builder_numbers_semaphores_and_keeps_stream_order():
    builder = ProgramBuilder()
    first, second = builder.semaphore(), builder.semaphore()
    builder.emit("vpu", SemWait(sem=first))
    builder.emit("dma0", SemSignal(sem=first), SemSignal(sem=second))
    builder.extend("vpu", [SemWait(sem=second)])
    program = builder.build()
    assert (first, second, program.semaphores) == (0, 1, 2)
    assert list(program.streams) == ["vpu", "dma0"]
    assert program.streams["vpu"] == (SemWait(sem=0), SemWait(sem=1))
    assert program.instruction_count == 4


def test_program_streams_cannot_change_after_construction():
    code = [SemSignal(sem=0)]
    program = Program({"dma0": code}, semaphores=1)
    code.append(Halt())
    assert program.streams["dma0"] == (SemSignal(sem=0),)
    with pytest.raises(TypeError):
        program.streams["dma1"] = ()  # type: ignore[index]
