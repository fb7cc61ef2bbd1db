"""Loading checkpoints: names and paths, HF layout, and a one-line error for every bad input."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from fabless.errors import FablessError
from fabless.model.checkpoint import Checkpoint, checkpoint_layout, load_checkpoint
from fabless.model.random_checkpoint import RandomModel, write_random_checkpoint
from fabless.model.zoo import load_model_config


def test_minilm_tensors_are_the_safetensors_file(minilm: Checkpoint) -> None:
    stored = load_file(minilm.source / "model.safetensors")
    assert sorted(minilm.tensors) == sorted(checkpoint_layout(minilm.config))
    assert "embeddings.position_ids" not in minilm.tensors
    for name, array in minilm.tensors.items():
        np.testing.assert_array_equal(array, stored[name], err_msg=name)
    assert minilm.config == load_model_config("minilm-l6")


def test_bert_prefix_is_stripped(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path, RandomModel(model_type="bert", hidden_size=12, num_heads=3))
    tensors = load_file(tmp_path / "model.safetensors")
    save_file({f"bert.{k}": v for k, v in tensors.items()}, tmp_path / "model.safetensors")
    loaded = load_checkpoint(tmp_path)
    np.testing.assert_array_equal(
        loaded.tensors["encoder.layer.1.output.dense.weight"], tensors["encoder.layer.1.output.dense.weight"]
    )


def test_sharded_checkpoint_is_merged(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path, RandomModel())
    tensors = load_file(tmp_path / "model.safetensors")
    names = sorted(tensors)
    (tmp_path / "model.safetensors").unlink()
    save_file({k: tensors[k] for k in names[::2]}, tmp_path / "model-00001-of-00002.safetensors")
    save_file({k: tensors[k] for k in names[1::2]}, tmp_path / "model-00002-of-00002.safetensors")
    loaded = load_checkpoint(tmp_path)
    assert sorted(loaded.tensors) == names


def test_shipped_names_are_case_insensitive_and_unknown_names_get_suggestions() -> None:
    with pytest.raises(FablessError, match=r"unknown checkpoint 'smollm2': did you mean smollm2-135m\?"):
        load_checkpoint("smollm2")
    with pytest.raises(FablessError, match=r"checkpoint /nowhere/x does not exist"):
        load_checkpoint("/nowhere/x")
    with pytest.raises(FablessError, match=r"model llama-3-8b is in the zoo as a config only"):
        load_checkpoint("llama-3-8b")
    assert load_checkpoint("MiniLM-L6").config.name == "minilm-l6"


def test_missing_config_json(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path, RandomModel())
    (tmp_path / "config.json").unlink()
    with pytest.raises(FablessError, match=rf"checkpoint {tmp_path} has no config.json"):
        load_checkpoint(tmp_path)


def test_missing_tokenizer_and_weights(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path, RandomModel())
    (tmp_path / "tokenizer.json").unlink()
    with pytest.raises(FablessError, match=r"has no tokenizer.json"):
        load_checkpoint(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(FablessError, match=r"has no \*.safetensors file; Fabless never loads pickled"):
        load_checkpoint(tmp_path)


def test_missing_tensor_is_named(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path, RandomModel())
    tensors = load_file(tmp_path / "model.safetensors")
    del tensors["model.layers.1.mlp.up_proj.weight"]
    save_file(tensors, tmp_path / "model.safetensors")
    with pytest.raises(FablessError, match=r"tensor 'model.layers.1.mlp.up_proj.weight' is missing"):
        load_checkpoint(tmp_path)


def test_shape_that_disagrees_with_config_is_named(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path, RandomModel(num_heads=3, num_kv_heads=1, head_dim=22))
    raw = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**raw, "num_key_value_heads": 3}))
    with pytest.raises(
        FablessError,
        match=r"tensor 'model.layers.0.self_attn.k_proj.weight' has shape "
        r"\(22, 54\) but config.json implies \(66, 54\)",
    ):
        load_checkpoint(tmp_path)


def test_truncated_safetensors_is_named(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path, RandomModel())
    file = tmp_path / "model.safetensors"
    file.write_bytes(file.read_bytes()[:-100])
    with pytest.raises(FablessError, match=rf"{file}: tensor .* the file is truncated"):
        load_checkpoint(tmp_path)


def test_unsupported_architecture_is_rejected(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path, RandomModel())
    raw = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**raw, "model_type": "mamba"}))
    with pytest.raises(FablessError, match=r"model_type 'mamba' is not supported"):
        load_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text(
        json.dumps({**raw, "model_type": "mixtral", "num_local_experts": 4, "num_experts_per_tok": 2})
    )
    with pytest.raises(FablessError, match=r"weights of mixtral \(MoE\) models cannot be loaded"):
        load_checkpoint(tmp_path)


def test_non_gguf_file_is_rejected(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path, RandomModel())
    with pytest.raises(FablessError, match=r"a checkpoint file must be .gguf"):
        load_checkpoint(tmp_path / "model.safetensors")


def test_tokenizer_larger_than_the_model_is_rejected(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path / "big", RandomModel(vocab_size=400))
    write_random_checkpoint(tmp_path / "small", RandomModel(vocab_size=300))
    shutil.copy(tmp_path / "big" / "tokenizer.json", tmp_path / "small" / "tokenizer.json")
    with pytest.raises(FablessError, match=r"the tokenizer has 400 tokens but the model only 300"):
        load_checkpoint(tmp_path / "small")


@pytest.mark.parametrize(
    "model",
    [
        RandomModel(),
        RandomModel(model_type="qwen2", tie_word_embeddings=True),
        RandomModel(attention_bias=True, num_heads=5, num_kv_heads=5, head_dim=6, hidden_size=31),
        RandomModel(model_type="bert", hidden_size=35, num_heads=7, intermediate_size=17),
    ],
)
def test_random_checkpoints_load_with_their_shapes(tmp_path: Path, model: RandomModel) -> None:
    checkpoint = load_checkpoint(write_random_checkpoint(tmp_path / "odd", model))
    c = checkpoint.config
    assert (c.name, c.hidden_size, c.num_heads, c.intermediate_size) == (
        "odd",
        model.hidden_size,
        model.num_heads,
        model.intermediate_size,
    )
    stored = load_file(tmp_path / "odd" / "model.safetensors")
    assert sorted(stored) == sorted(checkpoint.tensors)
    assert all(a.dtype == np.float32 for a in checkpoint.tensors.values())
    assert ("lm_head.weight" in stored) == (c.family == "llama" and not model.tie_word_embeddings)
    assert ("model.layers.0.self_attn.o_proj.bias" in stored) == model.attention_bias
    assert ("model.layers.0.self_attn.q_proj.bias" in stored) == (model.attention_bias or model.model_type == "qwen2")


def test_random_checkpoint_rejects_impossible_shapes(tmp_path: Path) -> None:
    with pytest.raises(FablessError, match=r"^RandomModel: head_dim must be even for rotary embeddings \(got 7\)$"):
        write_random_checkpoint(tmp_path, RandomModel(head_dim=7))
    with pytest.raises(FablessError, match=r"^RandomModel: hidden_size \(10\) must be a multiple of"):
        write_random_checkpoint(tmp_path, RandomModel(model_type="bert", hidden_size=10, num_heads=3))
    with pytest.raises(FablessError, match=r"vocab_size 100 is below the 259 tokens"):
        write_random_checkpoint(tmp_path, RandomModel(vocab_size=100))


def test_shard_listed_in_the_index_but_missing_is_named(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path, RandomModel())
    weight_map = {"model.embed_tokens.weight": "model-00002-of-00002.safetensors"}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    with pytest.raises(FablessError, match=r"index\.json lists shard model-00002-of-00002\.safetensors, which is"):
        load_checkpoint(tmp_path)
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"w": "../../etc/passwd"}}))
    with pytest.raises(FablessError, match=r"weight_map names '\.\./\.\./etc/passwd', not a \.safetensors file beside"):
        load_checkpoint(tmp_path)
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": [1]}))
    with pytest.raises(FablessError, match=r"index\.json: weight_map must be an object \(got \[1\]\)"):
        load_checkpoint(tmp_path)


def test_weights_of_another_shape_are_refused_before_they_are_read(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path / "small", RandomModel(hidden_size=20, head_dim=4, num_heads=2, num_kv_heads=1))
    write_random_checkpoint(tmp_path / "big", RandomModel())
    shutil.copy(tmp_path / "big" / "model.safetensors", tmp_path / "small" / "model.safetensors")
    with pytest.raises(FablessError, match=r"small/model\.safetensors: tensor '.*' has shape \(\d+, 54\) but config"):
        load_checkpoint(tmp_path / "small")


def test_only_pickled_weights_are_refused(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path, RandomModel())
    (tmp_path / "model.safetensors").rename(tmp_path / "pytorch_model.bin")
    with pytest.raises(FablessError, match=r"has no \*\.safetensors file; Fabless never loads pickled"):
        load_checkpoint(tmp_path)


def test_damaged_config_json_in_a_checkpoint_names_it(tmp_path: Path) -> None:
    write_random_checkpoint(tmp_path, RandomModel())
    raw = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**raw, "num_hidden_layers": 2**32 - 1}))
    with pytest.raises(FablessError, match=rf"^{tmp_path}/config\.json: num_hidden_layers must be between 1 and 1024"):
        load_checkpoint(tmp_path)
