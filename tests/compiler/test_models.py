"""Random-weight checkpoints of odd shapes, compiled and run on the simulator, against torch.

Shapes deliberately divide neither the 128-wide MXUs of fab1 nor the 16-wide ones of the
tiny chip. Bounds, as a fraction of the largest |logit| of the reference: fp32 1e-4 (the
MXU's 22-bit aligned products), bf16 3e-2, int8 weights 5e-2, fp8 weights 2e-1 (one
quantisation rounding per weight: 2^-8, 2^-8 and 2^-4 relative).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.compiler import ChipModel, Numerics
from fabless.model.checkpoint import Checkpoint, checkpoint_layout, load_checkpoint
from fabless.model.config import parse_hf_config
from fabless.model.random_checkpoint import RandomModel, write_random_checkpoint
from fabless.model.reference import bert_hidden_states

BOUNDS = {"fp32": 1e-4, "bf16": 3e-2, "int8": 5e-2, "fp8": 2e-1}
PROMPT = [5, 17, 33, 2, 99, 150, 7, 64, 12]


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return load_checkpoint(write_random_checkpoint(tmp_path_factory.mktemp("llama") / "odd", RandomModel()))


@pytest.fixture(scope="module")
def qwen_tied(tmp_path_factory):
    shape = RandomModel(
        model_type="qwen2",
        hidden_size=70,
        num_heads=5,
        num_kv_heads=5,
        head_dim=14,
        intermediate_size=130,
        tie_word_embeddings=True,
        attention_bias=True,
        seed=3,
    )
    return load_checkpoint(write_random_checkpoint(tmp_path_factory.mktemp("qwen") / "tied", shape))


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    shape = RandomModel(model_type="bert", hidden_size=60, num_heads=4, intermediate_size=90, seed=5)
    return load_checkpoint(write_random_checkpoint(tmp_path_factory.mktemp("bert") / "odd", shape))


def _decode_logits(model: ChipModel, prompt: list[int], forced: list[int]) -> np.ndarray:
    rows = [model.prefill(prompt)]
    rows += [model.step(token) for token in forced]
    return np.stack(rows)


@pytest.mark.parametrize("weights", ["fp32", "bf16", "int8", "fp8"])
def test_odd_llama_matches_torch(chip, llama, torch_llama, weights):
    forced = [3, 200, 41]
    model = ChipModel(chip, llama, Numerics.for_weights(weights), max_context=32)
    got = _decode_logits(model, PROMPT, forced)
    want = torch_llama(llama.config, llama.tensors, PROMPT + forced)[len(PROMPT) - 1 :]
    assert np.abs(got - want).max() <= BOUNDS[weights] * np.abs(want).max()
    if weights == "fp32":
        assert np.array_equal(got.argmax(-1), want.argmax(-1))


def test_tied_biased_llama_matches_torch(qwen_tied, torch_llama, chip):
    model = ChipModel(chip, qwen_tied, Numerics(), max_context=16)
    got = _decode_logits(model, PROMPT, [9, 8])
    want = torch_llama(qwen_tied.config, qwen_tied.tensors, PROMPT + [9, 8])[len(PROMPT) - 1 :]
    assert np.abs(got - want).max() <= BOUNDS["fp32"] * np.abs(want).max()


def test_greedy_generation_follows_torch(llama, torch_llama, chip):
    model = ChipModel(chip, llama, Numerics(), max_context=32)
    new = model.generate(PROMPT, 10, stop_at_eos=False)
    want = torch_llama(llama.config, llama.tensors, PROMPT + new[:-1])[len(PROMPT) - 1 :].argmax(-1)
    assert new == want.tolist()


def test_on_token_sees_each_new_id_in_order_as_soon_as_it_is_chosen(llama, chip):
    model = ChipModel(chip, llama, Numerics(), max_context=32)
    seen: list[tuple[int, int]] = []
    new = model.generate(PROMPT, 6, stop_at_eos=False, on_token=lambda token: seen.append((token, model.length)))
    assert len(new) == 6 and [token for token, _ in seen] == new
    # Each id arrives before the step that feeds it back runs, so a caller can show it at once.
    assert [length for _, length in seen] == [len(PROMPT) + index for index in range(6)]


@pytest.mark.parametrize("weights", ["fp32", "bf16", "int8", "fp8"])
def test_odd_bert_mean_pooling_matches_reference(chip, bert, weights):
    model = ChipModel(chip, bert, Numerics.for_weights(weights), max_context=24)
    for ids in ([2, 15, 40, 8, 3], list(range(2, 21))):
        want = bert_hidden_states(bert, ids).mean(axis=0)
        got = model.encode(ids)
        assert np.abs(got - want).max() <= BOUNDS[weights] * np.abs(want).max()


def _in_memory_llama(hidden: int, heads: int, kv_heads: int, head_dim: int, seed: int) -> Checkpoint:
    shape = RandomModel(
        hidden_size=hidden,
        intermediate_size=hidden + 7,
        num_layers=1,
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        vocab_size=64,
        max_positions=160,
        seed=seed,
    )
    config = parse_hf_config(shape.hf_config(), "random")
    rng = np.random.default_rng(seed)
    tensors = {}
    for name, size in checkpoint_layout(config).items():
        scale = 1.0 if len(size) == 1 or "embed" in name else 1 / np.sqrt(size[1])
        tensors[name] = (rng.standard_normal(size) * scale + (1.0 if len(size) == 1 else 0.0)).astype(np.float32)
    return Checkpoint(config=config, tensors=tensors, tokenizer=None, source=None)  # type: ignore[arg-type]


@settings(max_examples=12, deadline=None)
@given(
    kv_heads=st.integers(1, 3),
    group=st.integers(1, 3),
    half_dim=st.integers(1, 20),
    hidden=st.integers(8, 90),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_attention_shapes_match_torch(chip, torch_llama, kv_heads, group, half_dim, hidden, seed, data):
    # The tiny chip's 256 KiB of SRAM holds prompts of up to 28 tokens at the largest of these
    # shapes (32 no longer fit); on fab1 they outgrow the 128-wide MXU blocks, so context
    # buckets and row blocks both get split.
    prompt = data.draw(st.integers(1, 140 if chip.name == "fab1" else 28), label="prompt")
    checkpoint = _in_memory_llama(hidden, kv_heads * group, kv_heads, 2 * half_dim, seed)
    ids = np.random.default_rng(seed).integers(0, 64, prompt + 2).tolist()
    model = ChipModel(chip, checkpoint, Numerics(), max_context=prompt + 2)
    got = _decode_logits(model, ids[:prompt], ids[prompt:])
    want = torch_llama(checkpoint.config, checkpoint.tensors, ids)[prompt - 1 :]
    assert np.abs(got - want).max() <= BOUNDS["fp32"] * np.abs(want).max()


@pytest.mark.parametrize("weights", ["fp32", "bf16", "int8", "fp8"])
def test_cores_share_the_work_bit_for_bit(chip, llama, bert, weights):
    # tiny16's 16-wide MXUs give every core column blocks of these odd shapes, and KV heads to some.
    numerics = Numerics.for_weights(weights)
    one_core = chip.model_copy(update={"cores": 1})
    spread = _decode_logits(ChipModel(chip, llama, numerics, max_context=32), PROMPT, [3, 8])
    alone = _decode_logits(ChipModel(one_core, llama, numerics, max_context=32), PROMPT, [3, 8])
    assert np.array_equal(spread, alone)
    ids = [1, 9, 4, 22, 7]
    encoded = ChipModel(chip, bert, numerics, max_context=24).encode(ids)
    assert np.array_equal(encoded, ChipModel(one_core, bert, numerics, max_context=24).encode(ids))
