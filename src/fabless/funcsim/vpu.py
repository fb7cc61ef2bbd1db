"""VPU handlers: elementwise, reductions, norms, RoPE, transpose and fill on SRAM tiles."""

import numpy as np

from fabless.funcsim import numerics
from fabless.funcsim.errors import ProgramError
from fabless.funcsim.unit import Prepare, Step, Unit
from fabless.isa.dtypes import BinaryOp, Broadcast, NormKind, ReduceOp, UnaryOp
from fabless.isa.instructions import VpuBinary, VpuFill, VpuNorm, VpuReduce, VpuRope, VpuTranspose, VpuUnary

_FP32 = np.dtype(np.float32)

_BINARY = {
    BinaryOp.ADD: np.add,
    BinaryOp.SUB: np.subtract,
    BinaryOp.MUL: np.multiply,
    BinaryOp.MAX: np.maximum,
    BinaryOp.MIN: np.minimum,
    BinaryOp.DIV: np.divide,
}
_REDUCE = {
    ReduceOp.SUM: numerics.row_sum,
    ReduceOp.MAX: numerics.row_max,
    ReduceOp.ABSMAX: lambda x: numerics.row_max(np.abs(x)),
    ReduceOp.MIN: numerics.row_min,
}


def _unary(unit: Unit, instr: VpuUnary) -> Step:
    src = unit.sram_tile(instr.src_addr, instr.rows, instr.cols, instr.src_stride, instr.src_dtype.numpy)
    dst = unit.sram_tile(instr.dst_addr, instr.rows, instr.cols, instr.dst_stride, instr.dst_dtype.numpy, True)
    if instr.op is UnaryOp.COPY and instr.src_dtype is instr.dst_dtype:
        return lambda: np.copyto(dst, src)
    fn, imm, dtype = numerics.UNARY[instr.op], np.float32(instr.imm), instr.dst_dtype

    def run() -> None:
        dst[...] = numerics.cast(fn(numerics.to_fp32(src), imm), dtype)

    return run


def _binary(unit: Unit, instr: VpuBinary) -> Step:
    rows, cols = instr.rows, instr.cols
    a = unit.sram_tile(instr.a_addr, rows, cols, instr.a_stride, instr.a_dtype.numpy)
    b_shape = {Broadcast.NONE: (rows, cols), Broadcast.ROW: (1, cols), Broadcast.COL: (rows, 1)}
    b = unit.sram_tile(instr.b_addr, *b_shape[instr.broadcast], instr.b_stride, instr.b_dtype.numpy)
    dst = unit.sram_tile(instr.dst_addr, rows, cols, instr.dst_stride, instr.dst_dtype.numpy, True)
    fn, dtype = _BINARY[instr.op], instr.dst_dtype
    if a.dtype == b.dtype == dst.dtype == _FP32:
        # fp32 in and out: the ufunc rounds each result to fp32 itself (and buffers overlaps)
        return lambda: fn(a, b, out=dst)

    def run() -> None:
        dst[...] = numerics.cast(fn(numerics.to_fp32(a), numerics.to_fp32(b)), dtype)

    return run


def _reduce(unit: Unit, instr: VpuReduce) -> Step:
    src = unit.sram_tile(instr.src_addr, instr.rows, instr.cols, instr.src_stride, instr.src_dtype.numpy)
    dst = unit.sram_vector(instr.dst_addr, instr.rows, instr.dst_stride, instr.dst_dtype.numpy, True)
    fn, dtype = _REDUCE[instr.op], instr.dst_dtype

    def run() -> None:
        dst[...] = numerics.cast(fn(numerics.to_fp32(src)), dtype)

    return run


def _norm(unit: Unit, instr: VpuNorm) -> Step:
    rows, cols = instr.rows, instr.cols
    src = unit.sram_tile(instr.src_addr, rows, cols, instr.src_stride, instr.src_dtype.numpy)
    dst = unit.sram_tile(instr.dst_addr, rows, cols, instr.dst_stride, instr.dst_dtype.numpy, True)
    gamma = unit.sram_tile(instr.gamma_addr, 1, cols, 0, _FP32)
    layer = instr.kind is NormKind.LAYER
    beta = unit.sram_tile(instr.beta_addr, 1, cols, 0, _FP32) if layer else None
    count, eps, dtype = np.float32(cols), np.float32(instr.eps), instr.dst_dtype

    def run() -> None:
        x = numerics.to_fp32(src)
        if layer:
            x = x - numerics.row_sum(x)[:, None] / count
        r = numerics.rsqrt(numerics.row_sum(x * x)[:, None] / count + eps)
        y = (x * r) * gamma
        dst[...] = numerics.cast(y + beta if layer else y, dtype)

    return run


def _rope(unit: Unit, instr: VpuRope) -> Step:
    rows, cols, head_dim = instr.rows, instr.cols, instr.head_dim
    if head_dim % 2 or cols % head_dim:
        raise ProgramError(f"head_dim {head_dim} must be even and divide cols {cols}")
    src = unit.sram_tile(instr.src_addr, rows, cols, instr.src_stride, instr.src_dtype.numpy)
    dst = unit.sram_tile(instr.dst_addr, rows, cols, instr.dst_stride, instr.dst_dtype.numpy, True)
    cos = unit.sram_tile(instr.cos_addr, rows, head_dim, instr.table_stride, _FP32)[:, None, :]
    sin = unit.sram_tile(instr.sin_addr, rows, head_dim, instr.table_stride, _FP32)[:, None, :]
    half, heads, dtype = head_dim // 2, cols // head_dim, instr.dst_dtype

    def run() -> None:
        x = numerics.to_fp32(src).reshape(rows, heads, head_dim)
        rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
        dst[...] = numerics.cast((x * cos + rotated * sin).reshape(rows, cols), dtype)

    return run


def _transpose(unit: Unit, instr: VpuTranspose) -> Step:
    size = instr.dtype.itemsize
    src_end = instr.src_addr + (instr.rows - 1) * instr.src_stride + instr.cols * size
    dst_end = instr.dst_addr + (instr.cols - 1) * instr.dst_stride + instr.rows * size
    if instr.src_addr < dst_end and instr.dst_addr < src_end:
        raise ProgramError("vpu.transpose source and destination overlap: use a separate buffer")
    src = unit.sram_tile(instr.src_addr, instr.rows, instr.cols, instr.src_stride, instr.dtype.numpy)
    dst = unit.sram_tile(instr.dst_addr, instr.cols, instr.rows, instr.dst_stride, instr.dtype.numpy, True)
    return lambda: np.copyto(dst, src.T)


def _fill(unit: Unit, instr: VpuFill) -> Step:
    dst = unit.sram_tile(instr.dst_addr, instr.rows, instr.cols, instr.dst_stride, instr.dst_dtype.numpy, True)
    value = numerics.cast(np.full(1, instr.imm, dtype=np.float32), instr.dst_dtype)
    return lambda: np.copyto(dst, value)


PREPARE: dict[type, Prepare] = {
    VpuUnary: _unary,
    VpuBinary: _binary,
    VpuReduce: _reduce,
    VpuNorm: _norm,
    VpuRope: _rope,
    VpuTranspose: _transpose,
    VpuFill: _fill,
}
