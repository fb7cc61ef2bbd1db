"""Models: Hugging Face configs, the named zoo, and precisions."""

from fabless.model.config import ModelConfig, parse_hf_config
from fabless.model.precision import Precision
from fabless.model.zoo import load_model_config, zoo_names

__all__ = ["ModelConfig", "parse_hf_config", "Precision", "load_model_config", "zoo_names"]
