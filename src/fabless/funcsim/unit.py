"""What an instruction handler may touch: the memories, its core, and its MXU's state."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fabless.chip.spec import ChipSpec
from fabless.funcsim.memory import Memory, tile
from fabless.funcsim.provenance import Provenance
from fabless.isa.dtypes import Dtype

Step = Callable[[], object]
"""A prepared instruction: operands resolved and checked, calling it does the work (what it
returns is ignored)."""


@dataclass
class LoadedWeights:
    """Weights W[k, n] for the MXU, cut into `chunks` tiles of `chunk` rows, in the forms
    the matmuls consume."""

    dtype: Dtype
    k: int
    n: int
    chunk: int
    chunks: int
    integer: np.ndarray | None
    """int8 weights by columns as rows [n, k] for int8 x int8, else None."""
    fixed: tuple[np.ndarray, np.ndarray | None] | None
    """`numerics.truncate` of the zero-padded tiles for the float modes, as ([chunks, n,
    chunk] float64 values, [chunks, n] NaN/inf columns); made on first use for int8."""


@dataclass
class MxuState:
    accumulator: np.ndarray
    weights: LoadedWeights | None = None
    as_fp32: np.ndarray = field(init=False)
    as_int32: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.as_fp32 = self.accumulator.view(np.float32)
        self.as_int32 = self.accumulator.view(np.int32)


@dataclass
class Unit:
    chip: ChipSpec
    memory: Memory
    core: int
    provenance: Provenance
    mxu: MxuState | None = None
    writes: list[tuple[int, int]] = field(default_factory=list)
    """SRAM byte ranges the instruction being prepared writes."""
    reads: list[tuple[int, int]] = field(default_factory=list)
    """SRAM byte ranges it reads, but for those it settles deferred copies in itself."""

    @property
    def sram_name(self) -> str:
        return f"core {self.core} SRAM"

    def sram_tile(
        self, addr: int, rows: int, cols: int, stride: int, dtype: np.dtype, writable: bool = False,
        settled: bool = True
    ) -> np.ndarray:
        """A checked view; unless not `settled`, deferred copies into it are done before the
        instruction runs."""
        view = tile(self.memory.sram(self.core), self.sram_name, addr, rows, cols, stride, dtype, writable)
        span = (addr, addr + (rows - 1) * stride + cols * dtype.itemsize)
        if writable:
            self.writes.append(span)
        elif settled:
            self.reads.append(span)
        return view

    def sram_vector(self, addr: int, count: int, stride: int, dtype: np.dtype, writable: bool = False) -> np.ndarray:
        """A [count] view with elements `stride` bytes apart (a column of a tile)."""
        return self.sram_tile(addr, count, 1, stride, dtype, writable)[:, 0]


Prepare = Callable[[Unit, Any], Step]
"""Resolves one instruction's operands for a unit; raises ProgramError if they are bad."""
