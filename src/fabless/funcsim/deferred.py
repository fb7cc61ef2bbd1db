"""Deferred DMA copies: a contiguous `dma.load` lands in SRAM only once its bytes are needed.

Streamed weights are mostly read by MXU loads that find their prepared form by provenance
(see provenance.py) and never look at the bytes, and the next load into the same buffer
overwrites them: copying them costs a decode step as much as its matmuls. So such a load
only notes what SRAM is to hold; the bytes are copied when an instruction reads or
partly writes them, just before HBM under their source changes, or when the run ends.
What every instruction sees is unchanged.
"""

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_SOURCE_BITS = 10
"""HBM pages of 1 KiB for the count of pending copies reading them: small, as the
activations a step writes to HBM and reads back sit close together."""


@dataclass(slots=True)
class _Pending:
    """SRAM bytes [start, end) of one core are to hold HBM bytes from `hbm` on."""

    start: int
    end: int
    hbm: int


class DeferredCopies:
    """The pending copies of each core, kept in address order; they never overlap, so the
    one that may hold an address is found by bisection."""

    def __init__(self, hbm: np.ndarray, sram: Callable[[int], np.ndarray]) -> None:
        self._hbm = hbm
        self._sram = sram
        self._pending: dict[int, list[_Pending]] = {}
        self._starts: dict[int, list[int]] = {}
        self._sources = np.zeros((hbm.size >> _SOURCE_BITS) + 1, np.int32)
        """Pending copies reading each HBM page: most HBM writes touch none, and skip the scan."""

    def pending(self, core: int) -> list[_Pending]:
        """The pending copies into `core`'s SRAM: the same list from then on, empty when none."""
        self._starts.setdefault(core, [])
        return self._pending.setdefault(core, [])

    def defer(self, core: int, start: int, end: int, hbm: int) -> None:
        """SRAM [start, end) is to hold HBM [hbm, hbm + end - start); pending copies there are void."""
        at = self._cut(core, start, end, copy=False)
        pending = _Pending(start, end, hbm)
        self._pending[core].insert(at, pending)
        self._starts[core].insert(at, start)
        self._count(pending, 1)

    def settle(self, core: int, ranges: tuple[tuple[int, int], ...]) -> None:
        """Do the parts of pending copies that fall in SRAM `ranges` of `core`."""
        pending, starts = self.pending(core), self._starts[core]
        for start, end in ranges:
            at = bisect_right(starts, start)
            if (at and pending[at - 1].end > start) or (at < len(starts) and starts[at] < end):
                self._cut(core, start, end, copy=True)

    def before_hbm_write(self, start: int, end: int) -> None:
        """Do every pending copy from HBM [start, end), which is about to change."""
        if not self._sources[start >> _SOURCE_BITS : ((end - 1) >> _SOURCE_BITS) + 1].any():
            return
        for core, pending in self._pending.items():
            for p in [p for p in pending if p.hbm < end and start < p.hbm + p.end - p.start]:
                self._cut(core, p.start, p.end, copy=True)

    def flush(self) -> None:
        """Do every pending copy."""
        for core, pending in self._pending.items():
            if pending:
                self._cut(core, pending[0].start, pending[-1].end, copy=True)

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
                source = p.hbm + low - p.start
                self._sram(core)[low:high] = self._hbm[source : source + high - low]
            self._count(p, -1)
            if p.start < low:
                pieces.append(_Pending(p.start, low, p.hbm))
            if high < p.end:
                pieces.append(_Pending(high, p.end, p.hbm + high - p.start))
            last += 1
        for piece in pieces:
            self._count(piece, 1)
        pending[first:last] = pieces
        starts[first:last] = [p.start for p in pieces]
        return first + (1 if pieces and pieces[0].start < start else 0)

    def _count(self, p: _Pending, step: int) -> None:
        self._sources[p.hbm >> _SOURCE_BITS : ((p.hbm + p.end - p.start - 1) >> _SOURCE_BITS) + 1] += step
