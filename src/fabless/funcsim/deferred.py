"""Deferred DMA copies: a contiguous `dma.load` lands in SRAM only once its bytes are needed.

Streamed weights are mostly read by MXU loads that find their prepared form by provenance
(see provenance.py) and never look at the bytes, and the next load into the same buffer
overwrites them: copying them costs a decode step as much as its matmuls. So such a load
only notes what SRAM is to hold; the bytes are copied when an instruction reads or
partly writes them, just before HBM under their source changes, or when the run ends.
What every instruction sees is unchanged.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class _Pending:
    """SRAM bytes [start, end) of one core are to hold HBM bytes from `hbm` on."""

    start: int
    end: int
    hbm: int


class DeferredCopies:
    """The pending copies of each core; they never overlap one another."""

    def __init__(self, hbm: np.ndarray, sram: Callable[[int], np.ndarray]) -> None:
        self._hbm = hbm
        self._sram = sram
        self._pending: dict[int, list[_Pending]] = {}

    def pending(self, core: int) -> list[_Pending]:
        """The pending copies into `core`'s SRAM: the same list from then on, empty when none."""
        return self._pending.setdefault(core, [])

    def defer(self, core: int, start: int, end: int, hbm: int) -> None:
        """SRAM [start, end) is to hold HBM [hbm, hbm + end - start); pending copies there are void."""
        self._cut(core, start, end, copy=False)
        self.pending(core).append(_Pending(start, end, hbm))

    def settle(self, core: int, ranges: tuple[tuple[int, int], ...]) -> None:
        """Do the parts of pending copies that fall in SRAM `ranges` of `core`."""
        for p in self.pending(core):
            for start, end in ranges:
                if p.start < end and start < p.end:
                    for first, last in ranges:
                        self._cut(core, first, last, copy=True)
                    return

    def before_hbm_write(self, start: int, end: int) -> None:
        """Do every pending copy from HBM [start, end), which is about to change."""
        for core, pending in self._pending.items():
            for p in [p for p in pending if p.hbm < end and start < p.hbm + p.end - p.start]:
                self._cut(core, p.start, p.end, copy=True)

    def flush(self) -> None:
        """Do every pending copy."""
        for core, pending in self._pending.items():
            for p in list(pending):
                self._cut(core, p.start, p.end, copy=True)

    def _cut(self, core: int, start: int, end: int, copy: bool) -> None:
        """Take SRAM [start, end) out of the pending copies, copying those bytes if `copy`."""
        pending = self.pending(core)
        kept = []
        for p in pending:
            if p.end <= start or end <= p.start:
                kept.append(p)
                continue
            low, high = max(p.start, start), min(p.end, end)
            if copy:
                source = p.hbm + low - p.start
                self._sram(core)[low:high] = self._hbm[source : source + high - low]
            if p.start < low:
                kept.append(_Pending(p.start, low, p.hbm))
            if high < p.end:
                kept.append(_Pending(high, p.end, p.hbm + high - p.start))
        pending[:] = kept
