"""The instruction set: one frozen dataclass per opcode. Semantics are in docs/isa.md.

Addresses are bytes (HBM and SRAM) or accumulator rows; strides are bytes between the
starts of consecutive rows; counts are elements unless the name says bytes.
"""

from fabless.isa.dtypes import BinaryOp, Broadcast, Dtype, NormKind, ReduceOp, UnaryOp
from fabless.isa.fields import Instruction, enum, f32, instruction, u

HBM_ADDR_BITS = 40
SRAM_ADDR_BITS = 28
SRAM_STRIDE_BITS = 24
ACC_ROW_BITS = 20
SEM_BITS = 16


# Synchronisation: any engine.


@instruction(0x00, "halt", "any")
class Halt(Instruction):
    """End of this stream (a stream also ends after its last instruction)."""


@instruction(0x01, "sem.signal", "any")
class SemSignal(Instruction):
    """semaphore[sem] += count."""

    sem: int = u(SEM_BITS)
    count: int = u(16, default=1, minimum=1)


@instruction(0x02, "sem.wait", "any")
class SemWait(Instruction):
    """Block until semaphore[sem] >= count, then semaphore[sem] -= count."""

    sem: int = u(SEM_BITS)
    count: int = u(16, default=1, minimum=1)


# DMA engines: byte copies, so they carry no dtype.


@instruction(0x10, "dma.load", "dma")
class DmaLoad(Instruction):
    """HBM -> this core's SRAM: `rows` rows of `row_bytes` bytes, each side with its stride."""

    hbm_addr: int = u(HBM_ADDR_BITS)
    sram_addr: int = u(SRAM_ADDR_BITS)
    rows: int = u(20, minimum=1)
    row_bytes: int = u(24, minimum=1)
    hbm_stride: int = u(HBM_ADDR_BITS)
    sram_stride: int = u(SRAM_STRIDE_BITS)


@instruction(0x11, "dma.store", "dma")
class DmaStore(Instruction):
    """This core's SRAM -> HBM: `rows` rows of `row_bytes` bytes, each side with its stride."""

    sram_addr: int = u(SRAM_ADDR_BITS)
    hbm_addr: int = u(HBM_ADDR_BITS)
    rows: int = u(20, minimum=1)
    row_bytes: int = u(24, minimum=1)
    sram_stride: int = u(SRAM_STRIDE_BITS)
    hbm_stride: int = u(HBM_ADDR_BITS)


@instruction(0x12, "dma.gather", "dma")
class DmaGather(Instruction):
    """For i < count: SRAM[sram_addr + i*sram_stride] <- HBM row number index[i] of a table.

    index[i] is the int32 at SRAM[index_addr + 4*i], read when the instruction runs;
    the row starts at table_addr + index[i]*table_stride (an embedding lookup).
    """

    index_addr: int = u(SRAM_ADDR_BITS)
    count: int = u(20, minimum=1)
    table_addr: int = u(HBM_ADDR_BITS)
    table_stride: int = u(HBM_ADDR_BITS)
    row_bytes: int = u(24, minimum=1)
    sram_addr: int = u(SRAM_ADDR_BITS)
    sram_stride: int = u(SRAM_STRIDE_BITS)


@instruction(0x13, "dma.scatter", "dma")
class DmaScatter(Instruction):
    """For i < count: HBM row number index[i] of a table <- SRAM[sram_addr + i*sram_stride].

    The inverse of `dma.gather` (a KV-cache write at run-time positions).
    """

    index_addr: int = u(SRAM_ADDR_BITS)
    count: int = u(20, minimum=1)
    table_addr: int = u(HBM_ADDR_BITS)
    table_stride: int = u(HBM_ADDR_BITS)
    row_bytes: int = u(24, minimum=1)
    sram_addr: int = u(SRAM_ADDR_BITS)
    sram_stride: int = u(SRAM_STRIDE_BITS)


@instruction(0x18, "link.send", "dma")
class LinkSend(Instruction):
    """This core's SRAM -> the HBM of the chip at the far end of `link`, then signal its
    semaphore `remote_sem` once (a one-sided put). Needs a multi-chip simulation."""

    link: int = u(8)
    sram_addr: int = u(SRAM_ADDR_BITS)
    remote_hbm_addr: int = u(HBM_ADDR_BITS)
    rows: int = u(20, minimum=1)
    row_bytes: int = u(24, minimum=1)
    sram_stride: int = u(SRAM_STRIDE_BITS)
    hbm_stride: int = u(HBM_ADDR_BITS)
    remote_sem: int = u(SEM_BITS)


# Matrix units (weight-stationary, rows = K x cols = N).


@instruction(0x20, "mxu.ldw", "mxu")
class MxuLoadWeights(Instruction):
    """Load the weight tile W[k, n] (k <= rows, n <= cols) from SRAM into this MXU.

    Row i of W starts at w_addr + i*w_stride. With transposed=1, SRAM holds W^T instead:
    row j (j < n) of n rows of k elements starts at w_addr + j*w_stride.
    """

    w_addr: int = u(SRAM_ADDR_BITS)
    w_stride: int = u(SRAM_STRIDE_BITS)
    k: int = u(16, minimum=1)
    n: int = u(16, minimum=1)
    dtype: Dtype = enum(Dtype)
    transposed: int = u(1, default=0)


@instruction(0x21, "mxu.matmul", "mxu")
class MxuMatmul(Instruction):
    """Stream X[m, k] from SRAM through the loaded weights: acc[acc_row + i, j] (+)= (X @ W)[i, j].

    k must equal the loaded tile's k; accumulate=0 overwrites, 1 adds.
    """

    x_addr: int = u(SRAM_ADDR_BITS)
    x_stride: int = u(SRAM_STRIDE_BITS)
    m: int = u(16, minimum=1)
    k: int = u(16, minimum=1)
    x_dtype: Dtype = enum(Dtype)
    acc_row: int = u(ACC_ROW_BITS)
    accumulate: int = u(1, default=0)


@instruction(0x22, "mxu.gemm", "mxu")
class MxuGemm(Instruction):
    """X[m, k] @ W[k, n] for any k and n <= cols: `mxu.ldw` + `mxu.matmul` over k in chunks
    of the MXU's rows, in order, the first chunk honouring `accumulate`, the rest adding."""

    x_addr: int = u(SRAM_ADDR_BITS)
    x_stride: int = u(SRAM_STRIDE_BITS)
    w_addr: int = u(SRAM_ADDR_BITS)
    w_stride: int = u(SRAM_STRIDE_BITS)
    m: int = u(16, minimum=1)
    k: int = u(20, minimum=1)
    n: int = u(16, minimum=1)
    x_dtype: Dtype = enum(Dtype)
    w_dtype: Dtype = enum(Dtype)
    acc_row: int = u(ACC_ROW_BITS)
    accumulate: int = u(1, default=0)
    transposed: int = u(1, default=0)


@instruction(0x23, "mxu.store", "mxu")
class MxuStore(Instruction):
    """Accumulator rows -> SRAM: out[i, j] = cast(acc[acc_row + i, j] * col_scale[j] * row_scale[i]).

    acc_dtype (fp32 or int32) says how to read the accumulator words; the scales are fp32
    vectors in SRAM, used only when use_col_scale / use_row_scale is 1.
    """

    acc_row: int = u(ACC_ROW_BITS)
    m: int = u(16, minimum=1)
    n: int = u(16, minimum=1)
    acc_dtype: Dtype = enum(Dtype)
    out_addr: int = u(SRAM_ADDR_BITS)
    out_stride: int = u(SRAM_STRIDE_BITS)
    out_dtype: Dtype = enum(Dtype)
    col_scale_addr: int = u(SRAM_ADDR_BITS, default=0)
    row_scale_addr: int = u(SRAM_ADDR_BITS, default=0)
    use_col_scale: int = u(1, default=0)
    use_row_scale: int = u(1, default=0)


# Vector unit: tiles of rows x cols elements in this core's SRAM, fp32 math inside.


@instruction(0x30, "vpu.unary", "vpu")
class VpuUnary(Instruction):
    """dst[i, j] = cast(op(src[i, j])); copy with different dtypes is a cast."""

    op: UnaryOp = enum(UnaryOp, bits=8)
    dst_addr: int = u(SRAM_ADDR_BITS)
    dst_stride: int = u(SRAM_STRIDE_BITS)
    dst_dtype: Dtype = enum(Dtype)
    src_addr: int = u(SRAM_ADDR_BITS)
    src_stride: int = u(SRAM_STRIDE_BITS)
    src_dtype: Dtype = enum(Dtype)
    rows: int = u(16, minimum=1)
    cols: int = u(20, minimum=1)
    imm: float = f32()


@instruction(0x31, "vpu.binary", "vpu")
class VpuBinary(Instruction):
    """dst[i, j] = cast(op(a[i, j], b')), b' = b[i, j], b[0, j] (row) or b[i, 0] (col)."""

    op: BinaryOp = enum(BinaryOp, bits=8)
    dst_addr: int = u(SRAM_ADDR_BITS)
    dst_stride: int = u(SRAM_STRIDE_BITS)
    dst_dtype: Dtype = enum(Dtype)
    a_addr: int = u(SRAM_ADDR_BITS)
    a_stride: int = u(SRAM_STRIDE_BITS)
    a_dtype: Dtype = enum(Dtype)
    b_addr: int = u(SRAM_ADDR_BITS)
    b_stride: int = u(SRAM_STRIDE_BITS)
    b_dtype: Dtype = enum(Dtype)
    broadcast: Broadcast = enum(Broadcast, bits=2, default=Broadcast.NONE)
    rows: int = u(16, minimum=1)
    cols: int = u(20, minimum=1)


@instruction(0x32, "vpu.reduce", "vpu")
class VpuReduce(Instruction):
    """dst[i] = reduce_j src[i, j], dst[i] at dst_addr + i*dst_stride (a column)."""

    op: ReduceOp = enum(ReduceOp, bits=8)
    dst_addr: int = u(SRAM_ADDR_BITS)
    dst_stride: int = u(SRAM_STRIDE_BITS)
    dst_dtype: Dtype = enum(Dtype)
    src_addr: int = u(SRAM_ADDR_BITS)
    src_stride: int = u(SRAM_STRIDE_BITS)
    src_dtype: Dtype = enum(Dtype)
    rows: int = u(16, minimum=1)
    cols: int = u(20, minimum=1)


@instruction(0x33, "vpu.norm", "vpu")
class VpuNorm(Instruction):
    """Row-wise RMSNorm or LayerNorm with fp32 gamma (and beta, LayerNorm) vectors of cols."""

    kind: NormKind = enum(NormKind, bits=1)
    dst_addr: int = u(SRAM_ADDR_BITS)
    dst_stride: int = u(SRAM_STRIDE_BITS)
    dst_dtype: Dtype = enum(Dtype)
    src_addr: int = u(SRAM_ADDR_BITS)
    src_stride: int = u(SRAM_STRIDE_BITS)
    src_dtype: Dtype = enum(Dtype)
    gamma_addr: int = u(SRAM_ADDR_BITS)
    beta_addr: int = u(SRAM_ADDR_BITS, default=0)
    rows: int = u(16, minimum=1)
    cols: int = u(16, minimum=1)
    eps: float = f32()


@instruction(0x34, "vpu.rope", "vpu")
class VpuRope(Instruction):
    """Rotate-half RoPE on each head_dim slice of every row with fp32 cos/sin tables.

    Row i's tables are cos[i, :head_dim] at cos_addr + i*table_stride and likewise sin.
    """

    dst_addr: int = u(SRAM_ADDR_BITS)
    dst_stride: int = u(SRAM_STRIDE_BITS)
    dst_dtype: Dtype = enum(Dtype)
    src_addr: int = u(SRAM_ADDR_BITS)
    src_stride: int = u(SRAM_STRIDE_BITS)
    src_dtype: Dtype = enum(Dtype)
    cos_addr: int = u(SRAM_ADDR_BITS)
    sin_addr: int = u(SRAM_ADDR_BITS)
    table_stride: int = u(SRAM_STRIDE_BITS)
    rows: int = u(16, minimum=1)
    cols: int = u(16, minimum=1)
    head_dim: int = u(16, minimum=2)


@instruction(0x35, "vpu.transpose", "vpu")
class VpuTranspose(Instruction):
    """dst[j, i] = src[i, j] for a rows x cols src tile (bits copied, no cast)."""

    dst_addr: int = u(SRAM_ADDR_BITS)
    dst_stride: int = u(SRAM_STRIDE_BITS)
    src_addr: int = u(SRAM_ADDR_BITS)
    src_stride: int = u(SRAM_STRIDE_BITS)
    dtype: Dtype = enum(Dtype)
    rows: int = u(16, minimum=1)
    cols: int = u(16, minimum=1)


@instruction(0x36, "vpu.fill", "vpu")
class VpuFill(Instruction):
    """dst[i, j] = cast(imm)."""

    dst_addr: int = u(SRAM_ADDR_BITS)
    dst_stride: int = u(SRAM_STRIDE_BITS)
    dst_dtype: Dtype = enum(Dtype)
    rows: int = u(16, minimum=1)
    cols: int = u(20, minimum=1)
    imm: float = f32()
