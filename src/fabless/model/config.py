"""A transformer's architecture, read from a Hugging Face `config.json`.

One frozen record covers the families Fabless runs: Llama-style decoders (llama, mistral,
qwen2, and mixtral with MoE MLPs), GPT-2, and BERT encoders. Everything downstream (graph,
compiler, loaders) reads this, never the raw JSON.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fabless.errors import FablessError

Family = Literal["llama", "gpt2", "bert"]

_LLAMA_TYPES = {"llama", "mistral", "qwen2", "mixtral"}
SUPPORTED_MODEL_TYPES = sorted(_LLAMA_TYPES | {"gpt2", "bert"})


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


def parse_hf_config(raw: dict[str, Any], name: str) -> ModelConfig:
    """Build a ModelConfig from a Hugging Face config dict; unknown architectures are an error."""
    model_type = raw.get("model_type")
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise FablessError(
            f"model {name}: model_type {model_type!r} is not supported; supported: {', '.join(SUPPORTED_MODEL_TYPES)}"
        )
    try:
        if model_type in _LLAMA_TYPES:
            return _llama(raw, name, model_type)
        if model_type == "gpt2":
            return _gpt2(raw, name)
        return _bert(raw, name)
    except KeyError as missing:
        raise FablessError(f"model {name}: config.json lacks {missing.args[0]!r}, which {model_type} needs") from None


def load_hf_config(path: Path) -> ModelConfig:
    """Read `config.json` (or a directory holding one)."""
    file = path / "config.json" if path.is_dir() else path
    if not file.is_file():
        raise FablessError(f"model config {file} does not exist: pass a zoo name or a config.json path")
    try:
        raw = json.loads(file.read_text())
    except json.JSONDecodeError as error:
        raise FablessError(f"model config {file}: not valid JSON ({error})") from None
    name = path.name if path.is_dir() else path.parent.name or file.stem
    return parse_hf_config(raw, name)


def _llama(raw: dict[str, Any], name: str, model_type: str) -> ModelConfig:
    heads = raw["num_attention_heads"]
    hidden = raw["hidden_size"]
    moe = model_type == "mixtral"
    scaling = raw.get("rope_scaling") or {}
    return ModelConfig(
        name=name,
        model_type=model_type,
        family="llama",
        hidden_size=hidden,
        intermediate_size=raw["intermediate_size"],
        num_layers=raw["num_hidden_layers"],
        num_heads=heads,
        num_kv_heads=raw.get("num_key_value_heads") or heads,
        head_dim=raw.get("head_dim") or hidden // heads,
        vocab_size=raw["vocab_size"],
        max_positions=raw.get("max_position_embeddings", 4096),
        norm="rmsnorm",
        norm_eps=raw.get("rms_norm_eps", 1e-6),
        activation="silu",
        gated_mlp=True,
        qkv_bias=model_type == "qwen2" or bool(raw.get("attention_bias", False)),
        out_bias=bool(raw.get("attention_bias", False)),
        mlp_bias=bool(raw.get("mlp_bias", False)),
        position="rope",
        rope_theta=float(raw.get("rope_theta", 10000.0)),
        rope_scaling=tuple(sorted(scaling.items())),
        num_experts=raw["num_local_experts"] if moe else 1,
        experts_per_token=raw["num_experts_per_tok"] if moe else 1,
        tie_word_embeddings=bool(raw.get("tie_word_embeddings", False)),
    )


def _gpt2(raw: dict[str, Any], name: str) -> ModelConfig:
    hidden = raw["n_embd"]
    heads = raw["n_head"]
    return ModelConfig(
        name=name,
        model_type="gpt2",
        family="gpt2",
        hidden_size=hidden,
        intermediate_size=raw.get("n_inner") or 4 * hidden,
        num_layers=raw["n_layer"],
        num_heads=heads,
        num_kv_heads=heads,
        head_dim=hidden // heads,
        vocab_size=raw["vocab_size"],
        max_positions=raw["n_positions"],
        norm="layernorm",
        norm_eps=raw.get("layer_norm_epsilon", 1e-5),
        activation="gelu_tanh",
        gated_mlp=False,
        qkv_bias=True,
        out_bias=True,
        mlp_bias=True,
        position="learned",
        tie_word_embeddings=True,
    )


def _bert(raw: dict[str, Any], name: str) -> ModelConfig:
    hidden = raw["hidden_size"]
    heads = raw["num_attention_heads"]
    return ModelConfig(
        name=name,
        model_type="bert",
        family="bert",
        hidden_size=hidden,
        intermediate_size=raw["intermediate_size"],
        num_layers=raw["num_hidden_layers"],
        num_heads=heads,
        num_kv_heads=heads,
        head_dim=hidden // heads,
        vocab_size=raw["vocab_size"],
        max_positions=raw["max_position_embeddings"],
        norm="layernorm",
        norm_eps=raw.get("layer_norm_eps", 1e-12),
        activation="gelu" if raw.get("hidden_act", "gelu") == "gelu" else "gelu_tanh",
        gated_mlp=False,
        qkv_bias=True,
        out_bias=True,
        mlp_bias=True,
        position="learned",
        causal=False,
        type_vocab_size=raw.get("type_vocab_size", 2),
    )
