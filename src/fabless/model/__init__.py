"""Models: Hugging Face configs, the named zoo, precisions, checkpoints, tokenizers and numpy references."""

from fabless.model.checkpoint import (
    Checkpoint,
    checkpoint_layout,
    load_checkpoint,
    shipped_checkpoint_names,
)
from fabless.model.config import ModelConfig, parse_hf_config
from fabless.model.precision import Precision
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
from fabless.model.zoo import load_model_config, zoo_names

__all__ = ["ModelConfig", "parse_hf_config", "Precision", "load_model_config", "zoo_names",
           "Checkpoint", "checkpoint_layout", "load_checkpoint", "shipped_checkpoint_names", "Tokenizer",
           "LlamaReference", "llama_logits", "generate_greedy", "bert_hidden_states", "bert_embeddings",
           "RandomModel", "write_random_checkpoint", "rope_inverse_frequencies", "rope_cos_sin"]
