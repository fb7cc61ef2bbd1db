"""Where everything lives in HBM: weights, scales, tables, KV cache and the host's I/O.

Linear weights are stored as Hugging Face has them, [out, in] (N x K): a weight tile is
then a run of whole output channels, which the MXUs load transposed, or which streams
through them as the moving operand when a step has a single token (see `matmul.py`). The
projections that read the same activation are fused into one tensor: Q, K and V share one
activation load as `qkv`, gate and up as `gate_up`. The KV cache is
[layer][k/v][kv_head][position][head_dim], so one head's keys are one contiguous run.
Activations visit HBM only when a step spread over several cores gathers whole rows (two
`exchange` slots, see `cores.py`); otherwise a step keeps them in SRAM from the embedding
to the logits.
Every region starts on an `alignment`-byte boundary.
"""

import math
from dataclasses import dataclass
from typing import Literal

from fabless.chip.spec import DTYPE_BYTES
from fabless.compiler.numerics import Numerics
from fabless.errors import FablessError
from fabless.model.config import ModelConfig

Role = Literal["weight", "scale", "bias", "norm", "table", "kv_cache", "io", "exchange"]

DTYPE_BYTES_ALL = {**DTYPE_BYTES, "int32": 4.0}


@dataclass(frozen=True)
class Region:
    name: str
    offset: int
    shape: tuple[int, ...]
    dtype: str
    role: Role

    @property
    def nbytes(self) -> int:
        return math.ceil(math.prod(self.shape) * DTYPE_BYTES_ALL[self.dtype])

    @property
    def end(self) -> int:
        return self.offset + self.nbytes


@dataclass(frozen=True)
class Linear:
    """A (possibly fused) projection: weight [n, k] from HF tensors concatenated along out."""

    name: str
    k: int
    n: int
    sources: tuple[str, ...]
    bias: bool


@dataclass(frozen=True)
class HbmLayout:
    """The memory map of one model on one chip, for contexts of up to `max_context` tokens."""

    config: ModelConfig
    numerics: Numerics
    batch: int
    max_context: int
    alignment: int
    regions: dict[str, Region]

    def __getitem__(self, name: str) -> Region:
        try:
            return self.regions[name]
        except KeyError:
            raise FablessError(f"HBM layout of {self.config.name} has no region {name!r}") from None

    @property
    def size_bytes(self) -> int:
        return max(r.end for r in self.regions.values())

    def kv_offset(self, layer: int, kv: int, head: int, position: int, sequence: int = 0) -> int:
        """Byte address of one head's key (kv=0) or value (kv=1) vector at `position`."""
        region = self.regions["kv_cache"]
        _, _, batch, heads, positions, head_dim = region.shape
        index = ((((layer * 2 + kv) * batch + sequence) * heads + head) * positions + position) * head_dim
        return region.offset + int(index * DTYPE_BYTES_ALL[region.dtype])

    def memory_map(self) -> list[tuple[str, int, int, str, str]]:
        """(name, offset, bytes, dtype, shape) of every region in address order."""
        rows = sorted(self.regions.values(), key=lambda r: r.offset)
        return [(r.name, r.offset, r.nbytes, r.dtype, "x".join(map(str, r.shape))) for r in rows]


def layer_linears(config: ModelConfig, layer: int) -> tuple[Linear, ...]:
    """The projections of one layer, fused where they read the same activation."""
    h, f = config.hidden_size, config.intermediate_size
    qkv_n = config.q_size + 2 * config.kv_size
    if config.family == "llama":
        p = f"model.layers.{layer}"
        attn = (f"{p}.self_attn.q_proj", f"{p}.self_attn.k_proj", f"{p}.self_attn.v_proj")
        return (
            Linear(f"layers.{layer}.qkv", h, qkv_n, attn, config.qkv_bias),
            Linear(f"layers.{layer}.o", config.q_size, h, (f"{p}.self_attn.o_proj",), config.out_bias),
            Linear(
                f"layers.{layer}.gate_up",
                h,
                2 * f,
                (f"{p}.mlp.gate_proj", f"{p}.mlp.up_proj"),
                config.mlp_bias,
            ),
            Linear(f"layers.{layer}.down", f, h, (f"{p}.mlp.down_proj",), config.mlp_bias),
        )
    if config.family == "bert":
        p = f"encoder.layer.{layer}"
        self_attention = tuple(f"{p}.attention.self.{x}" for x in ("query", "key", "value"))
        return (
            Linear(f"layers.{layer}.qkv", h, qkv_n, self_attention, True),
            Linear(f"layers.{layer}.o", config.q_size, h, (f"{p}.attention.output.dense",), True),
            Linear(f"layers.{layer}.up", h, f, (f"{p}.intermediate.dense",), True),
            Linear(f"layers.{layer}.down", f, h, (f"{p}.output.dense",), True),
        )
    raise FablessError(f"model {config.name}: family {config.family} is not compiled yet; use a llama or bert model")


def layer_norms(config: ModelConfig, layer: int) -> tuple[tuple[str, str], ...]:
    """(layout name, HF tensor prefix) of each norm in a layer."""
    if config.family == "llama":
        p = f"model.layers.{layer}"
        return (
            (f"layers.{layer}.attn_norm", f"{p}.input_layernorm"),
            (f"layers.{layer}.mlp_norm", f"{p}.post_attention_layernorm"),
        )
    p = f"encoder.layer.{layer}"
    return (
        (f"layers.{layer}.attn_out_norm", f"{p}.attention.output.LayerNorm"),
        (f"layers.{layer}.mlp_out_norm", f"{p}.output.LayerNorm"),
    )


def global_linears(config: ModelConfig) -> tuple[Linear, ...]:
    if config.family != "llama":
        return ()
    head = "model.embed_tokens" if config.tie_word_embeddings else "lm_head"
    return (Linear("lm_head", config.hidden_size, config.vocab_size, (head,), False),)


def plan_layout(
    config: ModelConfig,
    numerics: Numerics,
    *,
    max_context: int,
    batch: int = 1,
    alignment: int = 4096,
) -> HbmLayout:
    """Place every tensor a model step touches, for contexts of up to `max_context` tokens."""
    if max_context < 1 or max_context > config.max_positions:
        raise FablessError(
            f"max context {max_context} must be within 1..{config.max_positions} "
            f"(max_position_embeddings of {config.name})"
        )
    if alignment < 1 or alignment & (alignment - 1):
        raise FablessError(f"HBM alignment must be a power of two (got {alignment})")
    placer = _Placer(alignment)
    h = config.hidden_size
    layernorm = config.norm == "layernorm"

    def linear(lin: Linear) -> None:
        dtype = numerics.weights_of(lin.name)
        placer.add(f"{lin.name}.weight", (lin.n, lin.k), dtype, "weight")
        if dtype in ("int8", "fp8"):
            placer.add(f"{lin.name}.scale", (lin.n,), "fp32", "scale")
        if lin.bias:
            placer.add(f"{lin.name}.bias", (lin.n,), "fp32", "bias")

    def norm(name: str) -> None:
        placer.add(f"{name}.weight", (h,), "fp32", "norm")
        if layernorm:
            placer.add(f"{name}.bias", (h,), "fp32", "norm")

    placer.add("embed", (config.vocab_size, h), "fp32", "table")
    if config.family == "bert":
        placer.add("position_embed", (config.max_positions, h), "fp32", "table")
        placer.add("type_embed", (max(config.type_vocab_size, 1), h), "fp32", "table")
        norm("embed_norm")
    if config.position == "rope":
        placer.add("rope.cos", (max_context, config.head_dim), "fp32", "table")
        placer.add("rope.sin", (max_context, config.head_dim), "fp32", "table")
    for layer in range(config.num_layers):
        for name, _ in layer_norms(config, layer):
            norm(name)
        for lin in layer_linears(config, layer):
            linear(lin)
    if config.family == "llama":
        norm("final_norm")
    for lin in global_linears(config):
        linear(lin)
    if config.family != "bert":
        kv_shape = (config.num_layers, 2, batch, config.num_kv_heads, max_context, config.head_dim)
        placer.add("kv_cache", kv_shape, numerics.kv_cache, "kv_cache")
    if config.causal:
        # mask[p, j] = 0 where key j is visible from position p, else -inf.
        placer.add("mask", (max_context, max_context), "fp32", "table")
    tokens = batch * max_context
    placer.add("io.tokens", (tokens,), "int32", "io")
    placer.add("io.positions", (tokens,), "int32", "io")
    if config.family == "llama":
        placer.add("io.logits", (batch, config.vocab_size), "fp32", "io")
    else:
        placer.add("io.pooled", (batch, h), "fp32", "io")
    widest = max(config.q_size + 2 * config.kv_size, h, config.intermediate_size)
    for slot in range(2):
        placer.add(f"exchange{slot}", (tokens, widest), "fp32", "exchange")
    return HbmLayout(
        config=config,
        numerics=numerics,
        batch=batch,
        max_context=max_context,
        alignment=alignment,
        regions=placer.regions,
    )


class _Placer:
    def __init__(self, alignment: int) -> None:
        self.alignment = alignment
        self.cursor = 0
        self.regions: dict[str, Region] = {}

    def add(self, name: str, shape: tuple[int, ...], dtype: str, role: Role) -> None:
        region = Region(name, self.cursor, shape, dtype, role)
        self.regions[name] = region
        self.cursor = -(-region.end // self.alignment) * self.alignment
