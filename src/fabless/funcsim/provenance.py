"""Where SRAM bytes came from, so that weights loaded again are not prepared again.

Prepared weight tiles are kept by their SRAM location while no write touches it (weights
resident in SRAM), and by their HBM source: a `dma.load` records that an SRAM range holds
a copy of an HBM range, and a tile loaded from such an unmodified copy is found by that
HBM range while no write touches it. A decode loop that streams the same weights every
token, or builds a new program every token, prepares each tile once.

Copies are forgotten when a run starts, and every SRAM write that may land on one of the
run's copies reaches `overwritten` (Memory calls it), which forgets the copies it touches,
so a recorded copy is always intact. A `dma.load` records the same `Copy` object
every time it runs, so an MXU load that found its tile in a copy can tell by identity that
the copy is the same load again.
"""

from bisect import bisect_left, bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field

from fabless.funcsim.memory import Memory

CACHE_BYTES = 2 << 30
"""Prepared weights kept for reuse; the oldest go first beyond this."""


@dataclass(slots=True)
class Copy:
    """SRAM [sram_addr + r*sram_stride, + row_bytes) holds HBM [hbm_addr + r*hbm_stride, ...)."""

    core: int
    sram_addr: int
    sram_stride: int
    hbm_addr: int
    hbm_stride: int
    rows: int
    row_bytes: int
    clock: int
    sram_end: int = field(init=False)
    """One past the last SRAM byte; looked up on every SRAM write, so kept, not computed."""

    def __post_init__(self) -> None:
        self.sram_end = self.sram_addr + (self.rows - 1) * self.sram_stride + self.row_bytes


@dataclass(slots=True)
class Source:
    """The HBM bytes an SRAM tile was copied from, and the write clock of the copy."""

    hbm_addr: int
    hbm_stride: int
    hbm_end: int
    clock: int


class Provenance:
    """The live dma.load copies into each core's SRAM, and prepared weights keyed by SRAM or
    HBM location."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self._copies: dict[int, list[Copy]] = {}
        """Per core, in address order; a copy overlapping a later one is forgotten."""
        self._starts: dict[int, list[int]] = {}
        self._prepared: OrderedDict[tuple, tuple[object, int, int]] = OrderedDict()
        self._bytes = 0
        self.shared: dict[tuple, object] = {}
        """Per-location state that instructions reading the same SRAM share (MXU inputs)."""

    def record(self, copy: Copy) -> None:
        """Note a finished dma.load, after its own write forgot the copies it overwrote."""
        copies, starts = self._copies.setdefault(copy.core, []), self._starts.setdefault(copy.core, [])
        at = bisect_right(starts, copy.sram_addr)
        copies.insert(at, copy)
        starts.insert(at, copy.sram_addr)

    def overwritten(self, core: int, start: int, end: int) -> None:
        """SRAM [start, end) of `core` was written: copies there no longer hold their source."""
        starts = self._starts.get(core)
        if not starts:
            return
        copies = self._copies[core]
        first = bisect_right(starts, start)
        if first and copies[first - 1].sram_end > start:
            first -= 1
        last = bisect_left(starts, end, lo=first)
        if first < last:
            del copies[first:last], starts[first:last]

    def forget_copies(self) -> None:
        """Forget every recorded copy (a run starts): a program then records only its own, so
        writes where none of its loads land need no lookup. What was prepared is kept."""
        for copies in self._copies.values():
            copies.clear()
        for starts in self._starts.values():
            starts.clear()

    def covering(self, core: int, addr: int) -> Copy | None:
        """The recorded copy that starts at or before `addr`, if any (it may end before)."""
        at = bisect_right(self._starts.get(core, ()), addr) - 1
        return self._copies[core][at] if at >= 0 else None

    def source(self, core: int, addr: int, rows: int, row_bytes: int, stride: int) -> Source | None:
        """The HBM source of an SRAM tile that is still an unmodified dma.load copy, if any."""
        copy = self.covering(core, addr)
        end = addr + (rows - 1) * stride + row_bytes
        if copy is None or end > copy.sram_end:
            return None
        offset = addr - copy.sram_addr
        if copy.rows == 1 or copy.sram_stride == copy.row_bytes == copy.hbm_stride:
            # a contiguous copy maps every SRAM layout inside it one to one
            return Source(copy.hbm_addr + offset, stride, copy.hbm_addr + offset + end - addr, copy.clock)
        row, column = divmod(offset, copy.sram_stride)
        step, rest = divmod(stride, copy.sram_stride)
        if rest or column + row_bytes > copy.row_bytes:
            return None
        hbm = copy.hbm_addr + row * copy.hbm_stride + column
        hbm_end = hbm + (rows - 1) * step * copy.hbm_stride + row_bytes
        return Source(hbm, step * copy.hbm_stride, hbm_end, copy.clock)

    def prepared(self, key: tuple) -> tuple[object, int] | None:
        """What was kept under `key` and the write clock of the memory it was prepared from;
        the caller checks that memory is unchanged since."""
        entry = self._prepared.get(key)
        if entry is None:
            return None
        self._prepared.move_to_end(key)
        return entry[0], entry[1]

    def keep(self, key: tuple, value: object, size_bytes: int, clock: int) -> None:
        """Keep `value`, prepared from memory as it was at write clock `clock`."""
        old = self._prepared.pop(key, None)
        if old is not None:
            self._bytes -= old[2]
        self._prepared[key] = (value, clock, size_bytes)
        self._bytes += size_bytes
        while self._bytes > CACHE_BYTES and len(self._prepared) > 1:
            _, (_, _, freed) = self._prepared.popitem(last=False)
            self._bytes -= freed


