"""Hugging Face config.json files, mutated from the zoo, loaded by `load_model_config`."""

import json
import random
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from fabless.chip import load_chip
from fabless.model import ModelConfig, Precision, load_model_config
from fabless.perf import decode_time, prefill_time

from .calls import call_library, implausible_number
from .cases import Case, Expect, Verdict
from .emit import json_text
from .hostile import Slot
from .kinds import Kind
from .textfile import mutated_file_case
from .tree import Path as TreePath

FILE = "config.json"
# The keys Fabless reads, per family; any other key (torch_dtype, _source) may hold anything.
_COUNTS = {
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "vocab_size",
    "max_position_embeddings",
    "num_local_experts",
    "num_experts_per_tok",
    "n_embd",
    "n_head",
    "n_inner",
    "n_layer",
    "n_positions",
    "type_vocab_size",
}
_POSITIVE = {"rms_norm_eps", "layer_norm_epsilon", "layer_norm_eps", "rope_theta"}
_FLAGS = {"tie_word_embeddings", "attention_bias", "mlp_bias"}
_DERIVED_WHEN_NULL = {"num_key_value_heads", "head_dim", "n_inner", "rope_scaling"}
_ENUMS = {"model_type"}


@cache
def seeds() -> dict[str, dict[str, Any]]:
    folder = resources.files("fabless") / "data" / "models"
    return {
        entry.name: json.loads(entry.read_text())
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    }


def slot_of(where: TreePath) -> Slot:
    key = str(where[0])
    read = key in _COUNTS | _POSITIVE | _FLAGS | _ENUMS or key == "rope_scaling"
    return Slot(
        read=read,
        integer=key in _COUNTS,
        zero_ok=key == "type_vocab_size",
        null_ok=key in _DERIVED_WHEN_NULL and len(where) == 1,
    )


def generate(rng: random.Random, index: int) -> Case:
    name, tree = rng.choice(sorted(seeds().items()))
    return mutated_file_case(rng, index, "model-config", name, tree, FILE, json_text, slot_of, duplicate=Expect.ANY)


def execute(case: Case, folder: Path) -> Verdict:
    return call_library(lambda: load_model_config(FILE), _use)


def _use(config: ModelConfig) -> str | None:
    chip = load_chip("h100")
    # An encoder has no decode step: time what it does run, one short prompt.
    if config.causal:
        what, time_s = "a decode step's time_s", decode_time(chip, config, Precision(), batch=1, context=128).time_s
    else:
        what, time_s = "a prefill's time_s", prefill_time(chip, config, Precision(), batch=1, seq=16).time_s
    return implausible_number("parameter count", config.params) or implausible_number(what, time_s)


KIND = Kind(
    "model-config", "Hugging Face config.json (load_model_config, then a decode or prefill step)", generate, execute
)
