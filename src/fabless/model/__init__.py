"""Models: Hugging Face configs, the named zoo, precisions, checkpoints, tokenizers and numpy references."""

from importlib import import_module
from typing import TYPE_CHECKING

from fabless.model.config import ModelConfig, parse_hf_config
from fabless.model.precision import Precision
from fabless.model.zoo import load_model_config, zoo_names

if TYPE_CHECKING:
    from fabless.model.checkpoint import Checkpoint, checkpoint_layout, load_checkpoint, shipped_checkpoint_names
    from fabless.model.random_checkpoint import RandomModel, write_random_checkpoint
    from fabless.model.reference import (
        LlamaReference,
        bert_embeddings,
        bert_hidden_states,
        generate_greedy,
        llama_logits,
    )
    from fabless.model.rope import rope_cos_sin, rope_inverse_frequencies
    from fabless.model.tokenizer import Tokenizer

# Checkpoints, tokenizers and references pull in gguf, tokenizers, safetensors and scipy
# (half a second); the performance model only needs configs, so these load on first use.
_LAZY = {
    "Checkpoint": "checkpoint",
    "checkpoint_layout": "checkpoint",
    "load_checkpoint": "checkpoint",
    "shipped_checkpoint_names": "checkpoint",
    "RandomModel": "random_checkpoint",
    "write_random_checkpoint": "random_checkpoint",
    "LlamaReference": "reference",
    "bert_embeddings": "reference",
    "bert_hidden_states": "reference",
    "generate_greedy": "reference",
    "llama_logits": "reference",
    "rope_cos_sin": "rope",
    "rope_inverse_frequencies": "rope",
    "Tokenizer": "tokenizer",
}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value  # later look-ups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["ModelConfig", "parse_hf_config", "Precision", "load_model_config", "zoo_names",
           "Checkpoint", "checkpoint_layout", "load_checkpoint", "shipped_checkpoint_names", "Tokenizer",
           "LlamaReference", "llama_logits", "generate_greedy", "bert_hidden_states", "bert_embeddings",
           "RandomModel", "write_random_checkpoint", "rope_inverse_frequencies", "rope_cos_sin"]
