"""GGUF loading: a random Llama written as llama.cpp's converter would, read back to HF layout."""

import json
import struct
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


def write_gguf(source: Checkpoint, directory: Path, path: Path, quantise: bool = False, pre: str = "gpt-2") -> None:
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
    writer.add_tokenizer_pre(pre)
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


@pytest.mark.parametrize(
    ("pre", "message"),
    [
        ("x" * 100_000, r"tokenizer\.ggml\.pre must be at most 256 characters \(got 'x{36}\.\.\.\)"),
        ("gpt-2\x1b[2J", r"tokenizer\.ggml\.pre must not hold control characters \(got 'gpt-2\\x1b\[2J'\)"),
        ("qwen2", r"GGUF pre-tokenizer 'qwen2' is not supported \(known: default, gpt-2, refact"),
    ],
)
def test_bad_pre_tokenizer_is_refused_in_one_short_line(tmp_path: Path, pre: str, message: str) -> None:
    original = load_checkpoint(write_random_checkpoint(tmp_path, RandomModel()))
    write_gguf(original, tmp_path, tmp_path / "model.gguf", pre=pre)
    with pytest.raises(FablessError, match=message) as caught:
        load_checkpoint(tmp_path / "model.gguf")
    assert len(str(caught.value)) < 300 and "\n" not in str(caught.value)


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


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    directory = tmp_path_factory.mktemp("tiny")
    model = RandomModel(num_layers=1, hidden_size=16, head_dim=8, num_heads=2, num_kv_heads=1, intermediate_size=24)
    write_gguf(load_checkpoint(write_random_checkpoint(directory, model)), directory, directory / "m.gguf")
    return (directory / "m.gguf").read_bytes()


def _after_key(raw: bytes, key: str) -> int:
    """The offset just past a metadata key's (or tensor name's) length-prefixed bytes."""
    encoded = key.encode()
    return raw.index(struct.pack("<Q", len(encoded)) + encoded) + 8 + len(encoded)


def _patched(raw: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(raw)
    struct.pack_into("<" + fmt, out, offset, value)
    return bytes(out)


def _load_bytes(tmp_path: Path, raw: bytes) -> Checkpoint:
    (tmp_path / "bad.gguf").write_bytes(raw)
    return load_checkpoint(tmp_path / "bad.gguf")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("llama.block_count", 2**32 - 1, "llama.block_count must be between 1 and 1024 (got 4294967295)"),
        ("llama.attention.head_count", 0, "llama.attention.head_count must be between 1 and 4096 (got 0)"),
        ("llama.attention.head_count_kv", 3, "llama.attention.head_count_kv (3) must divide"),
        ("llama.context_length", 0, "llama.context_length must be between 1 and 16777216 (got 0)"),
        ("llama.embedding_length", 18, "tensor 'token_embd.weight' has shape (300, 16) but the GGUF metadata implies"),
    ],
)
def test_impossible_metadata_names_the_gguf_key(
    tmp_path: Path, tiny_gguf: bytes, key: str, value: int, message: str
) -> None:
    bad = _patched(tiny_gguf, _after_key(tiny_gguf, key) + 4, "I", value)
    with pytest.raises(FablessError) as caught:
        _load_bytes(tmp_path, bad)
    assert str(caught.value).startswith(f"{tmp_path / 'bad.gguf'}: ") and message in str(caught.value)


def test_metadata_of_the_wrong_type_is_named(tmp_path: Path, tiny_gguf: bytes) -> None:
    as_float = _patched(tiny_gguf, _after_key(tiny_gguf, "llama.attention.head_count"), "I", 6)
    with pytest.raises(FablessError, match=r"bad\.gguf: llama\.attention\.head_count must be an integer \(got 2"):
        _load_bytes(tmp_path, as_float)
    as_bool = _patched(tiny_gguf, _after_key(tiny_gguf, "tokenizer.ggml.add_bos_token"), "I", 0)
    with pytest.raises(FablessError, match=r"tokenizer\.ggml\.add_bos_token must be true or false \(got 0\)"):
        _load_bytes(tmp_path, as_bool)


@pytest.mark.parametrize("key", ["tokenizer.ggml.tokens", "tokenizer.ggml.token_type"])
def test_array_claiming_more_items_than_the_file_is_refused_at_once(tmp_path: Path, tiny_gguf: bytes, key: str) -> None:
    # type (u32 ARRAY), item type (u32), then the item count (u64)
    bad = _patched(tiny_gguf, _after_key(tiny_gguf, key) + 8, "Q", 2**62)
    with pytest.raises(FablessError, match=rf"not a readable GGUF file \(metadata '{key}' claims \d+ items"):
        _load_bytes(tmp_path, bad)


@pytest.mark.parametrize(
    ("dim", "value", "message"),
    [
        (0, 2**41, r"tensor 'token_embd.weight' has shape \[2199023255552, 300\], past any real model"),
        (1, 2**40, r"tensor 'token_embd.weight' ends at byte \d+ but the file holds \d+: it is truncated"),
    ],
)
def test_absurd_tensor_shape_is_refused_before_any_read(
    tmp_path: Path, tiny_gguf: bytes, dim: int, value: int, message: str
) -> None:
    # n_dims (u32), then the dimensions (u64 each), innermost first
    bad = _patched(tiny_gguf, _after_key(tiny_gguf, "token_embd.weight") + 4 + 8 * dim, "Q", value)
    with pytest.raises(FablessError, match=rf"bad\.gguf: not a readable GGUF file \({message}\)"):
        _load_bytes(tmp_path, bad)


def test_merge_of_unknown_tokens_is_refused_not_a_panic(tmp_path: Path) -> None:
    original = load_checkpoint(write_random_checkpoint(tmp_path, RandomModel()))
    spec = json.loads((tmp_path / "tokenizer.json").read_text())
    spec["model"]["merges"].append(["zz", "qq"])
    (tmp_path / "tokenizer.json").write_text(json.dumps(spec))
    write_gguf(original, tmp_path, tmp_path / "m.gguf")
    with pytest.raises(FablessError, match=r"m\.gguf: tokenizer\.ggml\.merges entry 'zz qq' joins tokens not in"):
        load_checkpoint(tmp_path / "m.gguf")


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_corruption_of_a_gguf_loads_or_is_a_fablesserror(
    tmp_path_factory: pytest.TempPathFactory, tiny_gguf: bytes, data: st.DataObject
) -> None:
    raw = bytearray(tiny_gguf)
    for _ in range(data.draw(st.integers(1, 4))):
        # Most of the file is weights; aim half the hits at the header, where the structure is.
        end = data.draw(st.sampled_from([min(len(raw), 4096), len(raw)]))
        raw[data.draw(st.integers(0, end - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    directory = tmp_path_factory.mktemp("corrupt")
    try:
        loaded = _load_bytes(directory, bytes(raw))
    except FablessError as error:
        assert str(directory / "bad.gguf") in str(error) and "\n" not in str(error)
        return
    assert loaded.config.num_layers == 1
