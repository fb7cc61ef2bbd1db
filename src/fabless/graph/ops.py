"""The graph IR: typed ops with exact shapes, dtypes, FLOPs and bytes.

An op that repeats in every transformer layer appears once with `repeat` = the layer
count, so a 126-layer model is a graph of ~20 ops and the performance model prices it in
microseconds. `inputs` and `output` name tensors (weights by their Hugging Face names,
with `{layer}` where the layer index goes), so the compiler can follow the dataflow.
"""

from dataclasses import dataclass, field
from typing import Literal

from fabless.chip.spec import DTYPE_BYTES


@dataclass(frozen=True)
class Cost:
    """What an op does, summed over its repeats: adds like Pallas' CostEstimate."""

    flops: float = 0.0
    transcendentals: float = 0.0
    weight_bytes: float = 0.0
    activation_bytes: float = 0.0
    kv_bytes: float = 0.0

    @property
    def bytes(self) -> float:
        return self.weight_bytes + self.activation_bytes + self.kv_bytes

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(
            self.flops + other.flops,
            self.transcendentals + other.transcendentals,
            self.weight_bytes + other.weight_bytes,
            self.activation_bytes + other.activation_bytes,
            self.kv_bytes + other.kv_bytes,
        )

    def __mul__(self, times: float) -> "Cost":
        return Cost(
            self.flops * times,
            self.transcendentals * times,
            self.weight_bytes * times,
            self.activation_bytes * times,
            self.kv_bytes * times,
        )


@dataclass(frozen=True, kw_only=True)
class Op:
    name: str
    inputs: tuple[str, ...]
    output: str
    repeat: int = 1

    def cost_once(self) -> Cost:
        raise NotImplementedError

    def cost(self) -> Cost:
        return self.cost_once() * self.repeat


@dataclass(frozen=True, kw_only=True)
class MatMul(Op):
    """out[m, n] = x[m, k] @ w[k, n] (+ bias); `w` is a weight unless `weight_operand` is False."""

    m: int
    n: int
    k: int
    x_dtype: str
    w_dtype: str
    out_dtype: str
    compute_dtype: str
    bias: bool = False
    weight_operand: bool = True

    def cost_once(self) -> Cost:
        w_bytes = self.k * self.n * DTYPE_BYTES[self.w_dtype]
        act = self.m * self.k * DTYPE_BYTES[self.x_dtype] + self.m * self.n * DTYPE_BYTES[self.out_dtype]
        return Cost(
            flops=2.0 * self.m * self.n * self.k,
            weight_bytes=w_bytes if self.weight_operand else 0.0,
            activation_bytes=act + (0.0 if self.weight_operand else w_bytes),
        )


@dataclass(frozen=True, kw_only=True)
class MoeMatMul(Op):
    """Expert MLP projections: `tokens` routed to `top_k` of `experts` weight matrices [k, n]."""

    tokens: int
    n: int
    k: int
    experts: int
    top_k: int
    x_dtype: str
    w_dtype: str
    out_dtype: str
    compute_dtype: str

    @property
    def routed_rows(self) -> int:
        return self.tokens * self.top_k

    @property
    def experts_touched(self) -> float:
        """Expected distinct experts hit when routing is uniform: E (1 - (1 - k/E)^T)."""
        miss = (1.0 - self.top_k / self.experts) ** self.tokens
        return self.experts * (1.0 - miss)

    def cost_once(self) -> Cost:
        return Cost(
            flops=2.0 * self.routed_rows * self.n * self.k,
            weight_bytes=self.experts_touched * self.k * self.n * DTYPE_BYTES[self.w_dtype],
            activation_bytes=self.routed_rows
            * (self.k * DTYPE_BYTES[self.x_dtype] + self.n * DTYPE_BYTES[self.out_dtype]),
        )


@dataclass(frozen=True, kw_only=True)
class Attention(Op):
    """Scaled dot-product attention of `q_len` new tokens over `kv_len` keys per sequence.

    Prefill (q_len == kv_len) runs flash-style: K and V stream from on-chip memory and the
    score matrix never reaches HBM. Decode reads the whole KV cache once per step.
    """

    batch: int
    q_len: int
    kv_len: int
    heads: int
    kv_heads: int
    head_dim: int
    causal: bool
    act_dtype: str
    kv_dtype: str
    compute_dtype: str

    @property
    def score_elements(self) -> float:
        """Query-key pairs actually computed (causal masking skips the upper triangle)."""
        if self.causal and self.q_len > 1:
            past = self.kv_len - self.q_len
            per_seq = self.q_len * past + self.q_len * (self.q_len + 1) / 2
        else:
            per_seq = self.q_len * self.kv_len
        return self.batch * self.heads * per_seq

    def cost_once(self) -> Cost:
        kv = 2.0 * self.batch * self.kv_len * self.kv_heads * self.head_dim * DTYPE_BYTES[self.kv_dtype]
        qo = 2.0 * self.batch * self.q_len * self.heads * self.head_dim * DTYPE_BYTES[self.act_dtype]
        return Cost(
            flops=4.0 * self.score_elements * self.head_dim,
            transcendentals=self.score_elements,
            activation_bytes=qo,
            kv_bytes=kv,
        )


Norm = Literal["rmsnorm", "layernorm"]
Elementwise = Literal["add", "silu_mul", "gelu", "gelu_tanh", "rope", "softmax", "kv_write", "topk_gate"]


@dataclass(frozen=True, kw_only=True)
class Normalize(Op):
    rows: int
    cols: int
    kind: Norm
    dtype: str
    eps: float = 1e-5

    def cost_once(self) -> Cost:
        n = self.rows * self.cols
        return Cost(flops=5.0 * n, transcendentals=self.rows, activation_bytes=2.0 * n * DTYPE_BYTES[self.dtype])


@dataclass(frozen=True, kw_only=True)
class Pointwise(Op):
    """Elementwise work over `rows` x `cols`: reads `operands` tensors, writes one."""

    rows: int
    cols: int
    fn: Elementwise
    dtype: str
    operands: int = 1
    flops_per_element: float = 1.0
    out_dtype: str | None = None

    def cost_once(self) -> Cost:
        n = self.rows * self.cols
        out_bytes = DTYPE_BYTES[self.out_dtype or self.dtype]
        transcendental = n if self.fn in ("silu_mul", "gelu", "gelu_tanh", "rope") else 0
        return Cost(
            flops=self.flops_per_element * n,
            transcendentals=transcendental,
            activation_bytes=n * (self.operands * DTYPE_BYTES[self.dtype] + out_bytes),
        )


@dataclass(frozen=True, kw_only=True)
class Embedding(Op):
    """Gather `tokens` rows of a [vocab, hidden] table."""

    tokens: int
    vocab: int
    hidden: int
    dtype: str

    def cost_once(self) -> Cost:
        row = self.hidden * DTYPE_BYTES[self.dtype]
        return Cost(weight_bytes=self.tokens * row, activation_bytes=self.tokens * row)


@dataclass(frozen=True)
class Tensor:
    shape: tuple[int, ...]
    dtype: str
    role: Literal["input", "weight", "activation", "kv_cache", "output"]


@dataclass(frozen=True)
class Graph:
    """One forward step of a model: prefill of `seq` tokens or decode of one, per sequence."""

    model: str
    phase: Literal["prefill", "decode", "encode"]
    batch: int
    q_len: int
    kv_len: int
    ops: tuple[Op, ...]
    tensors: dict[str, Tensor] = field(default_factory=dict)

    def cost(self) -> Cost:
        total = Cost()
        for op in self.ops:
            total = total + op.cost()
        return total
