"""Lower `out = x @ W (+ bias)` onto the MXUs: weight tiles stream, activations stay in SRAM.

Weight tiles come from HBM through the weight DMA queue into a ring of SRAM, so the DMA of
the next tiles overlaps the MXUs on the current one. Each tile is cut into column
blocks of the MXU width that the MXUs take in turn; per-output-channel scales are applied
by the accumulator move (`mxu.store`), so quantised weights cost no extra pass.

int8 weights run the MXU's exact integer mode: each activation row is scaled to 16 bits
and split into a high and a low int8 slice, both multiplied in one pass (2m rows), and the
two int32 results are recombined as `hi * 256 s + lo * s` when they leave the accumulator.
"""

from dataclasses import dataclass

from fabless.compiler.context import DTYPES, WEIGHT_QUEUE, Lowering
from fabless.compiler.sram import Buffer, window_spans
from fabless.compiler.tiling import MatmulTiling, plan_matmul
from fabless.isa import BinaryOp, Broadcast, Dtype, MxuGemm, MxuStore, ReduceOp, UnaryOp, VpuBinary, VpuReduce, VpuUnary

_INT16_MAX = 127 * 256
"""Activation rows are scaled so that the high byte stays within int8 after rounding."""


@dataclass(frozen=True)
class MatmulScratch:
    """SRAM shared by every matmul of a program: int8 slices, row scales, scale/bias vectors."""

    slices_addr: int  # room for [2m, k] int8: high rows then low rows
    scaled_addr: int  # room for [2m, k] fp32: x / s, then hi * 256
    row_scales: Buffer  # [2T, 1] fp32: 256 s then s
    vectors: tuple[Buffer, Buffer]  # [2, n_max] fp32 each: scales row 0, bias row 1


def plan_linear(lowering: Lowering, name: str, m: int, k: int, n: int, budget: int) -> MatmulTiling:
    """The weight tiling of one projection with SRAM `budget` for its double-buffered tiles."""
    numerics = lowering.layout.numerics
    integer = numerics.weights == "int8"
    return plan_matmul(
        lowering.chip,
        2 * m if integer else m,
        k,
        n,
        x_dtype="int8" if integer else numerics.activations,
        w_dtype=numerics.weights_of(name),
        out_dtype="fp32",
        sram_budget_bytes=budget,
        resident=True,
        name=name,
    )


def lower_linear(
    lowering: Lowering,
    name: str,
    x: Buffer,
    m: int,
    out: Buffer,
    scratch: MatmulScratch | None,
    *,
    x_row: int = 0,
    vector_index: int = 0,
    columns: tuple[tuple[int, int], ...] | None = None,
) -> None:
    """out[:m, cols] = x[x_row : x_row + m, :k] @ W[:, cols] (+ bias), fp32, for projection `name`.

    `columns` are the [start, end) output-channel ranges the current core computes (default:
    all). With int8 weights `out` needs 2m rows: rows [m, 2m) hold the low slice's products.
    """
    layout = lowering.layout
    weight = layout[f"{name}.weight"]
    n, k = weight.shape
    columns = merge_columns(columns) if columns is not None else ((0, n),)
    if not columns:
        return
    numerics = layout.numerics
    quantized = f"{name}.scale" in layout.regions
    has_bias = f"{name}.bias" in layout.regions
    vectors = scratch.vectors[vector_index % 2] if scratch is not None else None
    if quantized or has_bias:
        assert vectors is not None, "scaled or biased projections need the vector scratch"
        if quantized:
            lowering.load(layout[f"{name}.scale"], vectors, rows=1, row_bytes=4 * n)
        if has_bias:
            lowering.load(
                layout[f"{name}.bias"],
                Buffer("bias", vectors.at(1), 1, vectors.cols, Dtype.FP32),
                rows=1,
                row_bytes=4 * n,
            )

    integer = numerics.weights == "int8"
    if integer:
        assert scratch is not None
        _slice_int16(lowering, x, x_row, m, k, scratch)
    _stationary(lowering, name, x, x_row, m, out, scratch, vectors if quantized else None, columns)
    for start, end in columns:
        window = out.window(start, end)
        if integer:
            low = Buffer(out.name, out.at(m, start), m, end - start, Dtype.FP32, out.stride)
            _vpu_binary(lowering, BinaryOp.ADD, window, window, low, m, end - start)
        if has_bias:
            assert vectors is not None
            bias = Buffer("bias", vectors.at(1, start), 1, end - start, Dtype.FP32)
            _vpu_binary(lowering, BinaryOp.ADD, window, window, bias, m, end - start, broadcast=Broadcast.ROW)


def merge_columns(columns: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """Non-empty ranges, adjacent ones joined (one core's gate and up shares meet when it has them all)."""
    out: list[tuple[int, int]] = []
    for start, end in columns:
        if end <= start:
            continue
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return tuple(out)


def _stationary(
    lowering: Lowering,
    name: str,
    x: Buffer,
    x_row: int,
    m: int,
    out: Buffer,
    scratch: MatmulScratch | None,
    scales: Buffer | None,
    columns: tuple[tuple[int, int], ...],
) -> None:
    """Weight tiles held in the MXUs (loaded transposed), activation rows streamed through."""
    weight = lowering.layout[f"{name}.weight"]
    k = weight.shape[1]
    n = max(end - start for start, end in columns)
    integer = lowering.layout.numerics.weights == "int8"
    w_dtype = DTYPES[weight.dtype]
    quantized = scales is not None
    vectors = scales
    plan = plan_linear(lowering, name, m, k, n, lowering.weight_budget)
    block_rows = max(1, plan.m_block // 2) if integer else plan.m_block
    matrix = lowering.chip.core.matrix
    for r0 in range(0, m, block_rows):
        rows = min(block_rows, m - r0)
        if integer:
            assert scratch is not None
            gemms, stores = _integer_rows(scratch, m, k, r0, rows)
        else:
            gemms = [(x, x_row + r0, rows, 0)]
            stores = [(0, rows, r0, None)]
        acc_rows = sum(g[2] for g in gemms)
        tiles = [(n0, min(plan.n_tile, end - n0)) for start, end in columns for n0 in range(start, end, plan.n_tile)]
        for n0, nt in tiles:
            blocks = [(c0, min(matrix.cols, nt - c0)) for c0 in range(0, nt, matrix.cols)]
            mxus = [lowering.next_mxu() for _ in blocks]
            for k0 in range(0, k, plan.k_tile):
                kt = min(plan.k_tile, k - k0)
                tile = lowering.weight_tile(nt, kt, w_dtype)
                lowering.load(
                    weight,
                    tile,
                    hbm_offset=(n0 * k + k0) * w_dtype.itemsize,
                    rows=nt,
                    row_bytes=kt * w_dtype.itemsize,
                    hbm_stride=k * w_dtype.itemsize,
                    queue=WEIGHT_QUEUE,
                )
                for index, ((c0, width), mxu) in enumerate(zip(blocks, mxus, strict=True)):
                    base = (index // matrix.count) * acc_rows
                    for buf, row, grows, acc in gemms:
                        lowering.emit(
                            mxu,
                            MxuGemm(
                                x_addr=buf.at(row, k0),
                                x_stride=buf.stride,
                                w_addr=tile.at(c0, 0),
                                w_stride=tile.stride,
                                m=grows,
                                k=kt,
                                n=width,
                                x_dtype=buf.dtype,
                                w_dtype=w_dtype,
                                acc_row=base + acc,
                                accumulate=int(k0 > 0),
                                transposed=1,
                            ),
                            reads=(_rows_span(buf, row, grows), tile.span(c0, width)),
                        )
                    if k0 + kt == k:
                        for acc, srows, out_row, row_scale in stores:
                            _store(
                                lowering,
                                mxu,
                                base + acc,
                                srows,
                                width,
                                out,
                                out_row,
                                n0 + c0,
                                vectors if quantized else None,
                                row_scale,
                                integer,
                            )


def _rows_span(buf: Buffer, row: int, rows: int) -> tuple[str, int, int]:
    return ("sram", buf.at(row), buf.at(row + rows))


def _integer_rows(
    scratch: MatmulScratch, m: int, k: int, r0: int, rows: int
) -> tuple[list[tuple[Buffer, int, int, int]], list[tuple[int, int, int, int | None]]]:
    """Gemms (x, x row, rows, acc offset) and stores (acc offset, rows, out row, row scale).

    The high slice sits in rows [0, m) of the slices, the low one in [m, 2m), and so do
    their products in the output (rows [m, 2m) are added into [0, m) at the end): when a
    block is all the rows, one gemm and one accumulator move cover both slices.
    """
    slices = Buffer("slices", scratch.slices_addr, 2 * m, k, Dtype.INT8)
    scales = scratch.row_scales
    if rows == m:
        return [(slices, 0, 2 * m, 0)], [(0, 2 * m, 0, scales.at(0))]
    gemms = [(slices, r0, rows, 0), (slices, m + r0, rows, rows)]
    return gemms, [(0, rows, r0, scales.at(r0)), (rows, rows, m + r0, scales.at(m + r0))]


def _store(
    lowering: Lowering,
    mxu: str,
    acc_row: int,
    rows: int,
    width: int,
    target: Buffer,
    row: int,
    col: int,
    scales: Buffer | None,
    row_scale: int | None,
    integer: bool,
) -> None:
    """Accumulator -> fp32 target[row:, col:], scaled by channel and row scales if given."""
    reads = []
    if scales is not None:
        reads.append(("sram", scales.at(0, col), scales.at(0, col + width)))
    if row_scale is not None:
        reads.append(("sram", row_scale, row_scale + 4 * rows))
    lowering.emit(
        mxu,
        MxuStore(
            acc_row=acc_row,
            m=rows,
            n=width,
            acc_dtype=Dtype.INT32 if integer else Dtype.FP32,
            out_addr=target.at(row, col),
            out_stride=target.stride,
            out_dtype=Dtype.FP32,
            col_scale_addr=scales.at(0, col) if scales is not None else 0,
            row_scale_addr=row_scale or 0,
            use_col_scale=int(scales is not None),
            use_row_scale=int(row_scale is not None),
        ),
        reads=tuple(reads),
        writes=window_spans(target.at(row, col), rows, target.stride, 4 * width),
    )


def _slice_int16(lowering: Lowering, x: Buffer, x_row: int, m: int, k: int, scratch: MatmulScratch) -> None:
    """Split rows of x into int8 high and low slices with per-row scales (docs in the module)."""
    scales = scratch.row_scales
    high_scale = Buffer("row_scales", scales.at(0), m, 1, Dtype.FP32)
    low_scale = Buffer("row_scales", scales.at(m), m, 1, Dtype.FP32)
    x_span = _rows_span(x, x_row, m)
    vpu = "vpu"
    lowering.emit(
        vpu,
        VpuReduce(
            op=ReduceOp.ABSMAX,
            dst_addr=low_scale.addr,
            dst_stride=4,
            dst_dtype=Dtype.FP32,
            src_addr=x.at(x_row),
            src_stride=x.stride,
            src_dtype=x.dtype,
            rows=m,
            cols=k,
        ),
        reads=(x_span,),
        writes=(low_scale.span(),),
    )
    lowering.emit(
        vpu,
        VpuUnary(
            op=UnaryOp.MUL_IMM,
            dst_addr=low_scale.addr,
            dst_stride=4,
            dst_dtype=Dtype.FP32,
            src_addr=low_scale.addr,
            src_stride=4,
            src_dtype=Dtype.FP32,
            rows=m,
            cols=1,
            imm=1.0 / _INT16_MAX,
        ),
        reads=(low_scale.span(),),
        writes=(low_scale.span(),),
    )
    lowering.emit(
        vpu,
        VpuUnary(
            op=UnaryOp.MUL_IMM,
            dst_addr=high_scale.addr,
            dst_stride=4,
            dst_dtype=Dtype.FP32,
            src_addr=low_scale.addr,
            src_stride=4,
            src_dtype=Dtype.FP32,
            rows=m,
            cols=1,
            imm=256.0,
        ),
        reads=(low_scale.span(),),
        writes=(high_scale.span(),),
    )
    q = Buffer("scaled", scratch.scaled_addr, m, k, Dtype.FP32)
    hi_times = Buffer("scaled", q.at(m), m, k, Dtype.FP32)
    hi = Buffer("slices", scratch.slices_addr, m, k, Dtype.INT8)
    lo = Buffer("slices", hi.at(m), m, k, Dtype.INT8)
    # An all-zero row has scale 0: 0/0 is NaN, which the int8 cast turns into 0.
    _vpu_binary(
        lowering,
        BinaryOp.DIV,
        q,
        Buffer(x.name, x.at(x_row), m, k, x.dtype, x.stride),
        low_scale,
        m,
        k,
        broadcast=Broadcast.COL,
        b_stride=4,
    )
    _vpu_unary(lowering, UnaryOp.MUL_IMM, hi, q, m, k, 1.0 / 256.0)
    _vpu_unary(lowering, UnaryOp.MUL_IMM, hi_times, hi, m, k, 256.0)
    _vpu_binary(lowering, BinaryOp.SUB, lo, q, hi_times, m, k)


def _vpu_unary(
    lowering: Lowering, op: UnaryOp, dst: Buffer, src: Buffer, rows: int, cols: int, imm: float = 0.0
) -> None:
    lowering.emit(
        "vpu",
        VpuUnary(
            op=op,
            dst_addr=dst.addr,
            dst_stride=dst.stride,
            dst_dtype=dst.dtype,
            src_addr=src.addr,
            src_stride=src.stride,
            src_dtype=src.dtype,
            rows=rows,
            cols=cols,
            imm=imm,
        ),
        reads=(src.span(0, rows),),
        writes=(dst.span(0, rows),),
    )


def _vpu_binary(
    lowering: Lowering,
    op: BinaryOp,
    dst: Buffer,
    a: Buffer,
    b: Buffer,
    rows: int,
    cols: int,
    broadcast: Broadcast = Broadcast.NONE,
    b_stride: int | None = None,
) -> None:
    b_rows = 1 if broadcast is Broadcast.ROW else rows
    lowering.emit(
        "vpu",
        VpuBinary(
            op=op,
            dst_addr=dst.addr,
            dst_stride=dst.stride,
            dst_dtype=dst.dtype,
            a_addr=a.addr,
            a_stride=a.stride,
            a_dtype=a.dtype,
            b_addr=b.addr,
            b_stride=b.stride if b_stride is None else b_stride,
            b_dtype=b.dtype,
            broadcast=broadcast,
            rows=rows,
            cols=cols,
        ),
        reads=(a.span(0, rows), b.span(0, b_rows)),
        writes=(dst.span(0, rows),),
    )
