"""Random legal programs for the RTL core: the co-verification and benchmark workload.

`random_program` asks a `draw(low, high)` callable for every choice, so the same
generator serves numpy seeds (the CLI, benchmarks) and hypothesis (tests, which then
shrink a failing program to a small one).
"""

from collections.abc import Callable

import numpy as np

from fabless.isa.dtypes import Dtype
from fabless.isa.fields import Instruction
from fabless.isa.instructions import Halt, MxuGemm, MxuLoadWeights, MxuMatmul, MxuStore
from fabless.isa.program import Program
from fabless.rtl.config import RtlConfig
from fabless.rtl.image import CoreImage
from fabless.rtl.program import CORE_STREAM

Draw = Callable[[int, int], int]
"""draw(low, high): an integer in [low, high], both ends included."""


def numpy_draw(seed: int) -> Draw:
    rng = np.random.default_rng(seed)
    return lambda low, high: int(rng.integers(low, high + 1))


def random_image(config: RtlConfig, seed: int) -> CoreImage:
    """A scratchpad of random bytes; accumulators at their 0xFF power-up value."""
    blank = CoreImage.blank(config)
    spad = np.random.default_rng(seed).integers(0, 256, config.spad_bytes, dtype=np.uint8)
    return CoreImage(spad, blank.acc)


def random_program(config: RtlConfig, draw: Draw, length: int, max_m: int | None = None) -> Program:
    """`length` random MXU instructions (then a halt) that the ISA accepts on `config`.

    Tiles sit anywhere in the scratchpad (unaligned, odd strides, overlapping sources),
    weights plain or transposed;
    matmuls and gemms accumulate or overwrite; stores copy int32 words or saturate to int8.
    """
    gen = _Generator(config, draw, max_m or 2 * config.rows)
    code: list[Instruction] = []
    for _ in range(length):
        kind = draw(0, 3)
        if kind == 1 and gen.loaded_k:
            code.append(gen.matmul())
        elif kind == 2:
            code.append(gen.gemm())
        elif kind == 3:
            code.append(gen.store())
        else:
            code.append(gen.ldw())
    code.append(Halt())
    return Program({CORE_STREAM: tuple(code)})


class _Generator:
    def __init__(self, config: RtlConfig, draw: Draw, max_m: int) -> None:
        self.config = config
        self.draw = draw
        self.max_m = max_m
        self.loaded_k = 0

    def _tile(self, rows: int, row_bytes: int, writable: bool = False) -> tuple[int, int]:
        """(addr, stride) of a rows x row_bytes tile inside the scratchpad."""
        size = self.config.spad_bytes
        low = row_bytes if writable else 0
        high = max(low, min(3 * row_bytes, (size - row_bytes) // max(1, rows - 1)))
        stride = self.draw(low, high) if rows > 1 else self.draw(0, row_bytes)
        addr = self.draw(0, size - (rows - 1) * stride - row_bytes)
        return addr, stride

    def _acc(self, m: int) -> int:
        return self.draw(0, self.config.acc_rows - m)

    def _m(self) -> int:
        return self.draw(1, min(self.max_m, self.config.acc_rows))

    def ldw(self) -> MxuLoadWeights:
        k, n = self.draw(1, self.config.rows), self.draw(1, self.config.cols)
        transposed = self.draw(0, 1)
        addr, stride = self._tile(n, k) if transposed else self._tile(k, n)
        self.loaded_k = k
        return MxuLoadWeights(w_addr=addr, w_stride=stride, k=k, n=n, dtype=Dtype.INT8,
                              transposed=transposed)

    def matmul(self) -> MxuMatmul:
        m, k = self._m(), self.loaded_k
        addr, stride = self._tile(m, k)
        return MxuMatmul(x_addr=addr, x_stride=stride, m=m, k=k, x_dtype=Dtype.INT8,
                         acc_row=self._acc(m), accumulate=self.draw(0, 1))

    def gemm(self) -> MxuGemm:
        rows = self.config.rows
        m, k, n = self._m(), self.draw(1, 3 * rows), self.draw(1, self.config.cols)
        transposed = self.draw(0, 1)
        x_addr, x_stride = self._tile(m, k)
        w_addr, w_stride = self._tile(n, k) if transposed else self._tile(k, n)
        self.loaded_k = k - rows * ((k - 1) // rows)
        return MxuGemm(x_addr=x_addr, x_stride=x_stride, w_addr=w_addr, w_stride=w_stride,
                       m=m, k=k, n=n, x_dtype=Dtype.INT8, w_dtype=Dtype.INT8,
                       acc_row=self._acc(m), accumulate=self.draw(0, 1), transposed=transposed)

    def store(self) -> MxuStore:
        m, n = self._m(), self.draw(1, self.config.cols)
        acc_dtype, out_dtype = [(Dtype.INT32, Dtype.INT32), (Dtype.INT32, Dtype.INT8),
                                (Dtype.FP32, Dtype.FP32)][self.draw(0, 2)]
        addr, stride = self._tile(m, n * out_dtype.itemsize, writable=True)
        return MxuStore(acc_row=self._acc(m), m=m, n=n, acc_dtype=acc_dtype, out_addr=addr,
                        out_stride=stride, out_dtype=out_dtype)
