"""What an instruction handler may touch: the memories, its core, and its MXU's state."""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fabless.chip.spec import ChipSpec
from fabless.funcsim.memory import Memory, tile
from fabless.isa.dtypes import Dtype

Step = Callable[[], None]
"""A prepared instruction: operands resolved and checked, run() does the work."""


@dataclass
class LoadedWeights:
    """An MXU's stationary weight tile, kept in the form its matmuls consume."""

    dtype: Dtype
    k: int
    n: int
    data: object


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
    mxu: MxuState | None = None

    @property
    def sram_name(self) -> str:
        return f"core {self.core} SRAM"

    def sram_tile(
        self, addr: int, rows: int, cols: int, stride: int, dtype: np.dtype, writable: bool = False
    ) -> np.ndarray:
        return tile(self.memory.sram(self.core), self.sram_name, addr, rows, cols, stride, dtype, writable)
