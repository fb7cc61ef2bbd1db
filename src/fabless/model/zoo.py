"""Named models: Hugging Face `config.json` files shipped under `fabless/data/models`."""

from importlib import resources
from pathlib import Path

from fabless.errors import unknown_name_error
from fabless.model.config import ModelConfig, load_hf_config

_ZOO = resources.files("fabless") / "data" / "models"


def zoo_names() -> list[str]:
    return sorted(p.name.removesuffix(".json") for p in _ZOO.iterdir() if p.name.endswith(".json"))


def load_model_config(name_or_path: str | Path) -> ModelConfig:
    """A zoo model (`llama-3-8b`) or a path to a `config.json` or a checkpoint directory."""
    text = str(name_or_path)
    path = Path(text)
    if text.endswith(".json") or "/" in text or path.is_dir():
        return load_hf_config(path)
    resource = _ZOO / f"{text.lower()}.json"
    if not resource.is_file():
        raise unknown_name_error("model", text, zoo_names())
    with resources.as_file(resource) as file:
        config = load_hf_config(file)
    return ModelConfig(**{**config.__dict__, "name": text.lower()})
