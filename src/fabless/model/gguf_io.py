"""Read a llama.cpp GGUF file: dequantised float32 weights under Hugging Face names and layout.

llama.cpp's converter reorders the rows of the q and k projections so that each head's
rotary pairs sit next to each other (interleaved RoPE); Hugging Face Llama rotates the two
halves of a head instead. Undoing that reorder here means every consumer sees one layout.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from gguf import GGUFReader, ReaderTensor, quants
from pydantic import Field

from fabless.checks import shown
from fabless.errors import FablessError
from fabless.model.config import ModelConfig, parse_hf_config
from fabless.model.gguf_header import FIX, check_gguf_header
from fabless.model.hf_config import MAX_VOCAB
from fabless.model.layout import checkpoint_layout
from fabless.model.tokenizer import Tokenizer
from fabless.model.validation import PlainText, StrictModel, validated

_GLOBAL_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
_BLOCK_NAMES = {
    "attn_norm": "input_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_norm": "post_attention_layernorm",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
_BLOCK = re.compile(r"blk\.(\d+)\.(\w+)\.(weight|bias)")
# Hugging Face config key -> the GGUF metadata key that holds it; errors name the GGUF key.
_GGUF_KEYS = {
    "hidden_size": "llama.embedding_length",
    "intermediate_size": "llama.feed_forward_length",
    "num_hidden_layers": "llama.block_count",
    "num_attention_heads": "llama.attention.head_count",
    "num_key_value_heads": "llama.attention.head_count_kv",
    "max_position_embeddings": "llama.context_length",
    "rms_norm_eps": "llama.attention.layer_norm_rms_epsilon",
    "rope_theta": "llama.rope.freq_base",
    "vocab_size": "llama.vocab_size",
    "head_dim": "llama.attention.key_length",
}
_REQUIRED = {
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "max_position_embeddings",
    "rms_norm_eps",
}


@dataclass(frozen=True)
class GgufModel:
    config: ModelConfig
    tensors: dict[str, np.ndarray]
    tokenizer: Tokenizer


def read_gguf(path: Path, name: str) -> GgufModel:
    """A Llama GGUF (any quantisation gguf can dequantise) as float32 Hugging Face tensors."""
    check_gguf_header(path)
    try:
        reader = GGUFReader(path)
    # The header walk leaves the reader nothing to trip on; these are what it raises if it does.
    except (ValueError, KeyError, IndexError) as error:
        raise FablessError(f"{path}: not a readable GGUF file ({shown(str(error))}); {FIX}") from None
    fields = {key: field.contents() for key, field in reader.fields.items()}
    arch = fields.get("general.architecture")
    if arch != "llama":
        raise FablessError(
            f"{path}: GGUF architecture {shown(arch)} is not supported; use a 'llama' GGUF or the "
            "Hugging Face safetensors checkpoint"
        )
    names = {t.name for t in reader.tensors}
    if "rope_freqs.weight" in names or fields.get("llama.rope.scaling.type", "none") != "none":
        raise FablessError(
            f"{path}: RoPE scaling is not supported; use a model without rope_scaling"
        )
    raw = _hf_config(fields, path, tied="output.weight" not in names)
    config = parse_hf_config(raw, name, origin=str(path), aliases=_GGUF_KEYS)
    layout = checkpoint_layout(config)
    tensors = {}
    for tensor in reader.tensors:
        hf_name = _hf_name(tensor.name, path)
        if hf_name not in layout:
            continue
        _check_shape(path, tensor.name, tuple(reversed(tensor.shape.tolist())), layout[hf_name])
        tensors[hf_name] = _dequantised(path, tensor, config)
    return GgufModel(config, tensors, _tokenizer(fields, path))


def _check_shape(path: Path, name: str, shape: tuple[int, ...], expected: tuple[int, ...]) -> None:
    if shape != expected:
        raise FablessError(
            f"{path}: tensor {shown(name)} has shape {shape} but the GGUF metadata implies {expected}; "
            f"the file is inconsistent; {FIX}"
        )


def _dequantised(path: Path, tensor: ReaderTensor, config: ModelConfig) -> np.ndarray:
    try:
        array = quants.dequantize(tensor.data, tensor.tensor_type)
    except (ValueError, NotImplementedError) as error:
        raise FablessError(
            f"{path}: tensor {shown(tensor.name)} cannot be dequantised ({error}); "
            "re-convert the GGUF with a supported quantisation"
        ) from None
    # F32 tensors come back as read-only views of the mapped file: own them so it can close.
    if array.dtype != np.float32 or not array.flags.writeable:
        array = array.astype(np.float32)
    if tensor.name.startswith("blk.") and (".attn_q." in tensor.name or ".attn_k." in tensor.name):
        heads = config.num_heads if ".attn_q." in tensor.name else config.num_kv_heads
        array = _unpermute_rotary(array, heads, path, tensor.name)
    return array


def _hf_config(fields: dict[str, Any], path: Path, tied: bool) -> dict[str, Any]:
    """The Hugging Face `config.json` keys that the GGUF's `llama.*` metadata stands for."""
    missing = [gguf_key for hf, gguf_key in _GGUF_KEYS.items() if hf in _REQUIRED and gguf_key not in fields]
    if missing:
        raise FablessError(
            f"{path}: GGUF metadata lacks {missing[0]!r}; re-convert it with llama.cpp's "
            "convert_hf_to_gguf.py"
        )
    raw: dict[str, Any] = {hf: fields[key] for hf, key in _GGUF_KEYS.items() if key in fields}
    # GGUF stores floats as float32; the shortest float32 repr is the value the HF config held.
    for hf in ("rms_norm_eps", "rope_theta"):
        if isinstance(raw.get(hf), float):
            raw[hf] = float(str(np.float32(raw[hf])))
    tokens = fields.get("tokenizer.ggml.tokens")
    if "vocab_size" not in raw and isinstance(tokens, list):
        raw["vocab_size"] = len(tokens)
    raw["model_type"] = "llama"
    raw["tie_word_embeddings"] = tied
    return raw


def _hf_name(gguf_name: str, path: Path) -> str:
    if gguf_name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[gguf_name]
    block = _BLOCK.fullmatch(gguf_name)
    if block is None or block.group(2) not in _BLOCK_NAMES:
        raise FablessError(
            f"{path}: GGUF tensor {shown(gguf_name)} has no Llama counterpart; this is not a plain "
            "Llama model"
        )
    layer, kind, suffix = block.groups()
    return f"model.layers.{layer}.{_BLOCK_NAMES[kind]}.{suffix}"


def _unpermute_rotary(rows: np.ndarray, heads: int, path: Path, name: str) -> np.ndarray:
    """Invert llama.cpp's `permute`: per head, rows x0 y0 x1 y1 ... back to x0 x1 ... y0 y1 ...."""
    if rows.shape[0] % (2 * heads):
        raise FablessError(
            f"{path}: tensor {shown(name)} has {rows.shape[0]} rows, not a multiple of 2 x {heads} "
            "heads; the GGUF metadata disagrees with its weights"
        )
    half = rows.shape[0] // heads // 2
    return np.ascontiguousarray(
        rows.reshape(heads, half, 2, *rows.shape[1:]).swapaxes(1, 2).reshape(rows.shape)
    )


class _GgufTokenizerJson(StrictModel):
    """The `tokenizer.*` metadata a byte-level BPE is rebuilt from."""

    tokens: Annotated[list[str], Field(alias="tokenizer.ggml.tokens", min_length=1, max_length=MAX_VOCAB)]
    merges: Annotated[list[str], Field(alias="tokenizer.ggml.merges")] = []
    token_types: Annotated[list[int] | None, Field(alias="tokenizer.ggml.token_type")] = None
    pre: Annotated[PlainText, Field(alias="tokenizer.ggml.pre")] = "default"
    bos_token_id: Annotated[int | None, Field(alias="tokenizer.ggml.bos_token_id")] = None
    eos_token_id: Annotated[int | None, Field(alias="tokenizer.ggml.eos_token_id")] = None
    add_bos: Annotated[bool, Field(alias="tokenizer.ggml.add_bos_token")] = False
    chat_template: Annotated[str | None, Field(alias="tokenizer.chat_template")] = None


def _tokenizer(fields: dict[str, Any], path: Path) -> Tokenizer:
    model = fields.get("tokenizer.ggml.model")
    if model != "gpt2":
        raise FablessError(
            f"{path}: GGUF tokenizer model {shown(model)} is not supported (only byte-level BPE, "
            "'gpt2'); load the Hugging Face checkpoint with its tokenizer.json instead"
        )
    v = validated(_GgufTokenizerJson, fields, str(path))
    return Tokenizer.from_gguf_vocab(
        tokens=v.tokens,
        merges=v.merges,
        token_types=v.token_types if v.token_types is not None else [1] * len(v.tokens),
        pre=v.pre,
        bos_token_id=v.bos_token_id,
        eos_token_id=v.eos_token_id,
        add_bos=v.add_bos,
        chat_template=v.chat_template,
        source=str(path),
    )
