"""Turn instructions into what the timing engines need: bytes, cycles and address ranges.

Only shapes and dtypes are read, never values, so a program compiled without weights
times the same as one with them. The VPU retires one fp32 operation per lane per cycle
(an FMA counts once: `core.vector.ops_per_cycle` counts it twice); an instruction costs
the operations per element its formula in docs/isa.md performs, packed over all lanes.
"""

import math
from collections.abc import Callable
from typing import Any

from fabless.cyclesim.hardware import Hardware
from fabless.errors import FablessError
from fabless.isa import (
    BinaryOp,
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
        "kind",
        "sem",
        "count",
        "nbytes",
        "sram_bytes",
        "cycles",
        "rate",
        "k",
        "n",
        "m",
        "loads",
        "flops",
        "vector_ops",
        "to_sram",
        "sram_range",
        "hbm_range",
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


Lowering = Callable[[Hardware, str, int, Any], Step]
_LOWERINGS: dict[type[Instruction], Lowering] = {}


def _lowers(*kinds: type[Instruction]) -> Callable[[Lowering], Lowering]:
    def register(rule: Lowering) -> Lowering:
        for kind in kinds:
            _LOWERINGS[kind] = rule
        return rule

    return register


def lower(hw: Hardware, stream: str, index: int, instr: Instruction) -> Step:
    """The step for `instr`, the `index`-th instruction of `stream`."""
    rule = _LOWERINGS.get(type(instr))
    if rule is None:
        raise FablessError(f"the cycle simulator has no timing for {instr.MNEMONIC}: add it to fabless.cyclesim.lower")
    return rule(hw, stream, index, instr)


@_lowers(SemWait)
def _wait(hw: Hardware, stream: str, index: int, instr: SemWait) -> Step:
    return Step(WAIT, sem=instr.sem, count=instr.count)


@_lowers(SemSignal)
def _signal(hw: Hardware, stream: str, index: int, instr: SemSignal) -> Step:
    return Step(SIGNAL, sem=instr.sem, count=instr.count)


@_lowers(Halt)
def _halt(hw: Hardware, stream: str, index: int, instr: Halt) -> Step:
    return Step(HALT)


@_lowers(DmaLoad, DmaStore)
def _copy(hw: Hardware, stream: str, index: int, instr: DmaLoad | DmaStore) -> Step:
    nbytes = instr.rows * instr.row_bytes
    sram = _span(instr.sram_addr, instr.rows, instr.sram_stride, instr.row_bytes)
    hbm = _span(instr.hbm_addr, instr.rows, instr.hbm_stride, instr.row_bytes)
    return Step(
        DMA, nbytes=nbytes, sram_bytes=nbytes, to_sram=isinstance(instr, DmaLoad), sram_range=sram, hbm_range=hbm
    )


@_lowers(DmaGather, DmaScatter)
def _indexed(hw: Hardware, stream: str, index: int, instr: DmaGather | DmaScatter) -> Step:
    nbytes = instr.count * instr.row_bytes
    sram = _span(instr.sram_addr, instr.count, instr.sram_stride, instr.row_bytes)
    # Table rows are picked at run time: the whole table may be touched.
    hbm = (instr.table_addr, 1 << 62)
    return Step(
        DMA,
        nbytes=nbytes,
        sram_bytes=nbytes + 4 * instr.count,
        to_sram=isinstance(instr, DmaGather),
        sram_range=sram,
        hbm_range=hbm,
    )


@_lowers(LinkSend)
def _link(hw: Hardware, stream: str, index: int, instr: LinkSend) -> Step:
    raise FablessError(
        f"{stream}[{index}] link.send needs the multi-chip simulation: the cycle simulator times one chip"
    )


@_lowers(MxuLoadWeights)
def _ldw(hw: Hardware, stream: str, index: int, instr: MxuLoadWeights) -> Step:
    return Step(
        LDW,
        k=instr.k,
        n=instr.n,
        cycles=instr.k,
        rate=_rows_per_cycle(hw, instr.dtype, stream, index),
        sram_bytes=instr.k * instr.n * instr.dtype.itemsize,
    )


@_lowers(MxuMatmul)
def _matmul(hw: Hardware, stream: str, index: int, instr: MxuMatmul) -> Step:
    return Step(
        MATMUL,
        m=instr.m,
        k=instr.k,
        rate=_rows_per_cycle(hw, instr.x_dtype, stream, index),
        sram_bytes=instr.m * instr.k * instr.x_dtype.itemsize,
    )


@_lowers(MxuGemm)
def _gemm(hw: Hardware, stream: str, index: int, instr: MxuGemm) -> Step:
    rate = min(_rows_per_cycle(hw, instr.x_dtype, stream, index), _rows_per_cycle(hw, instr.w_dtype, stream, index))
    full, last = divmod(instr.k, hw.mxu_rows)
    loads = (hw.mxu_rows,) * full + ((last,) if last else ())
    sram = instr.m * instr.k * instr.x_dtype.itemsize + instr.k * instr.n * instr.w_dtype.itemsize
    return Step(
        GEMM,
        m=instr.m,
        k=instr.k,
        n=instr.n,
        rate=rate,
        loads=loads,
        sram_bytes=sram,
        flops=2.0 * instr.m * instr.k * instr.n,
    )


@_lowers(MxuStore)
def _acc_store(hw: Hardware, stream: str, index: int, instr: MxuStore) -> Step:
    scales = 4 * (instr.n * instr.use_col_scale + instr.m * instr.use_row_scale)
    return Step(
        ACC_STORE,
        m=instr.m,
        n=instr.n,
        cycles=instr.m,
        sram_bytes=instr.m * instr.n * instr.out_dtype.itemsize + scales,
    )


@_lowers(VpuUnary)
def _unary(hw: Hardware, stream: str, index: int, instr: VpuUnary) -> Step:
    elements = instr.rows * instr.cols
    traffic = elements * (instr.src_dtype.itemsize + instr.dst_dtype.itemsize)
    return _vector(hw, elements, _UNARY_OPS.get(instr.op, 1), traffic)


@_lowers(VpuBinary)
def _binary(hw: Hardware, stream: str, index: int, instr: VpuBinary) -> Step:
    elements = instr.rows * instr.cols
    b_elements = {Broadcast.NONE: elements, Broadcast.ROW: instr.cols, Broadcast.COL: instr.rows}[instr.broadcast]
    traffic = elements * (instr.a_dtype.itemsize + instr.dst_dtype.itemsize) + b_elements * instr.b_dtype.itemsize
    return _vector(hw, elements, 2 if instr.op == BinaryOp.DIV else 1, traffic)


@_lowers(VpuReduce)
def _reduce(hw: Hardware, stream: str, index: int, instr: VpuReduce) -> Step:
    elements = instr.rows * instr.cols
    return _vector(hw, elements, 1, elements * instr.src_dtype.itemsize + instr.rows * instr.dst_dtype.itemsize)


@_lowers(VpuNorm)
def _norm(hw: Hardware, stream: str, index: int, instr: VpuNorm) -> Step:
    elements = instr.rows * instr.cols
    layer = instr.kind == NormKind.LAYER
    vectors = instr.cols * 4 * (2 if layer else 1)
    traffic = elements * (instr.src_dtype.itemsize + instr.dst_dtype.itemsize) + vectors
    # rms: x*x + ss, x * r, * gamma; layer norm adds the mean and the x - mu passes.
    return _vector(hw, elements, 5 if layer else 3, traffic)


@_lowers(VpuRope)
def _rope(hw: Hardware, stream: str, index: int, instr: VpuRope) -> Step:
    elements = instr.rows * instr.cols
    tables = 2 * instr.rows * instr.head_dim * 4
    # x * c, then rot * s + that as one FMA
    return _vector(hw, elements, 2, elements * (instr.src_dtype.itemsize + instr.dst_dtype.itemsize) + tables)


@_lowers(VpuTranspose)
def _transpose(hw: Hardware, stream: str, index: int, instr: VpuTranspose) -> Step:
    elements = instr.rows * instr.cols
    return _vector(hw, elements, 1, 2 * elements * instr.dtype.itemsize)


@_lowers(VpuFill)
def _fill(hw: Hardware, stream: str, index: int, instr: VpuFill) -> Step:
    elements = instr.rows * instr.cols
    return _vector(hw, elements, 1, elements * instr.dst_dtype.itemsize)


def _vector(hw: Hardware, elements: int, ops: int, traffic: float) -> Step:
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
