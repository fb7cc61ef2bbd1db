"""Deferred DMA copies: a `dma.load` into dense SRAM lands only once its bytes are needed.

Streamed weights are mostly read by MXU loads that find their prepared form by provenance
(see provenance.py) and never look at the bytes, and the next load into the same buffer
overwrites them: copying them costs a decode step as much as its matmuls. So such a load
only notes what SRAM is to hold; the bytes are copied when an instruction (or the host)
reads or partly writes them, or just before HBM under their source changes; a copy that
the next load overwrites, in this run or the next, is never done. What every instruction
sees is unchanged. The HBM side may be strided (a column window of
a weight matrix); the SRAM side must be one dense range, so that a load overwrites it all.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

_SOURCE_BITS = 18
"""HBM regions of 256 KiB for the count of pending copies reading them: a weight window
spans a few, so a count costs a few list adds; an HBM write into a region that some copy
reads scans the pending copies for the ones it really overlaps."""


@dataclass(slots=True)
class _Pending:
    """SRAM bytes [start, end) of one core are to hold part of a load that began at SRAM
    `origin`: SRAM byte `origin + r * row_bytes + c` (c < row_bytes) holds HBM byte
    `hbm + r * hbm_stride + c`. A contiguous load is one row."""

    start: int
    end: int
    origin: int
    hbm: int
    row_bytes: int
    hbm_stride: int
    regions: range = field(init=False)
    """The HBM regions (of 2^_SOURCE_BITS bytes) the pending bytes are read from."""

    def __post_init__(self) -> None:
        first, last = self.hbm_span()
        self.regions = range(first >> _SOURCE_BITS, ((last - 1) >> _SOURCE_BITS) + 1)

    def piece(self, start: int, end: int) -> "_Pending":
        return _Pending(start, end, self.origin, self.hbm, self.row_bytes, self.hbm_stride)

    def hbm_span(self) -> tuple[int, int]:
        """HBM bytes [first, last) the pending bytes are read from (with any gaps between rows)."""
        first_row = (self.start - self.origin) // self.row_bytes
        last_row = (self.end - 1 - self.origin) // self.row_bytes
        return self.hbm + first_row * self.hbm_stride, self.hbm + last_row * self.hbm_stride + self.row_bytes


class DeferredCopies:
    """The pending copies of each core, kept in address order; they never overlap, so the
    one that may hold an address is found by bisection."""

    def __init__(self, hbm: np.ndarray, sram: Callable[[int], np.ndarray]) -> None:
        self._hbm = hbm
        self._sram = sram
        self._pending: dict[int, list[_Pending]] = {}
        self._starts: dict[int, list[int]] = {}
        self._sources = [0] * ((hbm.size >> _SOURCE_BITS) + 1)
        """Pending copies reading each HBM region: most HBM writes touch none, and skip the scan."""

    def pending(self, core: int) -> list[_Pending]:
        """The pending copies into `core`'s SRAM: the same list from then on, empty when none."""
        self._starts.setdefault(core, [])
        return self._pending.setdefault(core, [])

    def defer(self, core: int, start: int, end: int, hbm: int, row_bytes: int, hbm_stride: int) -> None:
        """Dense SRAM [start, end) is to hold rows of `row_bytes` read `hbm_stride` apart
        from HBM `hbm` on; pending copies there are void."""
        at = self._cut(core, start, end, copy=False)
        if hbm_stride == row_bytes:
            row_bytes = hbm_stride = end - start  # contiguous: one row, byte for byte
        pending = _Pending(start, end, start, hbm, row_bytes, hbm_stride)
        self._pending[core].insert(at, pending)
        self._starts[core].insert(at, start)
        self._count(pending, 1)

    def settle(self, core: int, ranges: tuple[tuple[int, int], ...]) -> None:
        """Do the pending copies that reach into SRAM `ranges` of `core`, each whole: what
        reads part of a copy (a scale window, a column block) mostly reads the rest soon."""
        pending, starts = self.pending(core), self._starts[core]
        for start, end in ranges:
            first = bisect_right(starts, start)
            if first and pending[first - 1].end > start:
                first -= 1
            last = bisect_left(starts, end, lo=first)
            if first < last:
                self._cut(core, pending[first].start, pending[last - 1].end, copy=True)

    def before_hbm_write(self, start: int, end: int) -> None:
        """Do every pending copy from HBM [start, end), which is about to change."""
        if not any(self._sources[start >> _SOURCE_BITS : ((end - 1) >> _SOURCE_BITS) + 1]):
            return
        for core, pending in self._pending.items():
            for p in [p for p in pending if _overlaps(p.hbm_span(), start, end)]:
                self._cut(core, p.start, p.end, copy=True)

    def _cut(self, core: int, start: int, end: int, copy: bool) -> int:
        """Take SRAM [start, end) out of the pending copies, copying those bytes if `copy`;
        returns the index where a copy starting at `start` now belongs."""
        pending, starts = self.pending(core), self._starts[core]
        first = bisect_right(starts, start)
        if first and pending[first - 1].end > start:
            first -= 1
        last = first
        pieces = []
        while last < len(pending) and pending[last].start < end:
            p = pending[last]
            low, high = max(p.start, start), min(p.end, end)
            if copy:
                self._copy(core, p, low, high)
            self._count(p, -1)
            if p.start < low:
                pieces.append(p.piece(p.start, low))
            if high < p.end:
                pieces.append(p.piece(high, p.end))
            last += 1
        for piece in pieces:
            self._count(piece, 1)
        pending[first:last] = pieces
        starts[first:last] = [p.start for p in pieces]
        return first + (1 if pieces and pieces[0].start < start else 0)

    def _copy(self, core: int, p: _Pending, low: int, high: int) -> None:
        """SRAM [low, high) of pending copy `p` from its HBM source."""
        sram = self._sram(core)
        offset = low - p.origin
        if p.hbm_stride == p.row_bytes:
            source = p.hbm + offset
            sram[low:high] = self._hbm[source : source + high - low]
            return
        first, skip = divmod(offset, p.row_bytes)
        rows = -(-(skip + high - low) // p.row_bytes)
        strided = np.ndarray(
            (rows, p.row_bytes), np.uint8, buffer=self._hbm, offset=p.hbm + first * p.hbm_stride,
            strides=(p.hbm_stride, 1),
        )
        if skip == 0 and high - low == rows * p.row_bytes:
            sram[low:high].reshape(rows, p.row_bytes)[...] = strided
        else:
            sram[low:high] = strided.reshape(-1)[skip : skip + high - low]

    def _count(self, p: _Pending, step: int) -> None:
        sources = self._sources
        for region in p.regions:
            sources[region] += step


def _overlaps(span: tuple[int, int], start: int, end: int) -> bool:
    return span[0] < end and start < span[1]
