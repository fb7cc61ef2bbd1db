"""MXU handlers: load weight tiles, stream activations through them, drain the accumulator.

A weight tile is prepared once (cast, or truncated to the aligned fixed point) when loaded;
`mxu.ldw` and `mxu.gemm` reuse the prepared form while its bytes are unwritten (see
provenance.py), so reloading weights resident in SRAM, or streamed again from HBM, costs no
preparation. A float activation tile is likewise prepared once for every gemm that reads it.
"""

from collections.abc import Callable

import numpy as np

from fabless.funcsim import numerics
from fabless.funcsim.errors import ProgramError
from fabless.funcsim.memory import PAGE_BITS, Memory, unchanged_since
from fabless.funcsim.provenance import Copy
from fabless.funcsim.unit import LoadedWeights, MxuState, Prepare, Step, Unit
from fabless.isa.dtypes import Dtype
from fabless.isa.instructions import MxuGemm, MxuLoadWeights, MxuMatmul, MxuStore

_FP32 = np.dtype(np.float32)
Fixed = tuple[np.ndarray, np.ndarray | None]


def _tiles(values: np.ndarray, chunk: int, chunks: int) -> np.ndarray:
    """[rows, k] as zero-padded float64 [rows, chunks, chunk]."""
    rows, k = values.shape
    # a cast first: assigning bf16/fp8 straight into a float64 slice is ~5x slower
    wide = values.astype(np.float64)
    if k == chunks * chunk:
        return wide.reshape(rows, chunks, chunk)
    padded = np.zeros((rows, chunks * chunk), np.float64)
    padded[:, :k] = wide
    return padded.reshape(rows, chunks, chunk)


def _fixed_tiles(rows: np.ndarray, chunk: int, chunks: int) -> Fixed:
    """[rows, k] truncated per tile of `chunk` along k, as [chunks, rows, chunk]."""
    values, bad = numerics.truncate(_tiles(rows, chunk, chunks), axis=2, scratch=True)
    return np.ascontiguousarray(values.transpose(1, 0, 2)), None if bad is None else np.ascontiguousarray(bad.T)


def load_weights(w: np.ndarray, dtype: Dtype, chunk: int) -> LoadedWeights:
    """W[k, n] cut into ceil(k / chunk) tiles of `chunk` rows (the last zero-padded), prepared."""
    k, n = w.shape
    chunks = -(-k // chunk)
    if dtype is Dtype.INT8:
        # a copy even where the SRAM bytes are laid out so already: they change, it must not
        return LoadedWeights(dtype, k, n, chunk, chunks, w.T.copy(), None)
    return LoadedWeights(dtype, k, n, chunk, chunks, None, _fixed_tiles(w.T, chunk, chunks))


def last_tile(w: LoadedWeights) -> LoadedWeights:
    """The weights an MXU holds after a gemm: its final tile."""
    start = (w.chunks - 1) * w.chunk
    integer = None if w.integer is None else w.integer[:, start:]
    fixed = None if w.fixed is None else (w.fixed[0][-1:], None if w.fixed[1] is None else w.fixed[1][-1:])
    return LoadedWeights(w.dtype, w.k - start, w.n, w.chunk, 1, integer, fixed)


def _fixed(w: LoadedWeights) -> Fixed:
    if w.fixed is None:
        assert w.integer is not None
        w.fixed = _fixed_tiles(w.integer, w.chunk, w.chunks)
    return w.fixed


class Activations:
    """X [m, k] in SRAM as the MXU reads it: the raw tile, or its truncated float tiles,
    prepared once for every instruction that reads them while their bytes are unwritten.
    Every instruction of a program that reads the same tile shares one (see `activations`)."""

    def __init__(self, raw: np.ndarray, memory: Memory, core: int, start: int, end: int) -> None:
        self.raw, self.memory = raw, memory
        self.pages, self.first, self.last = memory.pages(core), start >> PAGE_BITS, (end - 1) >> PAGE_BITS
        self.held: tuple[int, Fixed, int] | None = None
        """The chunk, tiles and write clock of the last preparation."""

    def fixed(self, chunk: int, chunks: int) -> Fixed:
        held = self.held
        if held is not None and held[0] == chunk and unchanged_since(self.pages, self.first, self.last, held[2]):
            return held[1]
        fixed = _fixed_tiles(self.raw, chunk, chunks)
        self.held = (chunk, fixed, self.memory.clock)
        return fixed


def activations(unit: Unit, addr: int, stride: int, m: int, k: int, dtype: Dtype) -> Activations:
    """The MXU input tile at `addr`, shared by every instruction of a simulator that reads it
    (the projections of one layer read the same rows once per column tile)."""
    raw = unit.sram_tile(addr, m, k, stride, dtype.numpy)  # also notes the read, for deferred copies
    key = ("x", unit.core, addr, stride, m, k, dtype)
    found = unit.provenance.shared.get(key)
    if found is None:
        found = Activations(raw, unit.memory, unit.core, addr, addr + (m - 1) * stride + k * dtype.itemsize)
        unit.provenance.shared[key] = found
    return found  # type: ignore[return-value]


def multiply(mxu: MxuState, w: LoadedWeights, x: Activations, x_dtype: Dtype, acc_row: int, accumulate: bool) -> None:
    """acc[acc_row:, :n] (+)= X @ W tile by tile in order, with the numerics of docs/isa.md:
    int8 x int8 in int32, any other mix (int8 values taken exactly) in the float mode."""
    rows = slice(acc_row, acc_row + x.raw.shape[0])
    if w.integer is not None and x_dtype is Dtype.INT8:
        numerics.matmul_int8(x.raw, w.integer, mxu.as_int32[rows, : w.n], accumulate)
        return
    partials = numerics.matmul_float(x.fixed(w.chunk, w.chunks), _fixed(w))
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
    # the bytes are read only to prepare them, so deferred copies are settled only then
    stored = unit.sram_tile(addr, rows, cols, stride, dtype.numpy, settled=False)
    view = stored.T if transposed else stored
    end = addr + (rows - 1) * stride + cols * dtype.itemsize
    mxu, memory, provenance, core = unit.mxu, unit.memory, unit.provenance, unit.core
    pages, first, last = memory.pages(core), addr >> PAGE_BITS, (end - 1) >> PAGE_BITS
    held: tuple[LoadedWeights, LoadedWeights] | None = None
    held_at = -1
    # streamed weights: the copy they were last found in, and the HBM they were prepared from
    copied: Copy | None = None
    hbm_start = hbm_end = prepared_at = 0
    shape = (rows, cols, dtype, transposed, chunk)
    sram_key: tuple = ("sram", core, addr, stride, *shape)

    def prepare() -> tuple[LoadedWeights, LoadedWeights]:
        nonlocal copied, hbm_start, hbm_end, prepared_at
        # a copy from HBM is found by its source, which the next token's copy shares
        source = provenance.source(core, addr, rows, cols * dtype.itemsize, stride)
        copied = None
        key = sram_key if source is None else ("hbm", source.hbm_addr, source.hbm_stride, *shape)
        found = provenance.prepared(key)
        if found is not None and (
            unchanged_since(pages, first, last, found[1])
            if source is None
            else memory.hbm_unchanged_since(found[1], source.hbm_addr, source.hbm_end)
        ):
            loaded: tuple[LoadedWeights, LoadedWeights] = found[0]  # type: ignore[assignment]
            clock = found[1]
        else:
            memory.deferred.settle(core, ((addr, end),))
            weights = load_weights(view, dtype, chunk)
            loaded = (weights, last_tile(weights))
            parts = (weights.integer,) if weights.fixed is None else weights.fixed
            size = sum(part.nbytes for part in parts if part is not None)
            # an SRAM copy holds HBM as it was when copied, not as it is now
            clock = memory.clock if source is None else source.clock
            provenance.keep(key, loaded, size, clock)
        if source is not None:
            copied, prepared_at = provenance.covering(core, addr), clock
            hbm_start, hbm_end = source.hbm_addr, source.hbm_end
        return loaded

    def run() -> tuple[LoadedWeights, LoadedWeights]:
        """Load W; returns (all of W, its last tile) for gemm, which leaves the last loaded."""
        nonlocal held, held_at
        if copied is not None:
            # the same load copied the same unchanged HBM in again: what it held last time
            same = provenance.covering(core, addr) is copied
            if not (same and memory.hbm_unchanged_since(prepared_at, hbm_start, hbm_end)):
                held, held_at = prepare(), memory.clock
        elif held is None or not unchanged_since(pages, first, last, held_at):
            held, held_at = prepare(), memory.clock
        assert held is not None and mxu is not None
        mxu.weights = held[0]
        return held

    return run


def _ldw(unit: Unit, instr: MxuLoadWeights) -> Step:
    _check_tile(unit, instr.k, instr.n)
    return _weights(unit, instr.w_addr, instr.w_stride, instr.k, instr.n, instr.dtype, instr.transposed, instr.k)


def _matmul(unit: Unit, instr: MxuMatmul) -> Step:
    _check_tile(unit, instr.k, 1)
    _check_acc(unit, instr.acc_row, instr.m)
    x = activations(unit, instr.x_addr, instr.x_stride, instr.m, instr.k, instr.x_dtype)
    mxu, dtype, acc_row, accumulate = unit.mxu, instr.x_dtype, instr.acc_row, bool(instr.accumulate)
    assert mxu is not None

    def run() -> None:
        if mxu.weights is None:
            raise ProgramError("no weights are loaded: run mxu.ldw first")
        if mxu.weights.k != instr.k:
            raise ProgramError(f"x has k={instr.k} but the loaded weights have k={mxu.weights.k}")
        multiply(mxu, mxu.weights, x, dtype, acc_row, accumulate)

    return run


def _gemm(unit: Unit, instr: MxuGemm) -> Step:
    rows = unit.chip.core.matrix.rows
    _check_tile(unit, min(rows, instr.k), instr.n)
    _check_acc(unit, instr.acc_row, instr.m)
    load = _weights(
        unit, instr.w_addr, instr.w_stride, instr.k, instr.n, instr.w_dtype, instr.transposed, min(rows, instr.k)
    )
    x = activations(unit, instr.x_addr, instr.x_stride, instr.m, instr.k, instr.x_dtype)
    mxu, dtype, acc_row, accumulate = unit.mxu, instr.x_dtype, instr.acc_row, bool(instr.accumulate)
    assert mxu is not None

    def run() -> None:
        weights, last = load()
        multiply(mxu, weights, x, dtype, acc_row, accumulate)
        mxu.weights = last

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
    scales = [scale for scale in (col, None if row is None else row[:, None]) if scale is not None]
    if out_dtype is Dtype.FP32 and scales and not any(np.may_share_memory(dst, scale) for scale in scales):
        first, *rest = scales

        def scale_in_place() -> None:
            """fp32(acc) * col * row, each product rounded to fp32, straight into the output."""
            # the ufunc rounds int32 words to fp32 (nearest even) before its fp32 product
            np.multiply(src, first, out=dst, dtype=np.float32, casting="same_kind")
            for scale in rest:
                np.multiply(dst, scale, out=dst)

        return scale_in_place

    def run() -> None:
        values = numerics.to_fp32(src)
        if col is not None:
            values = values * col
        if row is not None:
            values = values * row[:, None]
        dst[...] = numerics.cast(values, out_dtype)

    return run


PREPARE: dict[type, Prepare] = {MxuLoadWeights: _ldw, MxuMatmul: _matmul, MxuGemm: _gemm, MxuStore: _store}
