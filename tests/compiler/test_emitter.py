"""Semaphores derived from the bytes instructions touch, for strided column windows too."""

from fabless.compiler.emitter import Emitter, strided
from fabless.isa import DmaLoad, DmaStore, SemSignal, SemWait

ROWS, ROW, STRIDE = 4, 64, 256  # four cores' 64-byte column windows of 256-byte rows


def _store(core: int) -> DmaStore:
    return DmaStore(sram_addr=0, hbm_addr=core * ROW, rows=ROWS, row_bytes=ROW, sram_stride=ROW, hbm_stride=STRIDE)


def _waits(code: tuple) -> list[int]:
    return [instr.count for instr in code if isinstance(instr, SemWait)]


def test_column_windows_of_one_matrix_written_by_two_streams_wait_on_nothing():
    emitter = Emitter()
    for core in (0, 1):
        emitter.emit(f"c{core}.dma0", _store(core), writes=(strided("hbm", core * ROW, ROWS, ROW, STRIDE),))
    program = emitter.build()
    assert program.semaphores == 0
    assert not any(isinstance(i, SemSignal | SemWait) for code in program.streams.values() for i in code)


def test_windows_that_share_bytes_are_ordered():
    emitter = Emitter()
    emitter.emit("c0.dma0", _store(0), writes=(strided("hbm", 0, ROWS, ROW, STRIDE),))
    # 32 bytes in: each row's first half lies in the first window's row
    emitter.emit("c1.dma0", _store(1), writes=(strided("hbm", 32, ROWS, ROW, STRIDE),))
    assert _waits(emitter.build().streams["c1.dma0"]) == [1]


def test_a_strided_write_hides_no_earlier_access_in_its_gaps():
    emitter = Emitter()
    gap = DmaStore(sram_addr=0, hbm_addr=STRIDE, rows=1, row_bytes=ROW, sram_stride=ROW, hbm_stride=ROW)
    emitter.emit("c0.dma0", gap, writes=(("hbm", STRIDE, STRIDE + ROW),))  # row 1, columns 0..63
    emitter.emit("c1.dma0", _store(1), writes=(strided("hbm", ROW, ROWS, ROW, STRIDE),))  # columns 64..127
    load = DmaLoad(hbm_addr=0, sram_addr=0, rows=ROWS, row_bytes=STRIDE, hbm_stride=STRIDE, sram_stride=STRIDE)
    emitter.emit("c2.dma0", load, reads=(("hbm", 0, ROWS * STRIDE),))
    program = emitter.build()
    # the window's span encloses the first write but not its bytes: the reader waits for both
    assert _waits(program.streams["c1.dma0"]) == []
    assert len(_waits(program.streams["c2.dma0"])) == 2
