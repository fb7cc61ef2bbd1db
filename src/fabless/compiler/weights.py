"""Turn a checkpoint's tensors into the bytes of each HBM region of a layout.

Programs are compiled from shapes alone; this is the separate step that fills the
weight, scale, bias, norm and table regions with values, once per model.
"""

from collections.abc import Iterator, Mapping

import numpy as np

from fabless.compiler.layout import (
    HbmLayout,
    Linear,
    Region,
    global_linears,
    layer_linears,
    layer_norms,
)
from fabless.compiler.quantize import NUMPY_DTYPES, quantize_weight
from fabless.errors import FablessError
from fabless.model.config import ModelConfig


def weight_images(layout: HbmLayout, tensors: Mapping[str, np.ndarray]) -> Iterator[tuple[Region, np.ndarray]]:
    """Each filled region with its contents in the region's storage dtype and shape."""
    config = layout.config
    source = _Source(config, tensors)
    if config.family == "bert":
        yield from _tables(layout, source, "embeddings")
    else:
        yield (
            layout["embed"],
            source.get("model.embed_tokens.weight", (config.vocab_size, config.hidden_size)),
        )
        cos, sin = rope_tables(config, layout.max_context)
        yield layout["rope.cos"], cos
        yield layout["rope.sin"], sin
        yield from _norm(layout, source, "final_norm", "model.norm")
        yield layout["mask"], causal_mask(layout.max_context)
    for layer in range(config.num_layers):
        for name, prefix in layer_norms(config, layer):
            yield from _norm(layout, source, name, prefix)
        for lin in layer_linears(config, layer):
            yield from _linear(layout, source, lin)
    for lin in global_linears(config):
        yield from _linear(layout, source, lin)


def rope_tables(config: ModelConfig, positions: int) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin [position, head_dim] in fp32: fp32 angles from fp64 inverse frequencies."""
    if config.rope_scaling:
        kind = dict(config.rope_scaling).get("rope_type", dict(config.rope_scaling).get("type"))
        raise FablessError(f"model {config.name}: rope_scaling {kind!r} is not supported by the compiler yet")
    dim = config.head_dim
    half = np.arange(0, dim, 2, dtype=np.float64) / dim
    inv_freq = (1.0 / config.rope_theta**half).astype(np.float32)
    freqs = np.arange(positions, dtype=np.float32)[:, None] * inv_freq[None, :]
    emb = np.concatenate([freqs, freqs], axis=1).astype(np.float32)
    return np.cos(emb).astype(np.float32), np.sin(emb).astype(np.float32)


def causal_mask(positions: int) -> np.ndarray:
    """[position, key] = 0 where the key is at or before the position, else -inf."""
    seen = np.arange(positions)[None, :] <= np.arange(positions)[:, None]
    return np.where(seen, np.float32(0.0), np.float32(-np.inf)).astype(np.float32)


class _Source:
    def __init__(self, config: ModelConfig, tensors: Mapping[str, np.ndarray]) -> None:
        self.config = config
        self.tensors = tensors

    def get(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        if name not in self.tensors:
            raise FablessError(f"checkpoint of {self.config.name} lacks tensor {name!r}; is it a complete checkpoint?")
        value = np.asarray(self.tensors[name], dtype=np.float32)
        if value.shape != shape:
            raise FablessError(f"checkpoint tensor {name} has shape {value.shape}, but config.json implies {shape}")
        return value


def _linear(layout: HbmLayout, source: _Source, lin: Linear) -> Iterator[tuple[Region, np.ndarray]]:
    outs = _split_outputs(source.config, lin)
    parts = [source.get(f"{name}.weight", (n, lin.k)) for name, n in zip(lin.sources, outs, strict=True)]
    weight = np.concatenate(parts, axis=0)
    quantized = quantize_weight(weight, layout.numerics.weights_of(lin.name), channel_axis=0)
    yield layout[f"{lin.name}.weight"], quantized.values
    if quantized.scales is not None:
        yield layout[f"{lin.name}.scale"], quantized.scales
    if lin.bias:
        biases = [source.get(f"{name}.bias", (n,)) for name, n in zip(lin.sources, outs, strict=True)]
        yield layout[f"{lin.name}.bias"], np.concatenate(biases)


def _split_outputs(config: ModelConfig, lin: Linear) -> tuple[int, ...]:
    """Output widths of the HF tensors a fused projection concatenates."""
    if lin.name.endswith(".qkv"):
        return (config.q_size, config.kv_size, config.kv_size)
    if lin.name.endswith(".gate_up"):
        return (config.intermediate_size, config.intermediate_size)
    return (lin.n,)


def _norm(layout: HbmLayout, source: _Source, name: str, prefix: str) -> Iterator[tuple[Region, np.ndarray]]:
    h = source.config.hidden_size
    yield layout[f"{name}.weight"], source.get(f"{prefix}.weight", (h,))
    if source.config.norm == "layernorm":
        yield layout[f"{name}.bias"], source.get(f"{prefix}.bias", (h,))


def _tables(layout: HbmLayout, source: _Source, prefix: str) -> Iterator[tuple[Region, np.ndarray]]:
    config = source.config
    h = config.hidden_size
    yield layout["embed"], source.get(f"{prefix}.word_embeddings.weight", (config.vocab_size, h))
    yield (
        layout["position_embed"],
        source.get(f"{prefix}.position_embeddings.weight", (config.max_positions, h)),
    )
    types = max(config.type_vocab_size, 1)
    yield layout["type_embed"], source.get(f"{prefix}.token_type_embeddings.weight", (types, h))
    yield from _norm(layout, source, "embed_norm", f"{prefix}.LayerNorm")


def storage_array(region: Region, value: np.ndarray) -> np.ndarray:
    """`value` converted to `region`'s storage dtype, checked against its shape."""
    dtype = np.dtype(np.int32) if region.dtype == "int32" else NUMPY_DTYPES[region.dtype]
    array = np.ascontiguousarray(value).astype(dtype, copy=False)
    if array.shape != region.shape:
        raise FablessError(f"HBM region {region.name} holds {region.shape}, not {array.shape}")
    return array
