"""Compile one step's graph into an ISA program spread over the cores of a systolic chip.

A step keeps every activation in SRAM from the embedding to the logits, so the only HBM
traffic is weights (streamed tile by tile, double-buffered), the KV cache and the host's
inputs and outputs. That is the fusion: norms feed the next matmul's input in place, Q,
K and V share one activation read (one fused weight), SiLU-mul runs on the VPU between
gate/up and down, and residual adds consume matmul outputs straight from SRAM.

Each core computes a contiguous share of every projection's output channels and of the
attention (KV heads in a decode step, query rows of every head in a prefill), and the
shares meet in HBM where whole rows are needed (`cores.py`).

Programs need shapes only: `compile_graph` reads the layout's addresses, never weight
values, so the cycle-level simulator can compile for timing without a checkpoint.
"""

import math
from collections.abc import Iterator

from fabless.chip.spec import ChipSpec
from fabless.compiler.attention import AttentionScratch, lower_attention, query_row_shares, write_new_kv
from fabless.compiler.context import DATA_QUEUE, DTYPES, Lowering
from fabless.compiler.cores import all_gather, all_gather_rows, shares
from fabless.compiler.layout import HbmLayout, Region, global_linears, layer_linears
from fabless.compiler.matmul import MatmulScratch, lower_linear, merge_columns, plan_linear
from fabless.compiler.sram import Buffer, SramPlan
from fabless.compiler.vpu import VectorOps
from fabless.errors import FablessError
from fabless.graph.ops import Graph
from fabless.isa import DmaGather, Dtype, NormKind, Program, UnaryOp

_SUPPORTED_OPS = {
    "embed",
    "embed_norm",
    "attn_norm",
    "q_proj",
    "k_proj",
    "v_proj",
    "rope",
    "kv_write",
    "attention",
    "o_proj",
    "attn_residual",
    "attn_out_norm",
    "mlp_norm",
    "gate_proj",
    "up_proj",
    "silu_mul",
    "gelu",
    "down_proj",
    "mlp_residual",
    "mlp_out_norm",
    "final_norm",
    "lm_head",
}


_HEAD = ("embed", "embed_norm")
_TAIL = ("final_norm", "lm_head")


def context_bucket(chip: ChipSpec, kv_len: int, max_context: int) -> int:
    """Keys a step attends over: `kv_len` rounded up to MXU columns, so decode programs are reused."""
    cols = chip.core.matrix.cols
    return min(max_context, math.ceil(kv_len / cols) * cols)


def compile_graph(chip: ChipSpec, graph: Graph, layout: HbmLayout, cores: int | None = None) -> Program:
    """The program of one step (`prefill`, `decode` or `encode`) of batch 1 on `cores` cores.

    `cores` defaults to all of the chip's; every number of cores computes the same bits.

    Inputs it reads from HBM: `io.tokens` (and `io.positions` for causal models: the
    position of each token, which also selects its KV-cache row and mask row). Outputs:
    `io.logits` of the last token (decoders) or `io.pooled`, the mean of the last hidden
    states over the tokens (encoders).
    """
    config = layout.config
    if chip.family != "systolic":
        raise FablessError(f"chip {chip.name} is a {chip.family} chip: the compiler targets systolic chips")
    cores = chip.cores if cores is None else cores
    if not 1 <= cores <= chip.cores:
        raise FablessError(f"chip {chip.name} has {chip.cores} cores: a program can use 1..{chip.cores} (got {cores})")
    if graph.batch != 1:
        raise FablessError(f"the compiler runs batch 1 (got {graph.batch}); compile one program per sequence")
    for op in graph.ops:
        if op.name not in _SUPPORTED_OPS:
            raise FablessError(
                f"model {graph.model}: op {op.name} ({type(op).__name__}) is not supported by the "
                "compiler; it runs dense Llama- and BERT-style models"
            )
    if graph.kv_len > layout.max_context:
        raise FablessError(
            f"a {graph.phase} step over {graph.kv_len} tokens exceeds the layout's max context "
            f"{layout.max_context}; plan the layout with a larger max_context"
        )
    tokens = graph.q_len
    cached = graph.phase != "encode"
    kv_len = context_bucket(chip, graph.kv_len, layout.max_context) if cached else tokens
    sram = SramPlan(chip, f"{graph.phase} step of {tokens} tokens for {config.name}")
    step = _Step(Lowering(chip, layout, sram, cores), graph, tokens, kv_len, cached)
    step.emit()
    return step.lowering.emitter.build()


def _power_of_four(n: int) -> bool:
    """Whether sqrt(n) is a power of two."""
    return n > 0 and n & (n - 1) == 0 and (n.bit_length() - 1) % 2 == 0


class _Step:
    def __init__(self, lowering: Lowering, graph: Graph, tokens: int, kv_len: int, cached: bool) -> None:
        self.lowering = lowering
        self.graph = graph
        self.tokens = tokens
        self.kv_len = kv_len
        config = lowering.layout.config
        self.config = config
        numerics = lowering.layout.numerics
        self.mxu_in = DTYPES[numerics.activations] if numerics.activations != "int16" else Dtype.FP32
        sram, t, h = lowering.sram, tokens, config.hidden_size
        q, kv, f = config.q_size, config.kv_size, config.intermediate_size
        self.vpu = VectorOps(lowering)
        self.ids = sram.alloc("tokens", t, 1, Dtype.INT32)
        self.positions = sram.alloc("positions", t, 1, Dtype.INT32) if cached else None
        self.x = sram.alloc("x", t, h, Dtype.FP32)
        self.xn = sram.alloc("normed", t, h, self.mxu_in)
        # int8 matmuls park their low slice's products in a second set of output rows.
        out_rows = 2 if numerics.weights == "int8" else 1
        self.qkv = sram.alloc("qkv", out_rows * t, q + 2 * kv, Dtype.FP32)
        self.attn = sram.alloc("attention", t, q, self.mxu_in)
        self.proj = sram.alloc("projection", out_rows * t, h, Dtype.FP32)
        self.hidden = sram.alloc("mlp_hidden", out_rows * t, 2 * f if config.gated_mlp else f, Dtype.FP32)
        self.mlp = sram.alloc("mlp", t, f, self.mxu_in)
        self.norm_vectors = (sram.alloc("norm_a", 2, h, Dtype.FP32), sram.alloc("norm_b", 2, h, Dtype.FP32))
        self.norms = 0
        self.gathers = 0
        blocks = lowering.chip.core.matrix.cols
        self.hidden_shares = shares(h, lowering.cores, blocks)
        self.mlp_shares = shares(f, lowering.cores, blocks)
        self.head_shares = shares(config.num_kv_heads, lowering.cores)
        # A prefill or encode step shares attention by query rows, so every core works
        # whatever the number of KV heads; a causal prefill balances the keys rows see.
        mxu = lowering.chip.core.matrix
        self.row_shares = (
            query_row_shares(mxu.rows, mxu.cols, t, kv_len, lowering.cores)
            if cached and config.causal
            else shares(t, lowering.cores)
        )
        self.rope = None
        if config.position == "rope":
            self.rope = (
                sram.alloc("cos", t, config.head_dim, Dtype.FP32),
                sram.alloc("sin", t, config.head_dim, Dtype.FP32),
            )
        self.attention = self._attention_scratch(cached)
        self.final = sram.alloc("final", 1, h, self.mxu_in) if config.family == "llama" else None
        self.logits = sram.alloc("logits", out_rows, config.vocab_size, Dtype.FP32) if self.final else None
        self.pooled = (
            None if self.final else (sram.alloc("transposed", h, t, Dtype.FP32), sram.alloc("pooled", h, 1, Dtype.FP32))
        )
        self.matmul = self._matmul_scratch()
        self._weight_ring()

    def _attention_scratch(self, cached: bool) -> AttentionScratch:
        sram, c, t, kv_len = self.lowering.sram, self.config, self.tokens, self.kv_len
        numerics = self.lowering.layout.numerics
        kv_dtype = DTYPES[numerics.kv_cache]
        p_dtype = DTYPES[numerics.float_activations]
        rows = c.num_heads if t == 1 else t
        slots = {
            name: tuple(sram.alloc(f"{name}{i}", kv_len, c.head_dim, kv_dtype) for i in range(2)) if cached else ()
            for name in ("keys", "values")
        }
        return AttentionScratch(
            keys=slots["keys"],
            values=slots["values"],
            kv_new=sram.alloc("kv_new", t, 2 * c.kv_size, kv_dtype) if cached and kv_dtype is not Dtype.FP32 else None,
            scores=(sram.alloc("scores0", rows, kv_len, Dtype.FP32), sram.alloc("scores1", rows, kv_len, Dtype.FP32)),
            probs=(sram.alloc("probs0", rows, kv_len, p_dtype), sram.alloc("probs1", rows, kv_len, p_dtype)),
            row_max=sram.alloc("row_max", rows, 1, Dtype.FP32),
            row_sum=sram.alloc("row_sum", rows, 1, Dtype.FP32),
            sqrt_d=sram.alloc("sqrt_head_dim", 1, kv_len, Dtype.FP32),
            mask=sram.alloc("mask", t, kv_len, Dtype.FP32) if cached and c.causal else None,
            positions=self.positions,
            query_dtype=p_dtype if c.position == "rope" else Dtype.FP32,
            scaled_stores=_power_of_four(c.head_dim),
        )

    def _linears(self) -> list[tuple[str, int, int, int]]:
        """(name, m, k, n) of every projection the step runs."""
        out = []
        for layer in range(self.config.num_layers):
            out += [(lin.name, self.tokens, lin.k, lin.n) for lin in layer_linears(self.config, layer)]
        out += [(lin.name, 1, lin.k, lin.n) for lin in global_linears(self.config)]
        return out

    def _columns(self, name: str, n: int) -> list[tuple[tuple[int, int], ...]]:
        """Each core's output-channel ranges of projection `name` (n channels).

        Gate and up share the core's slice of the intermediate size, so SiLU-mul needs
        nothing from other cores.
        """
        if name.endswith("gate_up"):
            f = self.config.intermediate_size
            return [merge_columns(((a, b), (f + a, f + b))) for a, b in self.mlp_shares]
        if name.endswith((".o", ".down")):
            return [(share,) for share in self.hidden_shares]
        return [(share,) for share in shares(n, self.lowering.cores, self.lowering.chip.core.matrix.cols)]

    def _matmul_scratch(self) -> MatmulScratch:
        sram = self.lowering.sram
        linears = self._linears()
        n_max = max(n for _, _, _, n in linears)
        integer = self.lowering.layout.numerics.weights == "int8"
        vectors = (sram.alloc("vectors_a", 2, n_max, Dtype.FP32), sram.alloc("vectors_b", 2, n_max, Dtype.FP32))
        if not integer:
            return MatmulScratch(0, 0, Buffer("row_scales", 0, 1, 1, Dtype.FP32), vectors)
        mk = max(m * k for _, m, k, _ in linears)
        return MatmulScratch(
            slices_addr=sram.alloc("slices", 2 * mk, 1, Dtype.INT8).addr,
            scaled_addr=sram.alloc("scaled", 2 * mk, 1, Dtype.FP32).addr,
            row_scales=sram.alloc("row_scales", 2 * self.tokens, 1, Dtype.FP32),
            vectors=vectors,
        )

    def _weight_ring(self) -> None:
        """The rest of SRAM holds weight tiles in flight; every projection must tile into it."""
        sram = self.lowering.sram
        ring = sram.alloc("weights", sram.free_bytes, 1, Dtype.INT8)
        self.lowering.weight_ring = ring
        seen: set[tuple[str, int, int, int]] = set()
        for name, m, k, n in self._linears():
            widest = max(end - start for ranges in self._columns(name, n) for start, end in ranges)
            dtype = self.lowering.layout[f"{name}.weight"].dtype
            if (dtype, m, k, widest) not in seen:
                seen.add((dtype, m, k, widest))
                plan_linear(self.lowering, name, m, k, widest, self.lowering.weight_budget)

    # Emission, in the graph's order.

    def emit(self) -> None:
        low, layout, c = self.lowering, self.lowering.layout, self.config
        for core in range(low.cores):
            with low.on(core):
                low.load(layout["io.tokens"], self.ids, rows=1, row_bytes=4 * self.tokens)
                if self.positions is not None:
                    low.load(layout["io.positions"], self.positions, rows=1, row_bytes=4 * self.tokens)
                self._constants()
        names = [op.name for op in self.graph.ops]
        for name in names:
            if name in _HEAD:
                self._global_op(name)
        for layer in range(c.num_layers):
            for name in names:
                if name not in _HEAD and name not in _TAIL:
                    self._layer_op(layer, name)
        for name in names:
            if name in _TAIL:
                self._global_op(name)
        if c.family == "bert":
            self._pool()

    def _each_core(self) -> Iterator[int]:
        """Each core index in turn, with emission switched to that core."""
        for core in range(self.lowering.cores):
            with self.lowering.on(core):
                yield core

    def _all_gather(self, buffer: Buffer, columns: list[tuple[int, int]]) -> None:
        all_gather(self.lowering, buffer, self.tokens, columns, self.gathers)
        self.gathers += 1

    def _constants(self) -> None:
        layout, s = self.lowering.layout, self.attention
        root = math.sqrt(self.config.head_dim)
        self.vpu.fill(s.sqrt_d, 1, self.kv_len, 1.0 / root if s.scaled_stores else root)
        if s.mask is not None:
            assert self.positions is not None
            self._gather(layout["mask"], self.positions, s.mask, self.kv_len * 4, layout.max_context * 4)
        if self.rope is not None:
            assert self.positions is not None
            row = self.config.head_dim * 4
            self._gather(layout["rope.cos"], self.positions, self.rope[0], row, row)
            self._gather(layout["rope.sin"], self.positions, self.rope[1], row, row)

    def _gather(self, region: Region, index: Buffer, dst: Buffer, row_bytes: int, table_stride: int) -> None:
        self.lowering.emit(
            DATA_QUEUE,
            DmaGather(
                index_addr=index.addr,
                count=self.tokens,
                table_addr=region.offset,
                table_stride=table_stride,
                row_bytes=row_bytes,
                sram_addr=dst.addr,
                sram_stride=dst.stride,
            ),
            reads=(index.span(0, self.tokens), ("hbm", region.offset, region.end)),
            writes=(dst.span(0, self.tokens),),
        )

    def _global_op(self, name: str) -> None:
        layout, c, t = self.lowering.layout, self.config, self.tokens
        if name == "embed":
            for _ in self._each_core():
                self._gather(layout["embed"], self.ids, self.x, c.hidden_size * 4, c.hidden_size * 4)
                if c.family == "bert":
                    self.lowering.load(layout["position_embed"], self.proj, rows=t)
                    self.vpu.add(self.x, self.x, self.proj, t, c.hidden_size)
                    types = Buffer("type_row", self.proj.addr, 1, c.hidden_size, Dtype.FP32)
                    self.lowering.load(layout["type_embed"], types, rows=1)
                    self.vpu.add(self.x, self.x, types, t, c.hidden_size, row_broadcast=True)
        elif name == "embed_norm":
            self._norm("embed_norm", self.x, self.x, t)
        elif name == "final_norm":
            assert self.final is not None
            last = Buffer("x_last", self.x.at(t - 1), 1, c.hidden_size, Dtype.FP32)
            self._norm("final_norm", last, self.final, 1)
        elif name == "lm_head":
            assert self.final is not None and self.logits is not None
            columns = self._columns("lm_head", c.vocab_size)
            for core in self._each_core():
                lower_linear(self.lowering, "lm_head", self.final, 1, self.logits, self.matmul, columns=columns[core])
                for start, end in columns[core]:
                    if end > start:
                        self.lowering.store(self.logits, layout["io.logits"], rows=1, col=start, cols=end - start)

    def _layer_op(self, layer: int, name: str) -> None:
        c, t, low = self.config, self.tokens, self.lowering
        p = f"layers.{layer}"
        f, d = c.intermediate_size, c.head_dim
        group = c.num_heads // c.num_kv_heads
        if name in ("attn_norm", "mlp_norm"):
            self._norm(f"{p}.{name}", self.x, self.xn, t)
        elif name in ("attn_out_norm", "mlp_out_norm"):
            self._norm(f"{p}.{name}", self.x, self.x, t)
        elif name == "q_proj":
            self._linear(f"{p}.qkv", self.xn if c.family == "llama" else None, self.qkv)
            self._all_gather(self.qkv, shares(c.q_size + 2 * c.kv_size, low.cores, low.chip.core.matrix.cols))
        elif name == "rope":
            assert self.rope is not None
            for core in self._each_core():
                # One token: a core ropes the heads it attends. More: every core attends some
                # rows of every head, so it ropes them all.
                g0, g1 = self.head_shares[core] if t == 1 else (0, c.num_kv_heads)
                if g1 > g0:
                    self._rope_queries(g0 * group * d, (g1 - g0) * group * d)
                    self.vpu.rope(self.qkv, c.q_size + g0 * d, (g1 - g0) * d, t, self.rope, d)
        elif name == "attention":
            # Every core's cache writes first: in a prefill a core reads keys others wrote.
            for core in self._each_core():
                heads = range(*self.head_shares[core])
                write_new_kv(low, layer, self.qkv, t, self.kv_len, self.attention, heads, self.row_shares[core])
            for core in self._each_core():
                heads = range(*self.head_shares[core])
                rows = self.row_shares[core]
                lower_attention(low, layer, self.qkv, t, self.kv_len, self.attn, self.attention, heads, rows)
            if t == 1:
                self._all_gather(self.attn, [(g0 * group * d, g1 * group * d) for g0, g1 in self.head_shares])
            else:
                all_gather_rows(self.lowering, self.attn, self.row_shares, self.gathers)
                self.gathers += 1
        elif name == "o_proj":
            self._linear(f"{p}.o", self.attn, self.proj, vector_index=1)
        elif name in ("attn_residual", "mlp_residual"):
            for core in self._each_core():
                a, b = self.hidden_shares[core]
                if b > a:
                    x = self.x.window(a, b)
                    self.vpu.add(x, x, self.proj.window(a, b), t, b - a)
            self._all_gather(self.x, self.hidden_shares)
        elif name == "gate_proj":
            self._linear(f"{p}.gate_up", self.xn, self.hidden)
        elif name == "up_proj" and not c.gated_mlp:
            self._linear(f"{p}.up", None, self.hidden)
        elif name in ("silu_mul", "gelu"):
            for core in self._each_core():
                a, b = self.mlp_shares[core]
                if b == a:
                    continue
                mlp, hidden = self.mlp.window(a, b), self.hidden.window(a, b)
                if name == "silu_mul":
                    up = self.hidden.window(f + a, f + b)
                    self.vpu.unary(UnaryOp.SILU, hidden, hidden, t, b - a)
                    self.vpu.mul(mlp, hidden, up, t, b - a)
                else:
                    op = UnaryOp.GELU_ERF if c.activation == "gelu" else UnaryOp.GELU_TANH
                    self.vpu.unary(op, mlp, hidden, t, b - a)
            self._all_gather(self.mlp, self.mlp_shares)
        elif name == "down_proj":
            self._linear(f"{p}.down", self.mlp, self.proj, vector_index=1)

    def _rope_queries(self, col: int, cols: int) -> None:
        """RoPE of query columns [col, col + cols) of `qkv`, cast to the attention's query dtype
        and packed from the start of each row (query column j at byte j * its size), where
        the scores read them: in place when that is fp32, else over the fp32 values it read."""
        assert self.rope is not None
        qkv, dtype = self.qkv, self.attention.query_dtype
        packed = Buffer(qkv.name, qkv.addr + col * dtype.itemsize, qkv.rows, cols, dtype, qkv.stride)
        self.vpu.rope(qkv, col, cols, self.tokens, self.rope, self.config.head_dim, dst=packed)

    def _linear(self, name: str, source: Buffer | None, out: Buffer, vector_index: int = 0) -> None:
        """Each core's share of projection `name`; a None source is x cast for the MXU."""
        columns = self._columns(name, self.lowering.layout[f"{name}.weight"].shape[0])
        for core in self._each_core():
            x = self._as_input(self.x) if source is None else source
            lower_linear(
                self.lowering, name, x, self.tokens, out, self.matmul, vector_index=vector_index, columns=columns[core]
            )

    def _as_input(self, x: Buffer) -> Buffer:
        """x as an MXU input: itself when fp32 multiplies, else a copy cast into `normed`."""
        if self.mxu_in is Dtype.FP32:
            return x
        self.vpu.unary(UnaryOp.COPY, self.xn, x, self.tokens, self.config.hidden_size)
        return self.xn

    def _norm(self, name: str, src: Buffer, dst: Buffer, rows: int) -> None:
        """Every core normalises whole rows: its projections read all of them."""
        layout, c = self.lowering.layout, self.config
        vectors = self.norm_vectors[self.norms % 2]
        self.norms += 1
        layer_norm = c.norm == "layernorm"
        kind = NormKind.LAYER if layer_norm else NormKind.RMS
        for _ in self._each_core():
            self.lowering.load(layout[f"{name}.weight"], vectors, rows=1, row_bytes=4 * c.hidden_size)
            if layer_norm:
                beta = Buffer("beta", vectors.at(1), 1, c.hidden_size, Dtype.FP32)
                self.lowering.load(layout[f"{name}.bias"], beta, rows=1)
            self.vpu.norm(kind, dst, src, vectors, rows, c.hidden_size, c.norm_eps)

    def _pool(self) -> None:
        assert self.pooled is not None
        transposed, pooled = self.pooled
        t, h = self.tokens, self.config.hidden_size
        self.vpu.transpose(transposed, self.x, t, h)
        self.vpu.row_sum(pooled, transposed, h, t)
        self.vpu.unary(UnaryOp.MUL_IMM, pooled, pooled, h, 1, 1.0 / t)
        row = Buffer("pooled_row", pooled.addr, 1, h, Dtype.FP32)
        self.lowering.store(row, self.lowering.layout["io.pooled"], rows=1)
