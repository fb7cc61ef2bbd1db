"""MXU handlers: load a weight tile, stream activations through it, drain the accumulator."""

import numpy as np

from fabless.funcsim import numerics
from fabless.funcsim.errors import ProgramError
from fabless.funcsim.memory import vector
from fabless.funcsim.unit import LoadedWeights, MxuState, Step, Unit
from fabless.isa.dtypes import Dtype
from fabless.isa.instructions import MxuGemm, MxuLoadWeights, MxuMatmul, MxuStore

_FP32 = np.dtype(np.float32)


def load_weights(w: np.ndarray, dtype: Dtype) -> LoadedWeights:
    """A [k, n] weight tile in the form `multiply` consumes (cast or aligned once per load)."""
    k, n = w.shape
    if dtype is Dtype.INT8:
        return LoadedWeights(dtype, k, n, w.astype(np.float32))
    return LoadedWeights(dtype, k, n, numerics.align(w, axis=0))


def multiply(mxu: MxuState, x: np.ndarray, x_dtype: Dtype, acc_row: int, accumulate: bool) -> None:
    """acc[acc_row:, :n] (+)= X @ W with the numerics of docs/isa.md."""
    w = mxu.weights
    if w is None:
        raise ProgramError("no weights are loaded: run mxu.ldw first")
    if x.shape[1] != w.k:
        raise ProgramError(f"x has k={x.shape[1]} but the loaded weight tile has k={w.k}")
    rows = slice(acc_row, acc_row + x.shape[0])
    if w.dtype is Dtype.INT8 or x_dtype is Dtype.INT8:
        if w.dtype is not x_dtype:
            raise ProgramError(
                f"int8 matmuls need int8 on both sides, got x {x_dtype.name.lower()} "
                f"and weights {w.dtype.name.lower()}"
            )
        product = numerics.matmul_int8(x, w.data)  # type: ignore[arg-type]
        target = mxu.as_int32[rows, : w.n]
    else:
        product = numerics.matmul_float(numerics.align(x, axis=1), w.data)  # type: ignore[arg-type]
        target = mxu.as_fp32[rows, : w.n]
    if accumulate:
        target += product
    else:
        target[...] = product


def _check_tile(unit: Unit, k: int, n: int) -> None:
    matrix = unit.chip.core.matrix
    if k > matrix.rows or n > matrix.cols:
        raise ProgramError(f"weight tile {k}x{n} exceeds the {matrix.rows}x{matrix.cols} MXU")
    if k > numerics.MAX_K:
        raise ProgramError(f"k={k} exceeds the ISA's exact-accumulation limit of {numerics.MAX_K}")


def _check_acc(unit: Unit, acc_row: int, m: int) -> None:
    rows = unit.memory.acc_rows
    if acc_row + m > rows:
        raise ProgramError(f"accumulator rows [{acc_row}, {acc_row + m}) are outside its {rows} rows")


def _weights_view(unit: Unit, addr: int, stride: int, k: int, n: int, dtype: Dtype, transposed: int) -> np.ndarray:
    if transposed:
        return unit.sram_tile(addr, n, k, stride, dtype.numpy).T
    return unit.sram_tile(addr, k, n, stride, dtype.numpy)


def _ldw(unit: Unit, instr: MxuLoadWeights) -> Step:
    _check_tile(unit, instr.k, instr.n)
    view = _weights_view(unit, instr.w_addr, instr.w_stride, instr.k, instr.n, instr.dtype, instr.transposed)
    mxu, dtype = unit.mxu, instr.dtype

    def run() -> None:
        mxu.weights = load_weights(view, dtype)  # type: ignore[union-attr]

    return run


def _matmul(unit: Unit, instr: MxuMatmul) -> Step:
    _check_tile(unit, instr.k, 1)
    _check_acc(unit, instr.acc_row, instr.m)
    x = unit.sram_tile(instr.x_addr, instr.m, instr.k, instr.x_stride, instr.x_dtype.numpy)
    mxu, dtype, acc_row, accumulate = unit.mxu, instr.x_dtype, instr.acc_row, bool(instr.accumulate)
    return lambda: multiply(mxu, x, dtype, acc_row, accumulate)  # type: ignore[arg-type]


def _gemm(unit: Unit, instr: MxuGemm) -> Step:
    if instr.n > unit.chip.core.matrix.cols:
        raise ProgramError(f"n={instr.n} exceeds the MXU's {unit.chip.core.matrix.cols} columns")
    _check_acc(unit, instr.acc_row, instr.m)
    step = unit.chip.core.matrix.rows
    x_size, w_size = instr.x_dtype.itemsize, instr.w_dtype.itemsize
    chunks = []
    for start in range(0, instr.k, step):
        kc = min(step, instr.k - start)
        _check_tile(unit, kc, instr.n)
        x = unit.sram_tile(instr.x_addr + start * x_size, instr.m, kc, instr.x_stride, instr.x_dtype.numpy)
        w_addr = instr.w_addr + start * (w_size if instr.transposed else instr.w_stride)
        w = _weights_view(unit, w_addr, instr.w_stride, kc, instr.n, instr.w_dtype, instr.transposed)
        chunks.append((x, w))
    mxu, acc_row, first = unit.mxu, instr.acc_row, bool(instr.accumulate)
    x_dtype, w_dtype = instr.x_dtype, instr.w_dtype

    def run() -> None:
        for index, (x, w) in enumerate(chunks):
            mxu.weights = load_weights(w, w_dtype)  # type: ignore[union-attr]
            multiply(mxu, x, x_dtype, acc_row, first or index > 0)  # type: ignore[arg-type]

    return run


def _store(unit: Unit, instr: MxuStore) -> Step:
    if instr.acc_dtype not in (Dtype.FP32, Dtype.INT32):
        raise ProgramError(f"acc_dtype must be fp32 or int32, not {instr.acc_dtype.name.lower()}")
    if instr.n > unit.memory.acc_cols:
        raise ProgramError(f"n={instr.n} exceeds the accumulator's {unit.memory.acc_cols} columns")
    _check_acc(unit, instr.acc_row, instr.m)
    mxu = unit.mxu
    words = mxu.as_fp32 if instr.acc_dtype is Dtype.FP32 else mxu.as_int32  # type: ignore[union-attr]
    src = words[instr.acc_row : instr.acc_row + instr.m, : instr.n]
    dst = unit.sram_tile(instr.out_addr, instr.m, instr.n, instr.out_stride, instr.out_dtype.numpy, True)
    sram = unit.memory.sram(unit.core)
    col = vector(sram, unit.sram_name, instr.col_scale_addr, instr.n, 4, _FP32) if instr.use_col_scale else None
    row = vector(sram, unit.sram_name, instr.row_scale_addr, instr.m, 4, _FP32) if instr.use_row_scale else None
    out_dtype = instr.out_dtype
    if col is None and row is None and instr.acc_dtype is out_dtype:
        return lambda: np.copyto(dst, src)

    def run() -> None:
        values = numerics.to_fp32(src)
        if col is not None:
            values = values * col
        if row is not None:
            values = values * row[:, None]
        dst[...] = numerics.cast(values, out_dtype)

    return run


PREPARE = {MxuLoadWeights: _ldw, MxuMatmul: _matmul, MxuGemm: _gemm, MxuStore: _store}
