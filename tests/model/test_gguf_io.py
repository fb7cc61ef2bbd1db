"""GGUF loading: a random Llama written as llama.cpp's converter would, read back to HF layout."""

import json
from pathlib import Path

import gguf
import numpy as np
import pytest
from gguf import GGMLQuantizationType, quants
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.errors import FablessError
from fabless.model.checkpoint import Checkpoint, load_checkpoint
from fabless.model.random_checkpoint import RandomModel, write_random_checkpoint

# Hugging Face name pieces -> GGUF, as llama.cpp's tensor map (gguf.TensorNameMap) spells them.
_LAYER_NAMES = {
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
_TEXTS = ["Hello world, the fox!", "  spaces\tand\nnew lines 1234", "<|im_start|>user\nhi<|im_end|>"]


def llama_cpp_permute(weights: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """`LlamaModel.permute` from llama.cpp's convert_hf_to_gguf.py."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def gguf_name(hf_name: str) -> str:
    fixed = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    if hf_name in fixed:
        return fixed[hf_name]
    _, _, layer, rest = hf_name.split(".", 3)
    module, suffix = rest.rsplit(".", 1)
    return f"blk.{layer}.{_LAYER_NAMES[module]}.{suffix}"


def write_gguf(source: Checkpoint, directory: Path, path: Path, quantise: bool = False) -> None:
    """Convert a loaded HF checkpoint to GGUF the way convert_hf_to_gguf.py does for Llama."""
    c = source.config
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_block_count(c.num_layers)
    writer.add_context_length(c.max_positions)
    writer.add_embedding_length(c.hidden_size)
    writer.add_feed_forward_length(c.intermediate_size)
    writer.add_head_count(c.num_heads)
    writer.add_head_count_kv(c.num_kv_heads)
    writer.add_key_length(c.head_dim)
    writer.add_value_length(c.head_dim)
    writer.add_rope_dimension_count(c.head_dim)
    writer.add_rope_freq_base(c.rope_theta)
    writer.add_layer_norm_rms_eps(c.norm_eps)
    writer.add_vocab_size(c.vocab_size)
    spec = json.loads((directory / "tokenizer.json").read_text())
    vocab = spec["model"]["vocab"]
    specials = {t["id"] for t in spec["added_tokens"]}
    tokens = sorted(vocab, key=vocab.get)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")
    writer.add_token_list(tokens)
    writer.add_token_types([3 if i in specials else 1 for i in range(len(tokens))])
    writer.add_token_merges([" ".join(pair) for pair in spec["model"]["merges"]])
    writer.add_bos_token_id(source.tokenizer.bos_token_id)
    writer.add_eos_token_id(source.tokenizer.eos_token_id)
    writer.add_add_bos_token(False)
    writer.add_chat_template(source.tokenizer.chat_template)
    for name, array in source.tensors.items():
        if name.endswith(("q_proj.weight", "q_proj.bias")):
            array = llama_cpp_permute(array, c.num_heads, c.num_heads)
        elif name.endswith(("k_proj.weight", "k_proj.bias")):
            array = llama_cpp_permute(array, c.num_heads, c.num_kv_heads)
        if quantise and array.ndim == 2 and array.shape[1] % 32 == 0:
            packed = quants.quantize(array, GGMLQuantizationType.Q8_0)
            writer.add_tensor(gguf_name(name), packed, raw_shape=packed.shape, raw_dtype=GGMLQuantizationType.Q8_0)
        else:
            writer.add_tensor(gguf_name(name), array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


@settings(max_examples=6, deadline=None)
@given(
    kv_heads=st.integers(1, 3),
    group=st.integers(1, 3),
    half_head_dim=st.integers(1, 13),
    hidden=st.integers(8, 70),
    tied=st.booleans(),
)
def test_gguf_round_trip_undoes_the_rotary_permutation(
    tmp_path_factory: pytest.TempPathFactory,
    kv_heads: int,
    group: int,
    half_head_dim: int,
    hidden: int,
    tied: bool,
) -> None:
    directory = tmp_path_factory.mktemp("hf")
    model = RandomModel(
        hidden_size=hidden,
        num_heads=kv_heads * group,
        num_kv_heads=kv_heads,
        head_dim=2 * half_head_dim,
        intermediate_size=hidden + 7,
        tie_word_embeddings=tied,
    )
    original = load_checkpoint(write_random_checkpoint(directory, model))
    write_gguf(original, directory, directory / "model.gguf")
    loaded = load_checkpoint(directory / "model.gguf")
    assert loaded.config == original.config.__class__(**{**original.config.__dict__, "name": "model"})
    assert sorted(loaded.tensors) == sorted(original.tensors)
    for name, array in original.tensors.items():
        np.testing.assert_array_equal(loaded.tensors[name], array, err_msg=name)


def test_gguf_tokenizer_encodes_like_the_tokenizer_json(tmp_path: Path) -> None:
    original = load_checkpoint(write_random_checkpoint(tmp_path, RandomModel()))
    write_gguf(original, tmp_path, tmp_path / "model.gguf")
    loaded = load_checkpoint(tmp_path / "model.gguf")
    for text in _TEXTS:
        assert loaded.tokenizer.encode(text) == original.tokenizer.encode(text)
        assert loaded.tokenizer.decode(loaded.tokenizer.encode(text)) == original.tokenizer.decode(
            original.tokenizer.encode(text)
        )
    assert loaded.tokenizer.chat_prompt("Why?") == original.tokenizer.chat_prompt("Why?")
    assert (loaded.tokenizer.bos_token_id, loaded.tokenizer.eos_token_id) == (1, 2)


def test_quantised_gguf_dequantises_to_ggml_values(tmp_path: Path) -> None:
    model = RandomModel(hidden_size=64, num_heads=4, num_kv_heads=2, head_dim=16, intermediate_size=96)
    original = load_checkpoint(write_random_checkpoint(tmp_path, model))
    write_gguf(original, tmp_path, tmp_path / "q8.gguf", quantise=True)
    loaded = load_checkpoint(tmp_path / "q8.gguf")
    q = original.tensors["model.layers.1.self_attn.q_proj.weight"]
    expected = quants.dequantize(quants.quantize(q, GGMLQuantizationType.Q8_0), GGMLQuantizationType.Q8_0)
    np.testing.assert_array_equal(loaded.tensors["model.layers.1.self_attn.q_proj.weight"], expected)
    down = original.tensors["model.layers.0.mlp.down_proj.weight"]
    got = loaded.tensors["model.layers.0.mlp.down_proj.weight"]
    assert 0 < np.abs(got - down).max() <= np.abs(down).max() / 127


@pytest.mark.parametrize("keep_fraction", [0.0, 0.001, 0.3, 0.999])
def test_truncated_gguf_names_the_file(tmp_path: Path, keep_fraction: float) -> None:
    original = load_checkpoint(write_random_checkpoint(tmp_path, RandomModel()))
    write_gguf(original, tmp_path, tmp_path / "full.gguf")
    raw = (tmp_path / "full.gguf").read_bytes()
    (tmp_path / "cut.gguf").write_bytes(raw[: int(len(raw) * keep_fraction)])
    with pytest.raises(FablessError, match=r"cut\.gguf: not a readable GGUF file .*re-download"):
        load_checkpoint(tmp_path / "cut.gguf")


def test_non_llama_gguf_is_rejected(tmp_path: Path) -> None:
    writer = gguf.GGUFWriter(tmp_path / "other.gguf", "mamba")
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(FablessError, match=r"other\.gguf: GGUF architecture 'mamba' is not supported"):
        load_checkpoint(tmp_path / "other.gguf")


def test_smollm2_config_from_gguf_metadata_equals_the_zoo_config(smollm2: Checkpoint) -> None:
    from fabless.model.zoo import load_model_config

    assert smollm2.config == load_model_config("smollm2-135m")
    assert "lm_head.weight" not in smollm2.tensors
    assert smollm2.tensors["model.embed_tokens.weight"].shape == (49152, 576)
    assert smollm2.tensors["model.layers.29.self_attn.k_proj.weight"].shape == (192, 576)
