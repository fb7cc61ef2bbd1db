"""The chip's memories as numpy byte buffers, and bounds-checked tile views into them.

HBM is one lazily backed mapping of the chip's full capacity (pages cost RAM only once
written). SRAM and accumulators are allocated per core / per MXU on first use and filled
with 0xFF bytes so that uninitialised float reads are NaN.
"""

import mmap
from collections.abc import Callable

import numpy as np

from fabless.chip.spec import ChipSpec
from fabless.funcsim.deferred import DeferredCopies
from fabless.funcsim.errors import ProgramError

_MAP_NORESERVE = 0x4000  # Linux: do not reserve swap for the untouched part of HBM
ACC_WORD_BYTES = 4
PAGE_BITS = 6
"""SRAM writes are tracked per 64-byte page, so MXUs can reuse weights prepared earlier;
pages no larger than the compiler's alignment keep a buffer's writes off its neighbours'."""
HBM_PAGE_BITS = 16
"""HBM writes are tracked per 64 KiB page, so weights copied in again can reuse theirs even
beside the buffers a step writes."""
HBM_REGION_BITS = 24
"""And per 16 MiB region, in a plain list: weights sit apart from what a step writes, so
most checks end there without a numpy call."""


class Memory:
    """HBM, each core's SRAM and each MXU's accumulator of one chip."""

    def __init__(self, chip: ChipSpec, hbm_bytes: int | None = None) -> None:
        self.chip = chip
        self.hbm_bytes = chip.hbm.capacity_bytes if hbm_bytes is None else hbm_bytes
        self.sram_bytes = chip.core.sram.capacity_bytes
        matrix = chip.core.matrix
        self.acc_cols = matrix.cols
        self.acc_rows = int((matrix.accumulator_kib or 0) * 1024) // (ACC_WORD_BYTES * matrix.cols)
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _MAP_NORESERVE
        self._hbm_map = mmap.mmap(-1, self.hbm_bytes, flags=flags)
        self.hbm = np.frombuffer(self._hbm_map, dtype=np.uint8)
        self._sram: dict[int, np.ndarray] = {}
        self._pages: dict[int, np.ndarray] = {}
        self._acc: dict[tuple[int, int], np.ndarray] = {}
        self._hbm_pages = np.zeros((self.hbm_bytes >> HBM_PAGE_BITS) + 1, dtype=np.int64)
        self._hbm_regions = [0] * ((self.hbm_bytes >> HBM_REGION_BITS) + 1)
        self.clock = 0
        """Counts writes; a page (SRAM or HBM) remembers the count of its latest write."""
        self.deferred = DeferredCopies(self.hbm, self.sram)
        """dma.load copies not yet done; they may outlive a run (host reads and writes settle them)."""
        self.on_sram_write: Callable[[int, int, int], None] = _ignore
        """Told of every SRAM write (core, start, end) after the clock moves: provenance."""

    def sram(self, core: int) -> np.ndarray:
        if core not in self._sram:
            self._sram[core] = np.full(self.sram_bytes, 0xFF, dtype=np.uint8)
            self._pages[core] = np.zeros((self.sram_bytes >> PAGE_BITS) + 1, dtype=np.int64)
        return self._sram[core]

    def pages(self, core: int) -> np.ndarray:
        """The write clock of each SRAM page of `core`."""
        self.sram(core)
        return self._pages[core]

    def marker(self, core: int, start: int, end: int, tell: bool = True) -> Callable[[], None]:
        """What records a write of SRAM [start, end) of `core`: the clock moves, the pages
        take it, and `on_sram_write` is told (unless not `tell`: the caller knows no listener
        cares). Made once per writing instruction, its pages resolved then."""
        pages, first, stop = self.pages(core), start >> PAGE_BITS, ((end - 1) >> PAGE_BITS) + 1
        on_sram_write = self.on_sram_write

        def mark() -> None:
            self.clock += 1
            pages[first:stop] = self.clock
            on_sram_write(core, start, end)

        def mark_quietly() -> None:
            self.clock += 1
            pages[first:stop] = self.clock

        return mark if tell else mark_quietly

    def mark_hbm_written(self, start: int, end: int) -> None:
        self.clock += 1
        self._hbm_pages[start >> HBM_PAGE_BITS : ((end - 1) >> HBM_PAGE_BITS) + 1] = self.clock
        first, stop = start >> HBM_REGION_BITS, ((end - 1) >> HBM_REGION_BITS) + 1
        self._hbm_regions[first:stop] = [self.clock] * (stop - first)

    def hbm_unchanged_since(self, clock: int, start: int, end: int) -> bool:
        if max(self._hbm_regions[start >> HBM_REGION_BITS : ((end - 1) >> HBM_REGION_BITS) + 1]) <= clock:
            return True
        return unchanged_since(self._hbm_pages, start >> HBM_PAGE_BITS, (end - 1) >> HBM_PAGE_BITS, clock)

    def accumulator(self, core: int, mxu: int) -> np.ndarray:
        """The accumulator words as uint32 [acc_rows, cols]; view as float32 or int32."""
        key = (core, mxu)
        if key not in self._acc:
            self._acc[key] = np.full((self.acc_rows, self.acc_cols), 0xFFFFFFFF, dtype=np.uint32)
        return self._acc[key]


def _ignore(core: int, start: int, end: int) -> None:
    """No one listens to SRAM writes."""


def unchanged_since(pages: np.ndarray, first: int, last: int, clock: int) -> bool:
    """Whether pages [first, last] were last written at or before write clock `clock`."""
    # one page, as most activation tiles are, skips the reduction's fixed cost
    if first == last:
        return bool(pages[first] <= clock)
    return bool(pages[first : last + 1].max() <= clock)


def tile(
    buffer: np.ndarray,
    space: str,
    addr: int,
    rows: int,
    cols: int,
    stride: int,
    dtype: np.dtype,
    writable: bool = False,
) -> np.ndarray:
    """A [rows, cols] view of `dtype` elements, row i at addr + i*stride, checked to fit.

    A destination's rows may not overlap (stride below a row's bytes), a source's may:
    stride 0 reads one row `rows` times.
    """
    row_bytes = cols * dtype.itemsize
    end = addr + (rows - 1) * stride + row_bytes
    if end > buffer.size:
        raise ProgramError(
            f"{space} bytes [{addr:#x}, {end:#x}) are outside its {buffer.size:#x} bytes"
        )
    if writable and rows > 1 and stride < row_bytes:
        raise ProgramError(
            f"{space} destination rows overlap: stride {stride} is below the row's {row_bytes} bytes"
        )
    return np.ndarray((rows, cols), dtype, buffer=buffer, offset=addr, strides=(stride, dtype.itemsize))
