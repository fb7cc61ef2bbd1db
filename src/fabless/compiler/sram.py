"""SRAM buffers of one program: named tiles placed by a bump allocator."""

import math
from dataclasses import dataclass

from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError
from fabless.isa import Dtype

_ALIGN_BYTES = 64


@dataclass(frozen=True)
class Buffer:
    """A [rows, cols] tile of `dtype` at `addr`, rows `stride` bytes apart."""

    name: str
    addr: int
    rows: int
    cols: int
    dtype: Dtype
    pitch: int = 0
    """Bytes between row starts when the tile is a window of a wider one (0: packed rows)."""

    @property
    def stride(self) -> int:
        return self.pitch or self.cols * self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.rows * self.stride

    def at(self, row: int = 0, col: int = 0) -> int:
        """Byte address of element [row, col]."""
        return self.addr + row * self.stride + col * self.dtype.itemsize

    def window(self, start: int, end: int) -> "Buffer":
        """Columns [start, end) of this tile, rows keeping their pitch."""
        return Buffer(self.name, self.at(0, start), self.rows, end - start, self.dtype, self.stride)

    def span(self, row: int = 0, rows: int | None = None) -> tuple[str, int, int]:
        """The bytes of rows [row, row + rows) for dependency tracking."""
        rows = self.rows - row if rows is None else rows
        return ("sram", self.at(row), self.at(row + rows))


class SramPlan:
    """Places buffers one after another in a core's SRAM; running out names the buffer."""

    def __init__(self, chip: ChipSpec, what: str) -> None:
        self.capacity_bytes = chip.core.sram.capacity_bytes
        self.chip = chip
        self.what = what
        self.used_bytes = 0

    @property
    def free_bytes(self) -> int:
        return self.capacity_bytes - self.used_bytes

    def alloc(self, name: str, rows: int, cols: int, dtype: Dtype) -> Buffer:
        size = rows * cols * dtype.itemsize
        if self.used_bytes + size > self.capacity_bytes:
            raise FablessError(
                f"{self.what}: SRAM buffer {name} ({rows}x{cols} {dtype.name.lower()}, {size} B) "
                f"does not fit: {self.used_bytes} of {self.capacity_bytes} B of chip "
                f"{self.chip.name}'s core SRAM are taken; raise core.sram.mib or shorten the input"
            )
        buffer = Buffer(name, self.used_bytes, rows, cols, dtype)
        self.used_bytes = math.ceil((self.used_bytes + size) / _ALIGN_BYTES) * _ALIGN_BYTES
        return buffer


_EXACT_ROWS = 64


def window_spans(addr: int, rows: int, stride: int, row_bytes: int) -> tuple[tuple[str, int, int], ...]:
    """The SRAM bytes of a column window, row by row when there are few rows.

    Windows side by side in one buffer (column blocks of a matmul output) would overlap
    as whole ranges and serialise the MXUs writing them; row by row they do not.
    """
    if rows > _EXACT_ROWS:
        return (("sram", addr, addr + (rows - 1) * stride + row_bytes),)
    return tuple(("sram", addr + r * stride, addr + r * stride + row_bytes) for r in range(rows))
