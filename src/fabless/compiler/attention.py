"""Lower one layer's attention: KV-cache writes, scores on the MXU, softmax on the VPU.

New keys and values are scattered into the HBM cache at run-time positions (an int32
vector the host writes), so one decode program serves every position of its context
bucket: attention runs over the bucket's `kv_len` keys and a causal mask row, gathered
by position, hides the ones not written yet. Grouped-query heads that share a KV head
multiply the same keys in one pass when a step has one token.

A prefill starts a sequence (positions 0 .. T-1), so which keys each query sees is known
when it compiles: query rows go in blocks, and a block skips the key tiles past its last
row's position (every key there is masked for every row of it). Skipping is exact: the
softmax of a row stops at a tile edge past its last visible key (the max and the left-to-
right sum only ever saw -inf and +0 beyond it), and the weighted sum drops whole K tiles
whose probabilities are all zero. When the context bucket is the prompt itself, keys and
values come straight from the new rows in SRAM (the bytes the cache gets), not back from
HBM. A prefill's cores each take a share of the query rows of every head, balanced by the
keys they see; decode steps share KV heads. Queries enter the MXU in the step's float
activation dtype (bf16 unless it computes in fp32, as the probabilities do): the RoPE
pass casts them and packs them at the start of each `qkv` row.

Units (a head's query rows, or a decode step's grouped heads) run as a software pipeline
over two score and probability slots: the next unit's KV loads and scores are emitted
before this unit's softmax and values, so the DMA queue, the MXUs and the VPU each work on
a different unit. Pipelining only reorders work: every score, softmax and weighted sum is
the same instruction on the same operands, so the results are the same bits.
"""

import math
from dataclasses import dataclass, replace

from fabless.compiler.context import DATA_QUEUE, Lowering
from fabless.compiler.cores import shares
from fabless.compiler.emitter import Span
from fabless.compiler.sram import Buffer, window_spans
from fabless.compiler.tiling import accumulator_rows
from fabless.isa import (
    BinaryOp,
    Broadcast,
    DmaScatter,
    Dtype,
    MxuGemm,
    MxuStore,
    ReduceOp,
    UnaryOp,
    VpuBinary,
    VpuReduce,
    VpuUnary,
)


@dataclass(frozen=True)
class AttentionScratch:
    """SRAM of the attention of every layer of one program."""

    keys: tuple[Buffer, ...]  # two [kv_len, head_dim] KV-dtype slots; none for encoders
    values: tuple[Buffer, ...]
    kv_new: Buffer | None  # [T, 2 kv_size] KV dtype: new keys and values cast for the cache
    scores: tuple[Buffer, Buffer]  # [R, kv_len] fp32
    probs: tuple[Buffer, Buffer]  # [R, kv_len] float activations
    row_max: Buffer  # [R, 1] fp32
    row_sum: Buffer  # [R, 1] fp32
    sqrt_d: Buffer  # [1, kv_len] fp32, every element sqrt(head_dim), or 1/sqrt(head_dim) if scaled_stores
    mask: Buffer | None  # [T, kv_len] fp32 rows of the causal mask at the step's positions
    positions: Buffer | None  # [T, 1] int32
    query_dtype: Dtype = Dtype.FP32
    """Roped queries, packed at the start of each `qkv` row: the MXU's float input dtype."""
    scaled_stores: bool = False
    """sqrt(head_dim) is a power of two, so the score stores multiply by its reciprocal
    (the same bits as dividing: both round the one exact quotient) and the VPU skips a pass."""


@dataclass(frozen=True)
class _Unit:
    """Query rows that share one KV head: their rows in `qkv`, scores and the output."""

    kv_head: int
    q_addr: int
    q_stride: int
    rows: int
    score_row: int
    out_addr: int
    out_stride: int
    keys: int
    """Keys the rows attend over: the context bucket, or fewer where causality hides the rest."""
    query_row: int = 0
    """The step's row of the first query: the row of the causal mask it adds."""


def lower_attention(
    lowering: Lowering,
    layer: int,
    qkv: Buffer,
    tokens: int,
    kv_len: int,
    out: Buffer,
    s: AttentionScratch,
    kv_heads: range | None = None,
    rows: tuple[int, int] | None = None,
) -> None:
    """out[rows, heads] = attention of the roped queries in `qkv` over `kv_len` keys.

    A decode step (one token) attends the query heads of `kv_heads` (default: all); a
    prefill or encode step attends query rows `rows` (default: all) of every head. Every
    core's `write_new_kv` must be emitted first: a core may read keys another wrote.
    """
    config = lowering.layout.config
    d, heads = config.head_dim, config.num_heads
    group = heads // config.num_kv_heads
    kv_heads = range(config.num_kv_heads) if kv_heads is None else kv_heads
    first, last = (0, tokens) if rows is None else rows
    direct = _direct(s, tokens, kv_len)
    if tokens == 1:
        item = s.query_dtype.itemsize
        units = [unit for unit in _decode_units(qkv, out, heads, group, d, kv_len, item) if unit.kv_head in kv_heads]
        # A core's units fill the score buffer from its first row.
        top = min((unit.score_row for unit in units), default=0)
        units = [replace(unit, score_row=unit.score_row - top) for unit in units]
        batches = [units] if units else []
    else:
        causal = s.mask is not None
        blocks = _query_blocks(lowering, first, last, kv_len, causal)
        batches = _prefill_batches(qkv, out, heads, group, d, blocks, s.scores[0].rows, s.query_dtype.itemsize)
    if not batches:
        return
    kv = _KvSlots(lowering, layer, qkv, tokens, kv_len, s, direct)
    mxus = _MxuPass(lowering)
    scale = s.sqrt_d if s.scaled_stores else None

    def scores_of(index: int) -> None:
        for unit in batches[index]:
            _scores(mxus, unit, kv.get(0, unit.kv_head), s.scores[index % 2], d, scale, s.query_dtype)
        mxus.flush()

    # Software-pipelined: batch b+1's keys and scores are emitted before batch b's softmax,
    # into the other slot, so the MXUs score the next unit while the VPU runs this one's
    # softmax, and the DMA queue loads ahead of both.
    scores_of(0)
    for index, batch in enumerate(batches):
        if index + 1 < len(batches):
            scores_of(index + 1)
        probs = s.probs[index % 2]
        _softmax(lowering, s.scores[index % 2], probs, batch, s, tokens)
        for unit in batch:
            _weighted_values(mxus, unit, probs, kv.get(1, unit.kv_head), d, out.dtype)
        mxus.flush()


def write_new_kv(
    lowering: Lowering,
    layer: int,
    qkv: Buffer,
    tokens: int,
    kv_len: int,
    s: AttentionScratch,
    kv_heads: range,
    rows: tuple[int, int],
) -> None:
    """Write the new keys and values of `kv_heads` to the HBM cache, and cast them for the
    cache on a core that attends a prefill's rows straight from SRAM."""
    if s.positions is not None and (kv_heads or (_direct(s, tokens, kv_len) and rows[1] > rows[0])):
        _write_cache(lowering, layer, qkv, tokens, s, kv_heads)


def _direct(s: AttentionScratch, tokens: int, kv_len: int) -> bool:
    """Whether a prefill's keys come straight from SRAM: the bucket holds exactly its rows."""
    return s.positions is not None and tokens > 1 and kv_len == tokens


def _query_blocks(lowering: Lowering, first: int, last: int, kv_len: int, causal: bool) -> list[tuple[int, int, int]]:
    """(start, rows, keys) of blocks of query rows [first, last) of a prefill or encode step.

    Blocks fit an MXU's accumulator and, when causal, end at tile edges so each attends up
    to the tile edge past its last row: a prefill's row r (position r) sees keys 0 .. r.
    """
    mxu = lowering.chip.core.matrix
    edge = math.lcm(mxu.rows, mxu.cols)
    capacity = accumulator_rows(lowering.chip)
    blocks = []
    r0 = first
    while r0 < last:
        r1 = min(last, r0 + capacity)
        if causal:
            r1 = min(r1, (r0 // edge + 1) * edge)
        keys = min(kv_len, -(-r1 // edge) * edge) if causal else kv_len
        blocks.append((r0, r1 - r0, keys))
        r0 = r1
    return blocks


def query_row_shares(chip_rows: int, chip_cols: int, tokens: int, kv_len: int, cores: int) -> list[tuple[int, int]]:
    """Each core's contiguous query rows of a causal prefill, balanced by the keys they see.

    Rows between two tile edges (a segment) attend the same keys, up to the later edge. With
    at least as many cores as segments, each segment gets cores in proportion to its keys
    and splits its rows evenly among them, so no core runs a second row block's passes;
    with fewer, cores take runs of whole segments of about equal keys.
    """
    edge = math.lcm(chip_rows, chip_cols)
    segments = [(r0, min(tokens, r0 + edge)) for r0 in range(0, tokens, edge)]
    work = [(r1 - r0) * min(kv_len, r1 if r1 % edge == 0 else r0 + edge) for r0, r1 in segments]
    total = sum(work)
    if cores >= len(segments):
        # Largest remainder, at least one core a segment.
        counts = [max(1, int(w * cores / total)) for w in work]
        while sum(counts) > cores:
            spare = [i for i in range(len(counts)) if counts[i] > 1]
            counts[min(spare, key=lambda i: work[i] / (counts[i] - 1))] -= 1
        while sum(counts) < cores:
            counts[max(range(len(counts)), key=lambda i: work[i] / counts[i])] += 1
        out = []
        for (r0, r1), count in zip(segments, counts, strict=True):
            out += [(r0 + a, r0 + b) for a, b in shares(r1 - r0, count)]
        return out
    bounds, done, index = [0], 0, 0
    for core in range(1, cores):
        while index < len(segments) and done + work[index] / 2 < total * core / cores:
            done += work[index]
            index += 1
        bounds.append(segments[index][0] if index < len(segments) else tokens)
    bounds.append(tokens)
    return [(bounds[c], bounds[c + 1]) for c in range(cores)]


class _KvSlots:
    """Each KV head's keys and values, loaded once into alternating slots."""

    def __init__(
        self,
        lowering: Lowering,
        layer: int,
        qkv: Buffer,
        tokens: int,
        kv_len: int,
        s: AttentionScratch,
        direct: bool,
    ) -> None:
        self.args = (lowering, layer, qkv, tokens, kv_len, s, direct)
        self.held: list[tuple[int, Buffer] | None] = [None, None]
        self.loads = [0, 0]

    def get(self, kv: int, kv_head: int) -> Buffer:
        """Keys (kv=0) or values (kv=1) of `kv_head`, loading them if the slot holds another head's."""
        held = self.held[kv]
        if held is None or held[0] != kv_head:
            lowering, layer, qkv, tokens, kv_len, s, direct = self.args
            loads = self.loads[kv]
            held = (kv_head, _cached(lowering, layer, kv, kv_head, qkv, tokens, kv_len, s, loads, direct))
            self.held[kv] = held
            self.loads[kv] += 1
        return held[1]


class _MxuPass:
    """Gemms dealt round the MXUs, each into its own accumulator rows, with the stores held
    back until the pass ends or an accumulator is full: an array then streams its next gemm
    instead of draining before every store."""

    def __init__(self, lowering: Lowering) -> None:
        self.lowering = lowering
        self.capacity = accumulator_rows(lowering.chip)
        self.used: dict[str, int] = {}
        self.stores: dict[str, list[tuple[MxuStore, tuple[Span, ...]]]] = {}

    def gemm(self, gemm: MxuGemm, reads: tuple[Span, ...], store: MxuStore, writes: tuple[Span, ...]) -> None:
        mxu = self.lowering.next_mxu()
        row = self.used.get(mxu, 0)
        if row + gemm.m > self.capacity:
            self._flush(mxu)
            row = 0
        self.lowering.emit(mxu, replace(gemm, acc_row=row), reads=reads)
        self.stores.setdefault(mxu, []).append((replace(store, acc_row=row), writes))
        self.used[mxu] = row + gemm.m

    def flush(self) -> None:
        for mxu in list(self.stores):
            self._flush(mxu)

    def _flush(self, mxu: str) -> None:
        for store, writes in self.stores.pop(mxu, ()):
            self.lowering.emit(mxu, store, writes=writes)
        self.used[mxu] = 0


def _decode_units(qkv: Buffer, out: Buffer, heads: int, group: int, d: int, kv_len: int, q_item: int) -> list[_Unit]:
    """One token: the `group` query heads of a KV head are adjacent rows of head_dim."""
    item, q_addr = out.dtype.itemsize, qkv.addr
    return [
        _Unit(
            g, q_addr + g * group * d * q_item, d * q_item, group, g * group, out.at(0, g * group * d), d * item, kv_len
        )
        for g in range(heads // group)
    ]


def _prefill_batches(
    qkv: Buffer,
    out: Buffer,
    heads: int,
    group: int,
    d: int,
    blocks: list[tuple[int, int, int]],
    capacity: int,
    q_item: int,
) -> list[list[_Unit]]:
    """A row block of the query heads of one KV head per batch (as many as the score rows
    hold), KV head by KV head so each one's keys load once; a batch's units stack their
    rows in the score slot, and its scores, softmax and values each run as one pass."""
    batches = []
    for g in range(heads // group):
        for r0, rows, keys in blocks:
            per_batch = max(1, capacity // rows)
            for h0 in range(g * group, (g + 1) * group, per_batch):
                batches.append(
                    [
                        _Unit(
                            g,
                            qkv.at(r0) + h * d * q_item,
                            qkv.stride,
                            rows,
                            (h - h0) * rows,
                            out.at(r0, h * d),
                            out.stride,
                            keys,
                            r0,
                        )
                        for h in range(h0, min(h0 + per_batch, (g + 1) * group))
                    ]
                )
    return batches


def _write_cache(
    lowering: Lowering, layer: int, qkv: Buffer, tokens: int, s: AttentionScratch, kv_heads: range
) -> None:
    layout, config = lowering.layout, lowering.layout.config
    d, kv_size, q_size = config.head_dim, config.kv_size, config.q_size
    source = qkv
    if s.kv_new is not None:
        lowering.emit(
            "vpu",
            VpuUnary(
                op=UnaryOp.COPY,
                dst_addr=s.kv_new.addr,
                dst_stride=s.kv_new.stride,
                dst_dtype=s.kv_new.dtype,
                src_addr=qkv.at(0, q_size),
                src_stride=qkv.stride,
                src_dtype=qkv.dtype,
                rows=tokens,
                cols=2 * kv_size,
            ),
            reads=(qkv.span(0, tokens),),
            writes=(s.kv_new.span(0, tokens),),
        )
        source, first_col = s.kv_new, 0
    else:
        first_col = q_size
    assert s.positions is not None
    item = source.dtype.itemsize
    for kv in (0, 1):
        for g in kv_heads:
            start = layout.kv_offset(layer, kv, g, 0)
            end = layout.kv_offset(layer, kv, g, layout.max_context)
            col = first_col + kv * kv_size + g * d
            lowering.emit(
                DATA_QUEUE,
                DmaScatter(
                    index_addr=s.positions.addr,
                    count=tokens,
                    table_addr=start,
                    table_stride=d * item,
                    row_bytes=d * item,
                    sram_addr=source.at(0, col),
                    sram_stride=source.stride,
                ),
                reads=(s.positions.span(0, tokens), source.span(0, tokens)),
                writes=(("hbm", start, end),),
            )


def _cached(
    lowering: Lowering,
    layer: int,
    kv: int,
    kv_head: int,
    qkv: Buffer,
    tokens: int,
    kv_len: int,
    s: AttentionScratch,
    loads: int,
    direct: bool,
) -> Buffer:
    """A head's keys (kv=0) or values [kv_len, head_dim]: from the HBM cache, or from the
    new rows in SRAM (`qkv`, or their cast for the cache) when they are all the keys."""
    layout, config = lowering.layout, lowering.layout.config
    d = config.head_dim
    name = "keys" if kv == 0 else "values"
    if s.positions is None or (direct and s.kv_new is None):
        col = config.q_size + kv * config.kv_size + kv_head * d
        return Buffer(name, qkv.at(0, col), tokens, d, qkv.dtype, qkv.stride)
    if direct:
        new = s.kv_new
        assert new is not None
        return Buffer(name, new.at(0, kv * config.kv_size + kv_head * d), tokens, d, new.dtype, new.stride)
    region = layout["kv_cache"]
    buffer = (s.keys if kv == 0 else s.values)[loads % 2]
    offset = layout.kv_offset(layer, kv, kv_head, 0) - region.offset
    lowering.load(region, buffer, hbm_offset=offset, rows=1, row_bytes=kv_len * buffer.stride)
    return buffer


def _row_blocks(lowering: Lowering, rows: int) -> list[tuple[int, int]]:
    """Query rows in blocks that fit an MXU's accumulator."""
    block = accumulator_rows(lowering.chip)
    return [(r0, min(block, rows - r0)) for r0 in range(0, rows, block)]


def _scores(
    mxus: _MxuPass, unit: _Unit, keys: Buffer, scores: Buffer, d: int, scale: Buffer | None, x_dtype: Dtype
) -> None:
    """Scores of `unit` against its keys; `scale`: the reciprocal of sqrt(head_dim) to store them by."""
    cols = mxus.lowering.chip.core.matrix.cols
    for c0 in range(0, unit.keys, cols):
        width = min(cols, unit.keys - c0)
        for r0, rows in _row_blocks(mxus.lowering, unit.rows):
            q_addr = unit.q_addr + r0 * unit.q_stride
            row = unit.score_row + r0
            mxus.gemm(
                MxuGemm(
                    x_addr=q_addr,
                    x_stride=unit.q_stride,
                    w_addr=keys.at(c0),
                    w_stride=keys.stride,
                    m=rows,
                    k=d,
                    n=width,
                    x_dtype=x_dtype,
                    w_dtype=keys.dtype,
                    acc_row=0,
                    transposed=1,
                ),
                (
                    ("sram", q_addr, q_addr + (rows - 1) * unit.q_stride + x_dtype.itemsize * d),
                    ("sram", keys.at(c0), keys.at(c0 + width - 1) + d * keys.dtype.itemsize),
                ),
                MxuStore(
                    acc_row=0,
                    m=rows,
                    n=width,
                    acc_dtype=Dtype.FP32,
                    out_addr=scores.at(row, c0),
                    out_stride=scores.stride,
                    out_dtype=Dtype.FP32,
                    col_scale_addr=scale.addr if scale else 0,
                    use_col_scale=int(scale is not None),
                ),
                window_spans(scores.at(row, c0), rows, scores.stride, 4 * width),
            )


def _softmax(
    lowering: Lowering, scores: Buffer, probs: Buffer, batch: list[_Unit], s: AttentionScratch, tokens: int
) -> None:
    """Softmax of the batch's score rows (stacked from its first unit's) over their keys, into `probs`."""
    row, rows, kv_len = batch[0].score_row, sum(unit.rows for unit in batch), batch[0].keys

    def rows_of(buffer: Buffer, first: int = row) -> Buffer:
        return Buffer(buffer.name, buffer.at(first), rows, buffer.cols, buffer.dtype, buffer.stride)

    scores, probs = rows_of(scores), rows_of(probs)
    row_max, row_sum = rows_of(s.row_max), rows_of(s.row_sum)

    def binary(
        op: BinaryOp, dst: Buffer, a: Buffer, b: Buffer, broadcast: Broadcast, b_stride: int, count: int = rows
    ) -> None:
        b_rows = 1 if broadcast is Broadcast.ROW else count
        b_end = b.addr + (b_rows - 1) * b_stride + (4 if broadcast is Broadcast.COL else b.stride)
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
                b_stride=b_stride,
                b_dtype=b.dtype,
                broadcast=broadcast,
                rows=count,
                cols=kv_len,
            ),
            reads=(a.span(0, count), ("sram", b.addr, b_end)),
            writes=(dst.span(0, count),),
        )

    def reduce(op: ReduceOp, dst: Buffer) -> None:
        lowering.emit(
            "vpu",
            VpuReduce(
                op=op,
                dst_addr=dst.addr,
                dst_stride=4,
                dst_dtype=Dtype.FP32,
                src_addr=scores.addr,
                src_stride=scores.stride,
                src_dtype=Dtype.FP32,
                rows=rows,
                cols=kv_len,
            ),
            reads=(scores.span(0, rows),),
            writes=(dst.span(0, rows),),
        )

    if not s.scaled_stores:
        binary(BinaryOp.DIV, scores, scores, s.sqrt_d, Broadcast.ROW, 0)
    if s.mask is not None:
        if tokens == 1:
            binary(BinaryOp.ADD, scores, scores, s.mask, Broadcast.ROW, 0)
        else:
            # Each unit's rows add the mask rows of its own positions.
            for unit in batch:
                mine = rows_of(scores, unit.score_row)
                mask = rows_of(s.mask, unit.query_row)
                binary(BinaryOp.ADD, mine, mine, mask, Broadcast.NONE, mask.stride, unit.rows)
    reduce(ReduceOp.MAX, row_max)
    binary(BinaryOp.SUB, scores, scores, row_max, Broadcast.COL, 4)
    lowering.emit(
        "vpu",
        VpuUnary(
            op=UnaryOp.EXP,
            dst_addr=scores.addr,
            dst_stride=scores.stride,
            dst_dtype=Dtype.FP32,
            src_addr=scores.addr,
            src_stride=scores.stride,
            src_dtype=Dtype.FP32,
            rows=rows,
            cols=kv_len,
        ),
        reads=(scores.span(0, rows),),
        writes=(scores.span(0, rows),),
    )
    reduce(ReduceOp.SUM, row_sum)
    binary(BinaryOp.DIV, probs, scores, row_sum, Broadcast.COL, 4)


def _weighted_values(mxus: _MxuPass, unit: _Unit, probs: Buffer, values: Buffer, d: int, out_dtype: Dtype) -> None:
    kv_len = unit.keys
    cols = mxus.lowering.chip.core.matrix.cols
    for c0 in range(0, d, cols):
        width = min(cols, d - c0)
        for r0, rows in _row_blocks(mxus.lowering, unit.rows):
            row = unit.score_row + r0
            out_addr = unit.out_addr + r0 * unit.out_stride + c0 * out_dtype.itemsize
            mxus.gemm(
                MxuGemm(
                    x_addr=probs.at(row),
                    x_stride=probs.stride,
                    w_addr=values.at(0, c0),
                    w_stride=values.stride,
                    m=rows,
                    k=kv_len,
                    n=width,
                    x_dtype=probs.dtype,
                    w_dtype=values.dtype,
                    acc_row=0,
                ),
                (probs.span(row, rows), ("sram", values.addr, values.at(kv_len - 1, d))),
                MxuStore(
                    acc_row=0,
                    m=rows,
                    n=width,
                    acc_dtype=Dtype.FP32,
                    out_addr=out_addr,
                    out_stride=unit.out_stride,
                    out_dtype=out_dtype,
                ),
                window_spans(out_addr, rows, unit.out_stride, width * out_dtype.itemsize),
            )
