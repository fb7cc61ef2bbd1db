"""The keys of a Hugging Face `config.json` that Fabless reads, each with its type and range.

The ranges are physical, not tight: every published model fits inside them with room to
spare (Llama 3.1 405B: 126 layers, hidden 16,384; the largest vocabularies ~256 k; the
longest contexts ~10 M), while a value outside them is a damaged or hostile file, which
would otherwise turn into a negative latency or a loop over four billion layers.
"""

from typing import Annotated, Literal, get_args

from pydantic import ConfigDict, field_validator

from fabless.model.validation import JsonScalar, StrictModel, above_zero, between

MAX_LAYERS = 1024
MAX_HIDDEN = 2**17
MAX_INTERMEDIATE = 2**20
MAX_HEADS = 2**12
MAX_HEAD_DIM = 2**10
MAX_VOCAB = 2**22
MAX_POSITIONS = 2**24
MAX_EXPERTS = 2**10
MAX_TOKEN_TYPES = 2**10
# Epsilons in the wild run from 1e-12 to 1e-5; 0.1 would already swamp a normalised vector.
MAX_NORM_EPS = 0.1
# Published bases run from 1e4 to ~1e8; past 1e12 the slowest pairs barely rotate in float32.
MAX_ROPE_THETA = 1e12
MAX_ROPE_FACTOR = 1024.0

Layers = Annotated[int, between(1, MAX_LAYERS)]
Hidden = Annotated[int, between(1, MAX_HIDDEN)]
Intermediate = Annotated[int, between(1, MAX_INTERMEDIATE)]
Heads = Annotated[int, between(1, MAX_HEADS)]
HeadDim = Annotated[int, between(2, MAX_HEAD_DIM)]
Vocab = Annotated[int, between(1, MAX_VOCAB)]
Positions = Annotated[int, between(1, MAX_POSITIONS)]
Experts = Annotated[int, between(1, MAX_EXPERTS)]
Eps = Annotated[float, above_zero(MAX_NORM_EPS)]
RopeTheta = Annotated[float, above_zero(MAX_ROPE_THETA)]
RopeFactor = Annotated[float, above_zero(MAX_ROPE_FACTOR)]
# The RoPE scalings `rope.py` implements; any other kind would silently run as "default".
RopeKind = Literal["default", "linear", "llama3"]
ROPE_KINDS: tuple[str, ...] = get_args(RopeKind)
LLAMA3_KEYS = ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings")
"""The `rope_scaling` keys llama3 scaling reads; `config` checks them, `rope` uses them."""


class RopeScalingJson(StrictModel):
    """`rope_scaling`: the keys the supported kinds read are typed; others must be plain scalars."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, JsonScalar]

    rope_type: RopeKind | None = None
    type: RopeKind | None = None
    factor: RopeFactor | None = None
    low_freq_factor: RopeFactor | None = None
    high_freq_factor: RopeFactor | None = None
    original_max_position_embeddings: Positions | None = None

    @field_validator("rope_type", "type", mode="before")
    @classmethod
    def _kind_is_named(cls, value: object) -> object:
        # Absent means "default"; an explicit null names no kind, and would silently run as one.
        if value is None:
            *rest, last = (repr(kind) for kind in ROPE_KINDS)
            raise ValueError(f"must be {', '.join(rest)} or {last}")
        return value


class LlamaJson(StrictModel):
    """llama, mistral and qwen2 decoders."""

    hidden_size: Hidden
    intermediate_size: Intermediate
    num_hidden_layers: Layers
    num_attention_heads: Heads
    num_key_value_heads: Heads | None = None
    head_dim: HeadDim | None = None
    vocab_size: Vocab
    max_position_embeddings: Positions = 4096
    rms_norm_eps: Eps = 1e-6
    rope_theta: RopeTheta = 10000.0
    rope_scaling: RopeScalingJson | None = None
    attention_bias: bool = False
    mlp_bias: bool = False
    tie_word_embeddings: bool = False
    hidden_act: Literal["silu"] = "silu"


class MixtralJson(LlamaJson):
    num_local_experts: Experts
    num_experts_per_tok: Experts


class Gpt2Json(StrictModel):
    n_embd: Hidden
    n_head: Heads
    n_layer: Layers
    n_inner: Intermediate | None = None
    n_positions: Positions
    vocab_size: Vocab
    layer_norm_epsilon: Eps = 1e-5
    activation_function: Literal["gelu_new", "gelu_pytorch_tanh"] = "gelu_new"


class BertJson(StrictModel):
    hidden_size: Hidden
    intermediate_size: Intermediate
    num_hidden_layers: Layers
    num_attention_heads: Heads
    vocab_size: Vocab
    max_position_embeddings: Positions
    layer_norm_eps: Eps = 1e-12
    hidden_act: Literal["gelu", "gelu_new", "gelu_pytorch_tanh"] = "gelu"
    # 0 means no segment embeddings: fine for estimates, refused by the checkpoint layout.
    type_vocab_size: Annotated[int, between(0, MAX_TOKEN_TYPES)] = 2
