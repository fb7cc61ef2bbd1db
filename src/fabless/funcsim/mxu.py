"""MXU handlers: load weight tiles, stream activations through them, drain the accumulator.

A weight tile is prepared once (cast, or aligned to fixed point) when loaded; `mxu.ldw` and
`mxu.gemm` reuse the prepared form while its bytes are unwritten (see provenance.py), so
reloading weights resident in SRAM, or streamed again from HBM, costs no preparation.
"""

from collections.abc import Callable

import numpy as np

from fabless.funcsim import numerics
from fabless.funcsim.errors import ProgramError
from fabless.funcsim.unit import LoadedWeights, MxuState, Prepare, Step, Unit
from fabless.isa.dtypes import Dtype
from fabless.isa.instructions import MxuGemm, MxuLoadWeights, MxuMatmul, MxuStore

_FP32 = np.dtype(np.float32)


def load_weights(w: np.ndarray, dtype: Dtype, chunk: int) -> LoadedWeights:
    """W[k, n] cut into ceil(k / chunk) tiles of `chunk` rows (the last zero-padded), prepared."""
    k, n = w.shape
    chunks = -(-k // chunk)
    padded = np.zeros((chunks * chunk, n), np.float32 if dtype is Dtype.INT8 else np.float64)
    padded[:k] = w
    tiles = padded.reshape(chunks, chunk, n)
    if dtype is Dtype.INT8:
        return LoadedWeights(dtype, k, n, chunk, chunks, tiles, None)
    return LoadedWeights(dtype, k, n, chunk, chunks, None, numerics.align(tiles, axis=1))


def last_tile(w: LoadedWeights) -> LoadedWeights:
    """The weights an MXU holds after a gemm: its final tile."""
    k = w.k - (w.chunks - 1) * w.chunk
    exact = None if w.exact is None else w.exact[-1:]
    aligned = None if w.aligned is None else tuple(part[-1:] for part in w.aligned)
    return LoadedWeights(w.dtype, k, w.n, w.chunk, 1, exact, aligned)  # type: ignore[arg-type]


def _aligned(w: LoadedWeights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if w.aligned is None:
        w.aligned = numerics.align(w.exact, axis=1)  # type: ignore[arg-type]
    return w.aligned


def multiply(mxu: MxuState, w: LoadedWeights, x: np.ndarray, x_dtype: Dtype, acc_row: int, accumulate: bool) -> None:
    """acc[acc_row:, :n] (+)= X @ W tile by tile in order, with the numerics of docs/isa.md:
    int8 x int8 in int32, any other mix (int8 values taken exactly) in the float mode."""
    m, k = x.shape
    if k != w.k:
        raise ProgramError(f"x has k={k} but the loaded weights have k={w.k}")
    rows = slice(acc_row, acc_row + m)
    integer = w.dtype is Dtype.INT8 and x_dtype is Dtype.INT8
    wide = np.float32 if integer else np.float64
    if k == w.chunks * w.chunk:
        padded = x.astype(wide)
    else:
        padded = np.zeros((m, w.chunks * w.chunk), wide)
        padded[:, :k] = x
    # a contiguous [chunks, m, chunk] batch: numpy hands a strided one to a slow non-BLAS loop
    tiles = np.ascontiguousarray(padded.reshape(m, w.chunks, w.chunk).transpose(1, 0, 2))
    if integer:
        # int32 adds wrap, and wrapping adds are associative: any tile order gives these bits
        products = numerics.batched_matmul(tiles, w.exact)  # type: ignore[arg-type]
        total = products.astype(np.int32).sum(axis=0, dtype=np.int32)
        target = mxu.as_int32[rows, : w.n]
        if accumulate:
            target += total
        else:
            target[...] = total
        return
    partials = numerics.matmul_float(numerics.align(tiles, axis=2, scratch=True), _aligned(w))
    target = mxu.as_fp32[rows, : w.n]
    target[...] = numerics.add_in_order(target if accumulate else None, partials)


def _check_tile(unit: Unit, k: int, n: int) -> None:
    matrix = unit.chip.core.matrix
    if k > matrix.rows or n > matrix.cols:
        raise ProgramError(f"weight tile {k}x{n} exceeds the {matrix.rows}x{matrix.cols} MXU")


def _check_acc(unit: Unit, acc_row: int, m: int) -> None:
    rows = unit.memory.acc_rows
    if acc_row + m > rows:
        raise ProgramError(f"accumulator rows [{acc_row}, {acc_row + m}) are outside its {rows} rows")


def _weights(
    unit: Unit, addr: int, stride: int, k: int, n: int, dtype: Dtype, transposed: int, chunk: int
) -> Callable[[], tuple[LoadedWeights, LoadedWeights]]:
    """A step that loads W from SRAM into the unit's MXU, reusing the last preparation if
    none of W's bytes were written since."""
    if unit.chip.core.matrix.rows > numerics.MAX_K:
        raise ProgramError(f"MXUs of more than {numerics.MAX_K} rows exceed the ISA's exact accumulation")
    rows, cols = (n, k) if transposed else (k, n)
    stored = unit.sram_tile(addr, rows, cols, stride, dtype.numpy)
    view = stored.T if transposed else stored
    end = addr + (rows - 1) * stride + cols * dtype.itemsize
    mxu, memory, provenance, core = unit.mxu, unit.memory, unit.provenance, unit.core
    prepared: tuple[LoadedWeights, LoadedWeights] | None = None
    prepared_at = -1
    shape = (rows, cols, dtype, transposed, chunk)
    sram_key = ("sram", core, addr, stride, *shape)

    def prepare() -> tuple[LoadedWeights, LoadedWeights]:
        found = provenance.prepared(sram_key, lambda clock: memory.sram_unchanged_since(clock, core, addr, end))
        source = None if found else provenance.source(core, addr, rows, cols * dtype.itemsize, stride)
        if source:
            hbm_key = ("hbm", source.hbm_addr, source.hbm_stride, *shape)
            found = provenance.prepared(
                hbm_key, lambda clock: memory.hbm_unchanged_since(clock, source.hbm_addr, source.hbm_end)
            )
        if found is None:
            weights = load_weights(view, dtype, chunk)
            found = (weights, last_tile(weights))
            parts = weights.aligned if weights.aligned is not None else (weights.exact,)
            size = sum(part.nbytes for part in parts if part is not None)
            provenance.keep(sram_key, found, size, memory.clock)
            if source:
                # the SRAM copy holds HBM as it was when copied, not as it is now
                provenance.keep(hbm_key, found, size, source.clock)
        return found  # type: ignore[return-value]

    def run() -> tuple[LoadedWeights, LoadedWeights]:
        """Load W; returns (all of W, its last tile) for gemm, which leaves the last loaded."""
        nonlocal prepared, prepared_at
        if prepared is None or not memory.sram_unchanged_since(prepared_at, core, addr, end):
            prepared, prepared_at = prepare(), memory.clock
        mxu.weights = prepared[0]  # type: ignore[union-attr]
        return prepared

    return run


def _ldw(unit: Unit, instr: MxuLoadWeights) -> Step:
    _check_tile(unit, instr.k, instr.n)
    return _weights(unit, instr.w_addr, instr.w_stride, instr.k, instr.n, instr.dtype, instr.transposed, instr.k)


def _matmul(unit: Unit, instr: MxuMatmul) -> Step:
    _check_tile(unit, instr.k, 1)
    _check_acc(unit, instr.acc_row, instr.m)
    x = unit.sram_tile(instr.x_addr, instr.m, instr.k, instr.x_stride, instr.x_dtype.numpy)
    mxu, dtype, acc_row, accumulate = unit.mxu, instr.x_dtype, instr.acc_row, bool(instr.accumulate)

    def run() -> None:
        if mxu.weights is None:  # type: ignore[union-attr]
            raise ProgramError("no weights are loaded: run mxu.ldw first")
        multiply(mxu, mxu.weights, x, dtype, acc_row, accumulate)  # type: ignore[arg-type, union-attr]

    return run


def _gemm(unit: Unit, instr: MxuGemm) -> Step:
    rows = unit.chip.core.matrix.rows
    _check_tile(unit, min(rows, instr.k), instr.n)
    _check_acc(unit, instr.acc_row, instr.m)
    load = _weights(
        unit, instr.w_addr, instr.w_stride, instr.k, instr.n, instr.w_dtype, instr.transposed, min(rows, instr.k)
    )
    x = unit.sram_tile(instr.x_addr, instr.m, instr.k, instr.x_stride, instr.x_dtype.numpy)
    mxu, dtype, acc_row, accumulate = unit.mxu, instr.x_dtype, instr.acc_row, bool(instr.accumulate)

    def run() -> None:
        weights, last = load()
        multiply(mxu, weights, x, dtype, acc_row, accumulate)  # type: ignore[arg-type]
        mxu.weights = last  # type: ignore[union-attr]

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
    col = unit.sram_vector(instr.col_scale_addr, instr.n, 4, _FP32) if instr.use_col_scale else None
    row = unit.sram_vector(instr.row_scale_addr, instr.m, 4, _FP32) if instr.use_row_scale else None
    dst = unit.sram_tile(instr.out_addr, instr.m, instr.n, instr.out_stride, instr.out_dtype.numpy, True)
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


PREPARE: dict[type, Prepare] = {MxuLoadWeights: _ldw, MxuMatmul: _matmul, MxuGemm: _gemm, MxuStore: _store}
