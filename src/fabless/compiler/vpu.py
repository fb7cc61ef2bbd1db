"""VPU instructions on whole SRAM tiles, with the byte ranges they read and write."""

from fabless.compiler.context import Lowering
from fabless.compiler.sram import Buffer
from fabless.isa import (
    BinaryOp,
    Broadcast,
    NormKind,
    ReduceOp,
    UnaryOp,
    VpuBinary,
    VpuFill,
    VpuNorm,
    VpuReduce,
    VpuRope,
    VpuTranspose,
    VpuUnary,
)

_VPU = "vpu"


def _rows(buffer: Buffer, rows: int, cols: int) -> tuple[str, int, int]:
    return ("sram", buffer.addr, buffer.addr + (rows - 1) * buffer.stride + cols * buffer.dtype.itemsize)


class VectorOps:
    """Emits VPU instructions of one program."""

    def __init__(self, lowering: Lowering) -> None:
        self.lowering = lowering

    def fill(self, dst: Buffer, rows: int, cols: int, value: float) -> None:
        self.lowering.emit(
            _VPU,
            VpuFill(dst_addr=dst.addr, dst_stride=dst.stride, dst_dtype=dst.dtype, rows=rows, cols=cols, imm=value),
            writes=(_rows(dst, rows, cols),),
        )

    def unary(self, op: UnaryOp, dst: Buffer, src: Buffer, rows: int, cols: int, imm: float = 0.0) -> None:
        self.lowering.emit(
            _VPU,
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
            reads=(_rows(src, rows, cols),),
            writes=(_rows(dst, rows, cols),),
        )

    def binary(
        self, op: BinaryOp, dst: Buffer, a: Buffer, b: Buffer, rows: int, cols: int, row_broadcast: bool = False
    ) -> None:
        """dst = op(a, b); with `row_broadcast`, b is one row applied to every row of a."""
        broadcast = Broadcast.ROW if row_broadcast else Broadcast.NONE
        self.lowering.emit(
            _VPU,
            VpuBinary(
                op=op,
                dst_addr=dst.addr,
                dst_stride=dst.stride,
                dst_dtype=dst.dtype,
                a_addr=a.addr,
                a_stride=a.stride,
                a_dtype=a.dtype,
                b_addr=b.addr,
                b_stride=b.stride,
                b_dtype=b.dtype,
                broadcast=broadcast,
                rows=rows,
                cols=cols,
            ),
            reads=(_rows(a, rows, cols), _rows(b, 1 if row_broadcast else rows, cols)),
            writes=(_rows(dst, rows, cols),),
        )

    def add(self, dst: Buffer, a: Buffer, b: Buffer, rows: int, cols: int, row_broadcast: bool = False) -> None:
        self.binary(BinaryOp.ADD, dst, a, b, rows, cols, row_broadcast)

    def mul(self, dst: Buffer, a: Buffer, b: Buffer, rows: int, cols: int) -> None:
        self.binary(BinaryOp.MUL, dst, a, b, rows, cols)

    def norm(self, kind: NormKind, dst: Buffer, src: Buffer, vectors: Buffer, rows: int, cols: int, eps: float) -> None:
        """Row norm with gamma in row 0 of `vectors` and beta (LayerNorm) in row 1."""
        self.lowering.emit(
            _VPU,
            VpuNorm(
                kind=kind,
                dst_addr=dst.addr,
                dst_stride=dst.stride,
                dst_dtype=dst.dtype,
                src_addr=src.addr,
                src_stride=src.stride,
                src_dtype=src.dtype,
                gamma_addr=vectors.at(0),
                beta_addr=vectors.at(1),
                rows=rows,
                cols=cols,
                eps=eps,
            ),
            reads=(_rows(src, rows, cols), vectors.span()),
            writes=(_rows(dst, rows, cols),),
        )

    def rope(
        self,
        x: Buffer,
        col: int,
        cols: int,
        rows: int,
        tables: tuple[Buffer, Buffer],
        head_dim: int,
        dst: Buffer | None = None,
    ) -> None:
        """Rotate-half RoPE of columns [col, col + cols) of fp32 `x`, in place or into `dst`."""
        cos, sin = tables
        window = x.window(col, col + cols)
        out = window if dst is None else dst
        self.lowering.emit(
            _VPU,
            VpuRope(
                dst_addr=out.addr,
                dst_stride=out.stride,
                dst_dtype=out.dtype,
                src_addr=window.addr,
                src_stride=window.stride,
                src_dtype=x.dtype,
                cos_addr=cos.addr,
                sin_addr=sin.addr,
                table_stride=cos.stride,
                rows=rows,
                cols=cols,
                head_dim=head_dim,
            ),
            reads=(_rows(window, rows, cols), cos.span(0, rows), sin.span(0, rows)),
            writes=(_rows(out, rows, cols),),
        )

    def transpose(self, dst: Buffer, src: Buffer, rows: int, cols: int) -> None:
        """dst[j, i] = src[i, j] for a rows x cols source."""
        self.lowering.emit(
            _VPU,
            VpuTranspose(
                dst_addr=dst.addr,
                dst_stride=dst.stride,
                src_addr=src.addr,
                src_stride=src.stride,
                dtype=src.dtype,
                rows=rows,
                cols=cols,
            ),
            reads=(_rows(src, rows, cols),),
            writes=(_rows(dst, cols, rows),),
        )

    def row_sum(self, dst: Buffer, src: Buffer, rows: int, cols: int) -> None:
        """dst[i] = sum of row i of src, left to right."""
        self.lowering.emit(
            _VPU,
            VpuReduce(
                op=ReduceOp.SUM,
                dst_addr=dst.addr,
                dst_stride=dst.stride,
                dst_dtype=dst.dtype,
                src_addr=src.addr,
                src_stride=src.stride,
                src_dtype=src.dtype,
                rows=rows,
                cols=cols,
            ),
            reads=(_rows(src, rows, cols),),
            writes=(_rows(dst, rows, 1),),
        )
