"""The small random checkpoints that checkpoint fuzzing mutates: safetensors and GGUF, built once."""

import atexit
import json
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

import gguf
import numpy as np

from fabless.model import RandomModel, load_checkpoint, write_random_checkpoint

GGUF_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}
LAYER_NAMES = {
    "input_layernorm": "attn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "post_attention_layernorm": "ffn_norm",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
Metadata = list[tuple[str, gguf.GGUFValueType, object]]


@cache
def scratch() -> Path:
    """A folder for the seeds, removed when the process that made it exits (not a forked worker)."""
    folder = Path(tempfile.mkdtemp(prefix="fabless-fuzz-seeds-"))
    owner = os.getpid()
    atexit.register(lambda: os.getpid() == owner and shutil.rmtree(folder, ignore_errors=True))
    return folder


@cache
def safetensors_files() -> dict[str, bytes]:
    """Every file of a random two-layer Llama checkpoint directory, by name."""
    folder = write_random_checkpoint(scratch() / "checkpoint", RandomModel())
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@cache
def gguf_parts() -> tuple[tuple[tuple[str, gguf.GGUFValueType, object], ...], tuple[tuple[str, np.ndarray], ...]]:
    """The metadata and tensors a llama.cpp conversion of the random checkpoint holds."""
    folder = scratch() / "checkpoint"
    safetensors_files()
    checkpoint = load_checkpoint(folder)
    c = checkpoint.config
    spec = json.loads((folder / "tokenizer.json").read_text())
    vocab = spec["model"]["vocab"]
    specials = {t["id"] for t in spec["added_tokens"]}
    tokens = sorted(vocab, key=vocab.get)
    t = gguf.GGUFValueType
    metadata: Metadata = [
        ("general.architecture", t.STRING, "llama"),
        ("llama.block_count", t.UINT32, c.num_layers),
        ("llama.context_length", t.UINT32, c.max_positions),
        ("llama.embedding_length", t.UINT32, c.hidden_size),
        ("llama.feed_forward_length", t.UINT32, c.intermediate_size),
        ("llama.attention.head_count", t.UINT32, c.num_heads),
        ("llama.attention.head_count_kv", t.UINT32, c.num_kv_heads),
        ("llama.attention.key_length", t.UINT32, c.head_dim),
        ("llama.rope.freq_base", t.FLOAT32, c.rope_theta),
        ("llama.attention.layer_norm_rms_epsilon", t.FLOAT32, c.norm_eps),
        ("llama.vocab_size", t.UINT32, c.vocab_size),
        ("tokenizer.ggml.model", t.STRING, "gpt2"),
        ("tokenizer.ggml.pre", t.STRING, "gpt-2"),
        ("tokenizer.ggml.tokens", t.ARRAY, tokens),
        ("tokenizer.ggml.token_type", t.ARRAY, [3 if i in specials else 1 for i in range(len(tokens))]),
        ("tokenizer.ggml.merges", t.ARRAY, [" ".join(pair) for pair in spec["model"]["merges"]]),
        ("tokenizer.ggml.bos_token_id", t.UINT32, checkpoint.tokenizer.bos_token_id),
        ("tokenizer.ggml.eos_token_id", t.UINT32, checkpoint.tokenizer.eos_token_id),
    ]
    tensors = tuple((gguf_name(name), array) for name, array in checkpoint.tensors.items())
    return tuple(metadata), tensors


def gguf_name(hf_name: str) -> str:
    if hf_name in GGUF_NAMES:
        return GGUF_NAMES[hf_name]
    _, _, layer, rest = hf_name.split(".", 3)
    module, suffix = rest.rsplit(".", 1)
    return f"blk.{layer}.{LAYER_NAMES[module]}.{suffix}"


def gguf_bytes(metadata: Metadata, tensors: list[tuple[str, np.ndarray]]) -> bytes:
    """A GGUF file of these parts; rotary rows are left in HF order, which only changes the weights."""
    path = scratch() / "written.gguf"
    writer = gguf.GGUFWriter(path, arch=None)  # type: ignore[arg-type]
    for key, kind, value in metadata:
        sub = gguf.GGUFValueType.get_type(value[0]) if kind is gguf.GGUFValueType.ARRAY and value else None
        writer.add_key_value(key, value, kind, sub_type=sub)
    for name, array in tensors:
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()
