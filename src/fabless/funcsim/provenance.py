"""Where SRAM bytes came from, so that weights loaded again are not prepared again.

Prepared weight tiles are kept by their SRAM location while no write touches it (weights
resident in SRAM), and by their HBM source: a `dma.load` records that an SRAM range holds
a copy of an HBM range, and a tile loaded from such an unmodified copy is found by that
HBM range while no write touches it. A decode loop that streams the same weights every
token, or builds a new program every token, prepares each tile once.
"""

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from fabless.funcsim.memory import PAGE_BITS, Memory

CACHE_BYTES = 2 << 30
"""Prepared weights kept for reuse; the oldest go first beyond this."""


@dataclass(frozen=True)
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

    @property
    def sram_end(self) -> int:
        return self.sram_addr + (self.rows - 1) * self.sram_stride + self.row_bytes


@dataclass(frozen=True)
class Source:
    """The HBM bytes an SRAM tile was copied from, and the write clock of the copy."""

    hbm_addr: int
    hbm_stride: int
    hbm_end: int
    clock: int


class Provenance:
    """The latest copy into each SRAM page, and prepared weights keyed by SRAM or HBM location."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self._owners: dict[int, np.ndarray] = {}
        """Per core, the latest dma.load touching each SRAM page (None if none)."""
        self._prepared: OrderedDict[tuple, tuple[object, int, int]] = OrderedDict()
        self._bytes = 0

    def record(self, copy: Copy) -> None:
        """Note a finished dma.load as the latest copy into the pages it touched."""
        owners = self._owners.get(copy.core)
        if owners is None:
            owners = np.full(self.memory.pages(copy.core).size, None, dtype=object)
            self._owners[copy.core] = owners
        owners[copy.sram_addr >> PAGE_BITS : ((copy.sram_end - 1) >> PAGE_BITS) + 1] = copy

    def source(self, core: int, addr: int, rows: int, row_bytes: int, stride: int) -> Source | None:
        """The HBM source of an SRAM tile that is still an unmodified dma.load copy, if any.

        Only the latest copy into the tile's first page can be it: any later write there,
        copy or not, leaves that page newer than every earlier copy.
        """
        owners = self._owners.get(core)
        copy = None if owners is None else owners[addr >> PAGE_BITS]
        end = addr + (rows - 1) * stride + row_bytes
        if copy is None or not copy.sram_addr <= addr or end > copy.sram_end:
            return None
        if not self.memory.sram_unchanged_since(copy.clock, core, addr, end):
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


