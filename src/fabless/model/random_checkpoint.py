"""Write small random-weight Hugging Face checkpoints of any shape, for tests across Fabless.

Each directory holds what a real checkpoint holds (config.json, model.safetensors,
tokenizer.json, tokenizer_config.json), so it goes through the same loader as a download.
Shapes are free: odd hidden sizes, head counts and head dims exercise tiling edge cases.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import tokenizers
from safetensors.numpy import save_file
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers

from fabless.errors import FablessError
from fabless.model.config import parse_hf_config
from fabless.model.layout import checkpoint_layout

# Enough distinct words for the tokenizer trainers to fill a few hundred merges.
_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs!",
    "How vexingly quick daft zebras jump; 0123456789.",
    "What is the capital of France? Paris is the capital of France.",
    "A systolic array multiplies matrices with a grid of processing elements.",
    "Tokens flow through attention, normalisation and the gated MLP, layer after layer.",
]
_CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)
_LLAMA_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
_BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@dataclass(frozen=True, kw_only=True)
class RandomModel:
    """The shape of a random checkpoint; defaults are deliberately not multiples of 8."""

    model_type: Literal["llama", "qwen2", "bert"] = "llama"
    hidden_size: int = 54
    intermediate_size: int = 98
    num_layers: int = 2
    num_heads: int = 3
    num_kv_heads: int = 1
    head_dim: int = 22
    vocab_size: int = 300
    max_positions: int = 96
    rope_theta: float = 10000.0
    rope_scaling: tuple[tuple[str, Any], ...] = ()
    tie_word_embeddings: bool = False
    attention_bias: bool = False
    seed: int = 0

    def hf_config(self) -> dict[str, Any]:
        """The `config.json` a Hugging Face model of this shape would carry."""
        common = {
            "model_type": self.model_type,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_layers,
            "num_attention_heads": self.num_heads,
            "vocab_size": self.vocab_size,
            "max_position_embeddings": self.max_positions,
        }
        if self.model_type == "bert":
            return {
                **common,
                "architectures": ["BertModel"],
                "hidden_act": "gelu",
                "layer_norm_eps": 1e-12,
                "type_vocab_size": 2,
            }
        arch = "Qwen2ForCausalLM" if self.model_type == "qwen2" else "LlamaForCausalLM"
        return {
            **common,
            "architectures": [arch],
            "num_key_value_heads": self.num_kv_heads,
            "head_dim": self.head_dim,
            "rms_norm_eps": 1e-5,
            "rope_theta": self.rope_theta,
            "rope_scaling": dict(self.rope_scaling) or None,
            "tie_word_embeddings": self.tie_word_embeddings,
            "attention_bias": self.attention_bias,
            "hidden_act": "silu",
        }


def write_random_checkpoint(directory: Path, model: RandomModel) -> Path:
    """Fill `directory` (created if needed) with a random checkpoint of `model`'s shape."""
    raw = model.hf_config()
    # The config's own checks refuse impossible shapes (odd head_dim, heads that do not tile).
    config = parse_hf_config(raw, directory.name, origin="RandomModel")
    rng = np.random.default_rng(model.seed)
    tensors = {}
    for name, shape in checkpoint_layout(config).items():
        if len(shape) == 2 and "embeddings" not in name and "embed_tokens" not in name:
            # 1/sqrt(fan_in) keeps activations O(1), so logits spread and argmax is stable.
            array = rng.standard_normal(shape) / np.sqrt(shape[1])
        elif len(shape) == 2:
            array = rng.standard_normal(shape)
        elif name.endswith("bias") and "LayerNorm" not in name:
            array = 0.1 * rng.standard_normal(shape)
        else:
            array = (0.0 if name.endswith("bias") else 1.0) + 0.1 * rng.standard_normal(shape)
        tensors[name] = array.astype(np.float32)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(raw, indent=1))
    save_file(tensors, directory / "model.safetensors")
    bert = model.model_type == "bert"
    tokenizer = _bert_tokenizer(model.vocab_size) if bert else _llama_tokenizer(model.vocab_size)
    tokenizer.save(str(directory / "tokenizer.json"))
    settings = (
        {"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]"}
        if bert
        else {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "chat_template": _CHATML}
    )
    (directory / "tokenizer_config.json").write_text(json.dumps(settings, indent=1))
    return directory


def _llama_tokenizer(vocab_size: int) -> tokenizers.Tokenizer:
    """Byte-level BPE as in GPT-2 and SmolLM2: every byte is a token, so any text round-trips."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    if vocab_size < len(alphabet) + len(_LLAMA_SPECIALS):
        raise FablessError(
            f"vocab_size {vocab_size} is below the {len(alphabet) + len(_LLAMA_SPECIALS)} "
            "tokens a byte-level tokenizer needs; raise it"
        )
    tokenizer = tokenizers.Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=_LLAMA_SPECIALS,
        initial_alphabet=alphabet,
        show_progress=False,
    )
    tokenizer.train_from_iterator(_CORPUS, trainer)
    return tokenizer


def _bert_tokenizer(vocab_size: int) -> tokenizers.Tokenizer:
    """Lower-casing WordPiece with [CLS] ... [SEP], as BERT's."""
    tokenizer = tokenizers.Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=_BERT_SPECIALS, show_progress=False
    )
    tokenizer.train_from_iterator(_CORPUS, trainer)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    return tokenizer
