"""A transformer's architecture, read from a Hugging Face `config.json`.

One frozen record covers the families Fabless runs: Llama-style decoders (llama, mistral,
qwen2, and mixtral with MoE MLPs), GPT-2, and BERT encoders. Everything downstream (graph,
compiler, loaders) reads this, never the raw JSON.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from fabless.checks import shown
from fabless.errors import FablessError
from fabless.files import MIB, read_json
from fabless.model.hf_config import LLAMA3_KEYS, BertJson, Gpt2Json, LlamaJson, MixtralJson
from fabless.model.validation import problem_line

Family = Literal["llama", "gpt2", "bert"]

_LLAMA_TYPES = {"llama", "mistral", "qwen2", "mixtral"}
SUPPORTED_MODEL_TYPES = sorted(_LLAMA_TYPES | {"gpt2", "bert"})
# The largest real config.json files (with their id2label maps) are tens of kilobytes.
CONFIG_LIMIT_BYTES = MIB


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    name: str
    model_type: str
    family: Family
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    vocab_size: int
    max_positions: int
    norm: Literal["rmsnorm", "layernorm"]
    norm_eps: float
    activation: Literal["silu", "gelu", "gelu_tanh"]
    gated_mlp: bool
    qkv_bias: bool
    out_bias: bool
    mlp_bias: bool
    position: Literal["rope", "learned"]
    rope_theta: float = 10000.0
    rope_scaling: tuple[tuple[str, Any], ...] = ()
    num_experts: int = 1
    experts_per_token: int = 1
    tie_word_embeddings: bool = False
    causal: bool = True
    type_vocab_size: int = 0

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 1

    @property
    def q_size(self) -> int:
        return self.num_heads * self.head_dim

    @property
    def kv_size(self) -> int:
        return self.num_kv_heads * self.head_dim

    @property
    def params(self) -> int:
        """Parameter count, embeddings and head included (a tied head counted once)."""
        h, f = self.hidden_size, self.intermediate_size
        attn = h * self.q_size + 2 * h * self.kv_size + self.q_size * h
        if self.qkv_bias:
            attn += self.q_size + 2 * self.kv_size
        if self.out_bias:
            attn += h
        mlp_one = (3 if self.gated_mlp else 2) * h * f + (
            (2 * f + h if self.gated_mlp else f + h) if self.mlp_bias else 0
        )
        mlp = self.num_experts * mlp_one + (h * self.num_experts if self.is_moe else 0)
        norms = 2 * h * (2 if self.norm == "layernorm" else 1)
        embed = self.vocab_size * h
        if self.position == "learned":
            embed += self.max_positions * h
        embed += self.type_vocab_size * h
        head = 0 if (self.tie_word_embeddings or self.family == "bert") else self.vocab_size * h
        final_norm = 0 if self.family == "bert" else h * (2 if self.norm == "layernorm" else 1)
        embed_norm = 2 * h if self.family == "bert" else 0
        return self.num_layers * (attn + mlp + norms) + embed + head + final_norm + embed_norm

    def kv_cache_bytes_per_token(self, bytes_per_element: float) -> float:
        """K and V for one token across all layers."""
        return 2 * self.num_layers * self.kv_size * bytes_per_element


def parse_hf_config(
    raw: object, name: str, *, origin: str | None = None, aliases: Mapping[str, str] | None = None
) -> ModelConfig:
    """A ModelConfig from a Hugging Face config dict, every key it reads checked for type and range.

    `origin` names the source in errors (default "model NAME"); `aliases` respells keys in
    them, for sources such as GGUF that store these values under other names.
    """
    origin = origin or f"model {name}"
    if not isinstance(raw, dict):
        raise FablessError(f"{origin}: must hold a JSON object at the top level, not {type(raw).__name__}")
    model_type = raw.get("model_type")
    if model_type not in SUPPORTED_MODEL_TYPES:
        given = "is missing" if model_type is None else f"{shown(model_type)} is not supported"
        raise FablessError(f"{origin}: model_type {given}; supported: {', '.join(SUPPORTED_MODEL_TYPES)}")
    build = {"gpt2": _gpt2, "bert": _bert}.get(model_type, _llama)
    try:
        config = build(raw, name, model_type)
    except ValidationError as error:
        raise FablessError(f"{origin}: {problem_line(error, origin, aliases)}") from None
    _check_shape(config, raw, origin, aliases or {})
    return config


def load_hf_config(path: Path) -> ModelConfig:
    """Read `config.json` (or a directory holding one)."""
    file = path / "config.json" if path.is_dir() else path
    if not file.exists():
        raise FablessError(f"model config {file} does not exist: pass a zoo name or a config.json path")
    raw = read_json(file, "a model's config.json", CONFIG_LIMIT_BYTES)
    name = path.name if path.is_dir() else path.parent.name or file.stem
    return parse_hf_config(raw, name, origin=str(file))


def _check_shape(config: ModelConfig, raw: dict[str, Any], origin: str, aliases: Mapping[str, str]) -> None:
    """What the weights need across keys: heads that tile the hidden size, even RoPE pairs."""

    def key(field: str) -> str:
        return aliases.get(field, field)

    heads = key("n_head" if config.family == "gpt2" else "num_attention_heads")
    hidden = key("n_embd" if config.family == "gpt2" else "hidden_size")
    derived_head_dim = config.family != "llama" or raw.get("head_dim") is None
    if derived_head_dim and config.hidden_size % config.num_heads:
        fix = "" if config.family != "llama" else ", or set head_dim"
        raise FablessError(
            f"{origin}: {hidden} ({config.hidden_size}) must be a multiple of {heads} ({config.num_heads}){fix}"
        )
    if config.family != "llama":
        return
    if config.num_heads % config.num_kv_heads:
        raise FablessError(
            f"{origin}: {key('num_key_value_heads')} ({config.num_kv_heads}) must divide {heads} ({config.num_heads})"
        )
    if config.head_dim % 2:
        raise FablessError(f"{origin}: {key('head_dim')} must be even for rotary embeddings (got {config.head_dim})")
    if config.experts_per_token > config.num_experts:
        raise FablessError(
            f"{origin}: num_experts_per_tok ({config.experts_per_token}) must be at most num_local_experts "
            f"({config.num_experts})"
        )
    _check_rope_scaling(dict(config.rope_scaling), origin)


def _check_rope_scaling(scaling: dict[str, Any], origin: str) -> None:
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    needed = {"linear": ("factor",), "llama3": LLAMA3_KEYS}.get(kind, ())
    missing = [k for k in needed if k not in scaling]
    if missing:
        raise FablessError(f"{origin}: rope_scaling.{missing[0]} is missing, and {kind} scaling needs it: add it")
    if kind == "llama3" and not scaling["low_freq_factor"] < scaling["high_freq_factor"]:
        raise FablessError(
            f"{origin}: rope_scaling.low_freq_factor ({scaling['low_freq_factor']:g}) must be below "
            f"high_freq_factor ({scaling['high_freq_factor']:g})"
        )


def _llama(raw: dict[str, Any], name: str, model_type: str) -> ModelConfig:
    v = (MixtralJson if model_type == "mixtral" else LlamaJson).model_validate(raw)
    experts = (v.num_local_experts, v.num_experts_per_tok) if isinstance(v, MixtralJson) else (1, 1)
    scaling = v.rope_scaling.model_dump(exclude_none=True) if v.rope_scaling else {}
    return ModelConfig(
        name=name,
        model_type=model_type,
        family="llama",
        hidden_size=v.hidden_size,
        intermediate_size=v.intermediate_size,
        num_layers=v.num_hidden_layers,
        num_heads=v.num_attention_heads,
        num_kv_heads=v.num_key_value_heads or v.num_attention_heads,
        head_dim=v.head_dim or v.hidden_size // v.num_attention_heads,
        vocab_size=v.vocab_size,
        max_positions=v.max_position_embeddings,
        norm="rmsnorm",
        norm_eps=v.rms_norm_eps,
        activation="silu",
        gated_mlp=True,
        qkv_bias=model_type == "qwen2" or v.attention_bias,
        out_bias=v.attention_bias,
        mlp_bias=v.mlp_bias,
        position="rope",
        rope_theta=v.rope_theta,
        rope_scaling=tuple(sorted(scaling.items())),
        num_experts=experts[0],
        experts_per_token=experts[1],
        tie_word_embeddings=v.tie_word_embeddings,
    )


def _gpt2(raw: dict[str, Any], name: str, model_type: str) -> ModelConfig:
    v = Gpt2Json.model_validate(raw)
    return ModelConfig(
        name=name,
        model_type="gpt2",
        family="gpt2",
        hidden_size=v.n_embd,
        intermediate_size=v.n_inner or 4 * v.n_embd,
        num_layers=v.n_layer,
        num_heads=v.n_head,
        num_kv_heads=v.n_head,
        head_dim=v.n_embd // v.n_head,
        vocab_size=v.vocab_size,
        max_positions=v.n_positions,
        norm="layernorm",
        norm_eps=v.layer_norm_epsilon,
        activation="gelu_tanh",
        gated_mlp=False,
        qkv_bias=True,
        out_bias=True,
        mlp_bias=True,
        position="learned",
        tie_word_embeddings=True,
    )


def _bert(raw: dict[str, Any], name: str, model_type: str) -> ModelConfig:
    v = BertJson.model_validate(raw)
    return ModelConfig(
        name=name,
        model_type="bert",
        family="bert",
        hidden_size=v.hidden_size,
        intermediate_size=v.intermediate_size,
        num_layers=v.num_hidden_layers,
        num_heads=v.num_attention_heads,
        num_kv_heads=v.num_attention_heads,
        head_dim=v.hidden_size // v.num_attention_heads,
        vocab_size=v.vocab_size,
        max_positions=v.max_position_embeddings,
        norm="layernorm",
        norm_eps=v.layer_norm_eps,
        activation="gelu" if v.hidden_act == "gelu" else "gelu_tanh",
        gated_mlp=False,
        qkv_bias=True,
        out_bias=True,
        mlp_bias=True,
        position="learned",
        causal=False,
        type_vocab_size=v.type_vocab_size,
    )
