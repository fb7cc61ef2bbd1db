"""Turn instructions into what the timing engines need: bytes, cycles and address ranges.

Only shapes and dtypes are read, never values, so a program compiled without weights
times the same as one with them. The VPU retires one fp32 operation per lane per cycle
(an FMA counts once: `core.vector.ops_per_cycle` counts it twice); an instruction costs
the operations per element its formula in docs/isa.md performs, packed over all lanes.
"""

import math

from fabless.cyclesim.hardware import Hardware
from fabless.errors import FablessError
from fabless.isa import (
    Broadcast,
    DmaGather,
    DmaLoad,
    DmaScatter,
    DmaStore,
    Dtype,
    Halt,
    Instruction,
    LinkSend,
    MxuGemm,
    MxuLoadWeights,
    MxuMatmul,
    MxuStore,
    NormKind,
    SemSignal,
    SemWait,
    UnaryOp,
    VpuBinary,
    VpuFill,
    VpuNorm,
    VpuReduce,
    VpuRope,
    VpuTranspose,
    VpuUnary,
)

WAIT, SIGNAL, HALT, DMA, LDW, MATMUL, GEMM, ACC_STORE, VECTOR = range(9)

_MATH_DTYPE = {
    Dtype.INT8: "int8",
    Dtype.FP8E4M3: "fp8",
    Dtype.FP8E5M2: "fp8",
    Dtype.BF16: "bf16",
    Dtype.FP32: "fp32",
}

# Operations per element of each unary function, counted from its formula in docs/isa.md
# with exp, erf, tanh, rsqrt, sqrt and reciprocal one special-function operation each.
_UNARY_OPS = {
    UnaryOp.SIGMOID: 3,  # exp(-x), 1 +, reciprocal
    UnaryOp.SILU: 3,  # exp(-x), 1 +, divide
    UnaryOp.GELU_ERF: 4,  # x / sqrt 2, erf, 1 +, 0.5 x *
    UnaryOp.GELU_TANH: 6,  # x^3, FMA, * sqrt(2/pi), tanh, 1 +, 0.5 x *
}


class Step:
    """One instruction as the timing engines see it."""

    __slots__ = (
        "kind", "sem", "count", "nbytes", "sram_bytes", "cycles", "rate", "k", "n", "m",
        "loads", "flops", "vector_ops", "to_sram", "sram_range", "hbm_range",
    )

    def __init__(self, kind: int, **fields: object) -> None:
        self.kind = kind
        self.sem = self.count = self.k = self.n = self.m = 0
        self.nbytes = self.sram_bytes = self.cycles = self.rate = self.flops = self.vector_ops = 0.0
        self.loads: tuple[int, ...] = ()
        self.to_sram = False
        self.sram_range = self.hbm_range = (0, 0)
        for name, value in fields.items():
            setattr(self, name, value)


def lower(hw: Hardware, stream: str, index: int, instr: Instruction) -> Step:
    """The step for `instr`, the `index`-th instruction of `stream`."""
    kind = type(instr)
    if kind is SemWait:
        return Step(WAIT, sem=instr.sem, count=instr.count)
    if kind is SemSignal:
        return Step(SIGNAL, sem=instr.sem, count=instr.count)
    if kind is Halt:
        return Step(HALT)
    if kind is DmaLoad or kind is DmaStore:
        nbytes = instr.rows * instr.row_bytes
        sram = _span(instr.sram_addr, instr.rows, instr.sram_stride, instr.row_bytes)
        hbm = _span(instr.hbm_addr, instr.rows, instr.hbm_stride, instr.row_bytes)
        return Step(DMA, nbytes=nbytes, sram_bytes=nbytes, to_sram=kind is DmaLoad, sram_range=sram, hbm_range=hbm)
    if kind is DmaGather or kind is DmaScatter:
        nbytes = instr.count * instr.row_bytes
        sram = _span(instr.sram_addr, instr.count, instr.sram_stride, instr.row_bytes)
        # Table rows are picked at run time: the whole table may be touched.
        hbm = (instr.table_addr, 1 << 62)
        return Step(DMA, nbytes=nbytes, sram_bytes=nbytes + 4 * instr.count, to_sram=kind is DmaGather,
                    sram_range=sram, hbm_range=hbm)
    if kind is LinkSend:
        raise FablessError(
            f"{stream}[{index}] link.send needs the multi-chip simulation: the cycle simulator times one chip"
        )
    if kind is MxuLoadWeights:
        return Step(LDW, k=instr.k, n=instr.n, cycles=instr.k, rate=_rows_per_cycle(hw, instr.dtype, stream, index),
                    sram_bytes=instr.k * instr.n * instr.dtype.itemsize)
    if kind is MxuMatmul:
        return Step(MATMUL, m=instr.m, k=instr.k, rate=_rows_per_cycle(hw, instr.x_dtype, stream, index),
                    sram_bytes=instr.m * instr.k * instr.x_dtype.itemsize)
    if kind is MxuGemm:
        rate = min(_rows_per_cycle(hw, instr.x_dtype, stream, index), _rows_per_cycle(hw, instr.w_dtype, stream, index))
        full, last = divmod(instr.k, hw.mxu_rows)
        loads = (hw.mxu_rows,) * full + ((last,) if last else ())
        sram = instr.m * instr.k * instr.x_dtype.itemsize + instr.k * instr.n * instr.w_dtype.itemsize
        return Step(GEMM, m=instr.m, k=instr.k, n=instr.n, rate=rate, loads=loads, sram_bytes=sram,
                    flops=2.0 * instr.m * instr.k * instr.n)
    if kind is MxuStore:
        scales = 4 * (instr.n * instr.use_col_scale + instr.m * instr.use_row_scale)
        return Step(ACC_STORE, m=instr.m, n=instr.n, cycles=instr.m,
                    sram_bytes=instr.m * instr.n * instr.out_dtype.itemsize + scales)
    return _vector(hw, instr)


def _vector(hw: Hardware, instr: Instruction) -> Step:
    kind = type(instr)
    if kind is VpuUnary:
        elements = instr.rows * instr.cols
        ops = _UNARY_OPS.get(instr.op, 1)
        traffic = elements * (instr.src_dtype.itemsize + instr.dst_dtype.itemsize)
    elif kind is VpuBinary:
        elements = instr.rows * instr.cols
        ops = 2 if instr.op.name == "DIV" else 1
        b_elements = {Broadcast.NONE: elements, Broadcast.ROW: instr.cols, Broadcast.COL: instr.rows}[instr.broadcast]
        traffic = (elements * (instr.a_dtype.itemsize + instr.dst_dtype.itemsize)
                   + b_elements * instr.b_dtype.itemsize)
    elif kind is VpuReduce:
        elements = instr.rows * instr.cols
        ops = 1
        traffic = elements * instr.src_dtype.itemsize + instr.rows * instr.dst_dtype.itemsize
    elif kind is VpuNorm:
        elements = instr.rows * instr.cols
        layer = instr.kind == NormKind.LAYER
        ops = 5 if layer else 3  # rms: x*x+ss, x*r, *gamma; layer adds the mean and x - mu passes
        vectors = instr.cols * 4 * (2 if layer else 1)
        traffic = elements * (instr.src_dtype.itemsize + instr.dst_dtype.itemsize) + vectors
    elif kind is VpuRope:
        elements = instr.rows * instr.cols
        ops = 2  # x*c, then rot*s + that as one FMA
        traffic = elements * (instr.src_dtype.itemsize + instr.dst_dtype.itemsize) + 2 * instr.rows * instr.head_dim * 4
    elif kind is VpuTranspose:
        elements = instr.rows * instr.cols
        ops = 1
        traffic = 2 * elements * instr.dtype.itemsize
    elif kind is VpuFill:
        elements = instr.rows * instr.cols
        ops = 1
        traffic = elements * instr.dst_dtype.itemsize
    else:
        raise FablessError(f"the cycle simulator has no timing for {instr.MNEMONIC}: add it to fabless.cyclesim.lower")
    cycles = math.ceil(elements * ops / hw.vpu_lanes)
    return Step(VECTOR, cycles=cycles, sram_bytes=traffic, vector_ops=float(elements * ops))


def _rows_per_cycle(hw: Hardware, dtype: Dtype, stream: str, index: int) -> float:
    name = _MATH_DTYPE.get(dtype)
    if name is None:
        raise FablessError(f"{stream}[{index}]: {dtype.name.lower()} is not an MXU input dtype")
    return hw.rows_per_cycle(name)


def _span(addr: int, rows: int, stride: int, row_bytes: int) -> tuple[int, int]:
    """The bytes a strided copy touches, as one [low, high) range that covers them all."""
    return addr, addr + (rows - 1) * stride + row_bytes
