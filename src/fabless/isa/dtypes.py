"""Element types the instructions name, and the small enums their fields hold."""

from enum import IntEnum

import ml_dtypes
import numpy as np


class Dtype(IntEnum):
    """Element type of a tile in SRAM or of an accumulator word."""

    INT8 = 0
    FP8E4M3 = 1
    FP8E5M2 = 2
    BF16 = 3
    FP32 = 4
    INT32 = 5

    @property
    def itemsize(self) -> int:
        return _NUMPY[self].itemsize

    @property
    def numpy(self) -> np.dtype:
        return _NUMPY[self]

    @property
    def is_float(self) -> bool:
        return self not in (Dtype.INT8, Dtype.INT32)


_NUMPY: dict[Dtype, np.dtype] = {
    Dtype.INT8: np.dtype(np.int8),
    Dtype.FP8E4M3: np.dtype(ml_dtypes.float8_e4m3fn),
    Dtype.FP8E5M2: np.dtype(ml_dtypes.float8_e5m2),
    Dtype.BF16: np.dtype(ml_dtypes.bfloat16),
    Dtype.FP32: np.dtype(np.float32),
    Dtype.INT32: np.dtype(np.int32),
}


class UnaryOp(IntEnum):
    """`vpu.unary` functions; the `*_imm` ones take the instruction's fp32 immediate."""

    COPY = 0
    NEG = 1
    ABS = 2
    EXP = 3
    RSQRT = 4
    SQRT = 5
    RECIPROCAL = 6
    SILU = 7
    GELU_ERF = 8
    GELU_TANH = 9
    TANH = 10
    SIGMOID = 11
    ADD_IMM = 12
    MUL_IMM = 13
    MAX_IMM = 14
    MIN_IMM = 15


class BinaryOp(IntEnum):
    ADD = 0
    SUB = 1
    MUL = 2
    MAX = 3
    MIN = 4
    DIV = 5


class ReduceOp(IntEnum):
    SUM = 0
    MAX = 1
    ABSMAX = 2
    MIN = 3


class NormKind(IntEnum):
    RMS = 0
    LAYER = 1


class Broadcast(IntEnum):
    """How `vpu.binary` reads its second operand `b`."""

    NONE = 0
    ROW = 1
    COL = 2
