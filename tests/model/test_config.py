"""Hugging Face config.json files: every key Fabless reads is typed and ranged, with one-line errors."""

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.errors import FablessError
from fabless.model.config import ModelConfig, load_hf_config
from fabless.model.layout import checkpoint_layout
from fabless.model.zoo import load_model_config, zoo_names

_LLAMA = {
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 300,
    "max_position_embeddings": 128,
    "rope_theta": 10000.0,
}
_LLAMA3_SCALING = {
    "rope_type": "llama3",
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 64,
}


def write_config(tmp_path: Path, raw: Any) -> Path:
    file = tmp_path / "config.json"
    file.write_text(raw if isinstance(raw, str) else json.dumps(raw))
    return file


def load(tmp_path: Path, **changes: Any) -> ModelConfig:
    return load_hf_config(write_config(tmp_path, {**_LLAMA, **changes}))


def test_every_zoo_config_loads() -> None:
    for name in zoo_names():
        assert load_model_config(name).params > 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"num_hidden_layers": -4096}, "num_hidden_layers must be between 1 and 1024 (got -4096)"),
        ({"num_hidden_layers": True}, "num_hidden_layers must be an integer (got True)"),
        ({"hidden_size": "64"}, "hidden_size must be an integer (got '64')"),
        ({"hidden_size": 64.0}, "hidden_size must be an integer (got 64.0)"),
        ({"hidden_size": 2**18}, "hidden_size must be between 1 and 131072 (got 262144)"),
        ({"num_attention_heads": 0}, "num_attention_heads must be between 1 and 4096 (got 0)"),
        ({"vocab_size": 2**23}, "vocab_size must be between 1 and 4194304 (got 8388608)"),
        ({"intermediate_size": None}, "intermediate_size must be an integer (got None)"),
        ({"max_position_embeddings": 2**40}, "max_position_embeddings must be between 1 and 16777216"),
        ({"rope_theta": 1e300}, "rope_theta must be above 0 and at most 1e+12 (got 1e+300)"),
        ({"rope_theta": -1}, "rope_theta must be above 0 and at most 1e+12 (got -1)"),
        ({"rope_theta": True}, "rope_theta must be a number (got True)"),
        ({"rms_norm_eps": 0}, "rms_norm_eps must be above 0 and at most 0.1 (got 0)"),
        ({"tie_word_embeddings": 1}, "tie_word_embeddings must be true or false (got 1)"),
        ({"hidden_act": "relu"}, "hidden_act must be 'silu' (got 'relu')"),
        ({"rope_scaling": "linear"}, "rope_scaling must be an object (got 'linear')"),
        ({"rope_scaling": {"type": "linear"}}, "rope_scaling.factor is missing, and linear scaling needs it"),
        ({"rope_scaling": {"type": "linear", "factor": "2"}}, "rope_scaling.factor must be a number (got '2')"),
        ({"rope_scaling": {"type": "linear", "factor": 0}}, "rope_scaling.factor must be above 0"),
        ({"rope_scaling": {"type": "linear", "factor": 2, "mscale": [1]}}, "rope_scaling.mscale must be a number"),
        (
            {"rope_scaling": {"type": "yarn", "factor": 4.0}},
            "rope_scaling.type must be 'default', 'linear' or 'llama3' (got 'yarn')",
        ),
        (
            {"rope_scaling": {"rope_type": None, "factor": 4.0}},
            "rope_scaling.rope_type must be 'default', 'linear' or 'llama3' (got None)",
        ),
        (
            {"rope_scaling": {**_LLAMA3_SCALING, "rope_type": "llama3\x00\x1b[31m"}},
            "rope_scaling.rope_type must be 'default', 'linear' or 'llama3' (got 'llama3\\x00\\x1b[31m')",
        ),
        (
            {"rope_scaling": {"rope_type": "l" * 10_000}},
            f"rope_scaling.rope_type must be 'default', 'linear' or 'llama3' (got '{'l' * 36}...)",
        ),
        (
            {"rope_scaling": {"type": "linear", "factor": 2, "note": "a\tb"}},
            "rope_scaling.note must not hold control characters (got 'a\\tb')",
        ),
        (
            {"rope_scaling": {"type": "linear", "factor": 2, "note": "n" * 300}},
            "rope_scaling.note must be at most 256 characters (got 'nnn",
        ),
        ({"rope_scaling": {**_LLAMA3_SCALING, "high_freq_factor": 1.0}}, "low_freq_factor (1) must be below"),
        ({"rope_scaling": {"rope_type": "llama3", "factor": 8.0}}, "rope_scaling.low_freq_factor is missing"),
        ({"num_key_value_heads": 3}, "num_key_value_heads (3) must divide num_attention_heads (4)"),
        ({"num_key_value_heads": 8}, "num_key_value_heads (8) must divide num_attention_heads (4)"),
        ({"num_attention_heads": 5}, "hidden_size (64) must be a multiple of num_attention_heads (5), or set head_dim"),
        ({"head_dim": 7}, "head_dim must be even for rotary embeddings (got 7)"),
        ({"head_dim": 0}, "head_dim must be between 2 and 1024 (got 0)"),
        ({"model_type": "mamba"}, "model_type 'mamba' is not supported; supported: bert, gpt2, llama"),
        ({"model_type": None}, "model_type is missing; supported: bert, gpt2, llama"),
        ({"model_type": "mixtral"}, "num_local_experts is missing: add it to"),
        (
            {"model_type": "mixtral", "num_local_experts": 2, "num_experts_per_tok": 4},
            "num_experts_per_tok (4) must be at most num_local_experts (2)",
        ),
        ({"vocab_size": 10**4000}, f"vocab_size must be between 1 and 4194304 (got 1{'0' * 36}...)"),
    ],
)
def test_impossible_values_name_the_file_and_the_key(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(FablessError) as caught:
        load(tmp_path, **changes)
    assert str(caught.value).startswith(f"{tmp_path / 'config.json'}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    raw = {key: value for key, value in _LLAMA.items() if key != "vocab_size"}
    with pytest.raises(FablessError, match=r"config\.json: vocab_size is missing: add it to .*config\.json$"):
        load_hf_config(write_config(tmp_path, raw))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "must hold a JSON object at the top level, not list"),
        ('{"model_type": "llama", "hidden_size": NaN}', "not valid JSON (NaN is not a number JSON allows)"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply to be a real file"),
        ('{"vocab_size": ' + "9" * 5000 + "}", "not valid JSON"),
        ('{"model_type": "llama",', "not valid JSON"),
    ],
)
def test_malformed_json_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(FablessError, match=r"^[^\n]*$") as caught:
        load_hf_config(write_config(tmp_path, text))
    assert message in str(caught.value) and str(tmp_path / "config.json") in str(caught.value)


def test_huge_or_binary_config_is_refused_before_parsing(tmp_path: Path) -> None:
    file = tmp_path / "config.json"
    file.write_bytes(b'{"a": "' + b"x" * (2**20) + b'"}')
    with pytest.raises(FablessError, match=r"config\.json is larger than 1 MiB"):
        load_hf_config(file)
    file.write_bytes(b'{"model_type": "\xff"}')
    with pytest.raises(FablessError, match=r"config\.json: not UTF-8 text"):
        load_hf_config(file)


def test_other_families_are_checked_too(tmp_path: Path) -> None:
    gpt2 = {"model_type": "gpt2", "n_embd": 60, "n_head": 7, "n_layer": 2, "n_positions": 64, "vocab_size": 100}
    with pytest.raises(FablessError, match=r"n_embd \(60\) must be a multiple of n_head \(7\)$"):
        load_hf_config(write_config(tmp_path, gpt2))
    bert = {**_LLAMA, "model_type": "bert", "hidden_act": "relu"}
    with pytest.raises(FablessError, match=r"hidden_act must be 'gelu', 'gelu_new' or 'gelu_pytorch_tanh'"):
        load_hf_config(write_config(tmp_path, bert))
    with pytest.raises(FablessError, match=r"type_vocab_size must be between 0 and 1024 \(got 2000\)"):
        load_hf_config(write_config(tmp_path, {**bert, "hidden_act": "gelu", "type_vocab_size": 2000}))
    no_types = load_hf_config(write_config(tmp_path, {**bert, "hidden_act": "gelu", "type_vocab_size": 0}))
    with pytest.raises(FablessError, match=r"type_vocab_size is 0, but a BERT forward adds token type 0"):
        checkpoint_layout(no_types)


def test_real_shapes_still_load(tmp_path: Path) -> None:
    config = load(tmp_path, rope_scaling=_LLAMA3_SCALING, head_dim=22, num_attention_heads=3, num_key_value_heads=1)
    assert (config.head_dim, config.num_kv_heads, dict(config.rope_scaling)["rope_type"]) == (22, 1, "llama3")
    assert load(tmp_path, num_key_value_heads=None, rope_scaling=None).num_kv_heads == 4


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=100, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(sorted({*_LLAMA, "head_dim", "rope_scaling"})), _VALUES, max_size=3))
def test_any_value_loads_in_range_or_is_a_fablesserror(tmp_path_factory: pytest.TempPathFactory, changes: dict) -> None:
    directory = tmp_path_factory.mktemp("config")
    try:
        config = load(directory, **changes)
    except FablessError as error:
        assert "\n" not in str(error) and str(directory / "config.json") in str(error)
        return
    assert 1 <= config.num_layers <= 1024 and 1 <= config.num_heads <= 4096
    assert config.num_heads % config.num_kv_heads == 0 and config.head_dim % 2 == 0
    assert 0 < config.rope_theta <= 1e12 and config.params > 0
