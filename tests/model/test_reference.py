"""The numpy reference forwards against independent PyTorch forwards written from the HF models."""

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.errors import FablessError
from fabless.model.checkpoint import Checkpoint, load_checkpoint
from fabless.model.config import ModelConfig
from fabless.model.random_checkpoint import RandomModel, write_random_checkpoint
from fabless.model.reference import (
    LlamaReference,
    bert_embeddings,
    bert_hidden_states,
    generate_greedy,
    llama_logits,
)


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Torch's thread pool slows ~10x when other processes share the 2 cores; these passes are small."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def torch_inv_freq(c: ModelConfig) -> torch.Tensor:
    """transformers' `_compute_default_rope_parameters`, with `_compute_llama3_parameters` on top."""
    d = c.head_dim
    inv_freq = 1.0 / (c.rope_theta ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    scaling = dict(c.rope_scaling)
    if scaling.get("rope_type") != "llama3":
        return inv_freq
    factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
    old = scaling["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv_freq
    llama = torch.where(wavelen > old / low, inv_freq / factor, inv_freq)
    smooth = (old / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * llama / factor + smooth * llama
    medium = ~(wavelen < old / high) * ~(wavelen > old / low)
    return torch.where(medium, smoothed, llama)


@one_torch_thread()
def torch_llama_logits(c: ModelConfig, tensors: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """`LlamaForCausalLM.forward` in fp32: rotate-half RoPE, repeat_kv GQA, SDPA causal attention."""
    w = {name: torch.from_numpy(array) for name, array in tensors.items()}

    def norm(x: torch.Tensor, name: str) -> torch.Tensor:
        return w[name] * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + c.norm_eps))

    def linear(x: torch.Tensor, name: str) -> torch.Tensor:
        return F.linear(x, w[f"{name}.weight"], w.get(f"{name}.bias"))

    def rotate_half(x: torch.Tensor) -> torch.Tensor:
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
        return torch.cat((-x2, x1), dim=-1)

    tokens, d = len(ids), c.head_dim
    inv_freq = torch_inv_freq(c)
    freqs = torch.arange(tokens).float()[:, None] * inv_freq[None, :]
    cos, sin = torch.cat((freqs, freqs), -1).cos(), torch.cat((freqs, freqs), -1).sin()
    x = w["model.embed_tokens.weight"][torch.tensor(ids)]
    for layer in range(c.num_layers):
        p = f"model.layers.{layer}"
        h = norm(x, f"{p}.input_layernorm.weight")
        q = linear(h, f"{p}.self_attn.q_proj").view(tokens, c.num_heads, d).transpose(0, 1)
        k = linear(h, f"{p}.self_attn.k_proj").view(tokens, c.num_kv_heads, d).transpose(0, 1)
        v = linear(h, f"{p}.self_attn.v_proj").view(tokens, c.num_kv_heads, d).transpose(0, 1)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        group = c.num_heads // c.num_kv_heads
        k, v = k.repeat_interleave(group, dim=0), v.repeat_interleave(group, dim=0)
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + linear(attn.transpose(0, 1).reshape(tokens, c.q_size), f"{p}.self_attn.o_proj")
        h = norm(x, f"{p}.post_attention_layernorm.weight")
        mlp = F.silu(linear(h, f"{p}.mlp.gate_proj")) * linear(h, f"{p}.mlp.up_proj")
        x = x + linear(mlp, f"{p}.mlp.down_proj")
    head = w["model.embed_tokens.weight" if c.tie_word_embeddings else "lm_head.weight"]
    return F.linear(norm(x, "model.norm.weight"), head).numpy()


@one_torch_thread()
def torch_sentence_embedding(c: ModelConfig, tensors: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """`BertModel` (token type 0, no padding) + sentence-transformers mean pooling + Normalize."""
    w = {name: torch.from_numpy(array) for name, array in tensors.items()}

    def linear(x: torch.Tensor, name: str) -> torch.Tensor:
        return F.linear(x, w[f"{name}.weight"], w[f"{name}.bias"])

    def layer_norm(x: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(x, (c.hidden_size,), w[f"{name}.weight"], w[f"{name}.bias"], c.norm_eps)

    tokens, heads = len(ids), c.num_heads
    e = "embeddings"
    x = w[f"{e}.word_embeddings.weight"][torch.tensor(ids)] + w[f"{e}.position_embeddings.weight"][:tokens]
    x = layer_norm(x + w[f"{e}.token_type_embeddings.weight"][0], f"{e}.LayerNorm")
    for layer in range(c.num_layers):
        p = f"encoder.layer.{layer}"
        q, k, v = (
            linear(x, f"{p}.attention.self.{n}").view(tokens, heads, -1).transpose(0, 1)
            for n in ("query", "key", "value")
        )
        context = F.scaled_dot_product_attention(q, k, v).transpose(0, 1).reshape(tokens, c.hidden_size)
        x = layer_norm(x + linear(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
        inner = F.gelu(linear(x, f"{p}.intermediate.dense"))
        x = layer_norm(x + linear(inner, f"{p}.output.dense"), f"{p}.output.LayerNorm")
    return F.normalize(x.mean(0), dim=-1).numpy()


def _assert_logits_close(got: np.ndarray, want: np.ndarray) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


@pytest.fixture(scope="module")
def france(smollm2: Checkpoint) -> tuple[list[int], list[int]]:
    """The chat prompt and 32 greedy tokens from the numpy reference (EOS does not stop it)."""
    prompt = smollm2.tokenizer.chat_prompt("What is the capital of France?")
    return prompt, generate_greedy(smollm2, prompt, 32, stop_at_eos=False)


def test_smollm2_logits_match_torch(smollm2: Checkpoint, france: tuple[list[int], list[int]]) -> None:
    prompt, _ = france
    _assert_logits_close(llama_logits(smollm2, prompt), torch_llama_logits(smollm2.config, smollm2.tensors, prompt))


def test_smollm2_greedy_tokens_match_torch_for_32_tokens(
    smollm2: Checkpoint, france: tuple[list[int], list[int]]
) -> None:
    prompt, new = france
    # One teacher-forced torch pass: its argmax at each position is torch's greedy choice given
    # the same prefix, so equal argmaxes everywhere means equal greedy sequences.
    logits = torch_llama_logits(smollm2.config, smollm2.tensors, prompt + new[:-1])
    assert len(new) == 32
    assert logits[len(prompt) - 1 :].argmax(-1).tolist() == new
    assert "Paris" in smollm2.tokenizer.decode(new)


def test_smollm2_kv_cache_steps_match_torch(smollm2: Checkpoint, france: tuple[list[int], list[int]]) -> None:
    prompt, new = france
    model = LlamaReference(smollm2)
    model.prefill(prompt)
    stepped = np.stack([model.step(token) for token in new[:8]])
    want = torch_llama_logits(smollm2.config, smollm2.tensors, prompt + new[:8])[len(prompt) :]
    _assert_logits_close(stepped, want)
    assert model.length == len(prompt) + 8


def test_minilm_embeddings_match_torch(minilm: Checkpoint) -> None:
    texts = ["A man is eating food.", "The new movie is awesome!", "Fabless designs inference chips."]
    got = bert_embeddings(minilm, texts)
    for text, row in zip(texts, got, strict=True):
        want = torch_sentence_embedding(minilm.config, minilm.tensors, minilm.tokenizer.encode(text))
        assert float(row @ want) >= 0.9999
        np.testing.assert_allclose(row, want, atol=2e-5)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)


@settings(max_examples=10, deadline=None)
@given(
    kv_heads=st.integers(1, 3),
    group=st.integers(1, 3),
    half_head_dim=st.integers(1, 19),
    hidden=st.integers(5, 77),
    ffn=st.integers(3, 111),
    layers=st.integers(1, 3),
    tied=st.booleans(),
    model_type=st.sampled_from(["llama", "qwen2"]),
    rope_theta=st.sampled_from([10000.0, 500000.0]),
    llama3_scaling=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_random_llama_matches_torch(
    tmp_path_factory: pytest.TempPathFactory,
    kv_heads: int,
    group: int,
    half_head_dim: int,
    hidden: int,
    ffn: int,
    layers: int,
    tied: bool,
    model_type: str,
    rope_theta: float,
    llama3_scaling: bool,
    seed: int,
) -> None:
    # A short original context puts the head's wavelengths in all three llama3 regimes.
    llama3 = {
        "rope_type": "llama3",
        "factor": 4.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 16,
    }
    model = RandomModel(
        model_type=model_type,
        hidden_size=hidden,
        intermediate_size=ffn,
        num_layers=layers,
        num_heads=kv_heads * group,
        num_kv_heads=kv_heads,
        head_dim=2 * half_head_dim,
        tie_word_embeddings=tied,
        attention_bias=seed % 2 == 1,
        rope_theta=rope_theta,
        rope_scaling=tuple(sorted(llama3.items())) if llama3_scaling else (),
        seed=seed,
    )
    checkpoint = load_checkpoint(write_random_checkpoint(tmp_path_factory.mktemp("llama"), model))
    ids = [int(i) for i in np.random.default_rng(seed).integers(0, model.vocab_size, 13)]
    want = torch_llama_logits(checkpoint.config, checkpoint.tensors, ids)
    _assert_logits_close(llama_logits(checkpoint, ids), want)
    reference = LlamaReference(checkpoint)
    reference.prefill(ids[:5])
    _assert_logits_close(np.stack([reference.step(i) for i in ids[5:]]), want[5:])


@settings(max_examples=6, deadline=None)
@given(
    heads=st.integers(1, 5),
    head_dim=st.integers(1, 13),
    ffn=st.integers(3, 97),
    layers=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_random_bert_matches_torch(
    tmp_path_factory: pytest.TempPathFactory, heads: int, head_dim: int, ffn: int, layers: int, seed: int
) -> None:
    model = RandomModel(
        model_type="bert",
        hidden_size=heads * head_dim,
        num_heads=heads,
        intermediate_size=ffn,
        num_layers=layers,
        vocab_size=150,
        seed=seed,
    )
    checkpoint = load_checkpoint(write_random_checkpoint(tmp_path_factory.mktemp("bert"), model))
    ids = checkpoint.tokenizer.encode("The quick brown fox, 42 zebras.")
    got = bert_embeddings(checkpoint, [ids])[0]
    want = torch_sentence_embedding(checkpoint.config, checkpoint.tensors, ids)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_generation_stops_after_eos(tmp_path: Path) -> None:
    checkpoint = load_checkpoint(write_random_checkpoint(tmp_path, RandomModel(seed=3)))
    prompt = checkpoint.tokenizer.chat_prompt("hi")
    free = generate_greedy(checkpoint, prompt, 40, stop_at_eos=False)
    logits = torch_llama_logits(checkpoint.config, checkpoint.tensors, prompt + free[:-1])
    assert logits[len(prompt) - 1 :].argmax(-1).tolist() == free
    eos = checkpoint.tokenizer.eos_token_id
    stopped = generate_greedy(checkpoint, prompt, 40)
    want = free[: free.index(eos) + 1] if eos in free else free
    assert stopped == want


def test_reference_rejects_bad_inputs(smollm2: Checkpoint, minilm: Checkpoint) -> None:
    with pytest.raises(FablessError, match="outside smollm2-135m's vocabulary of 49152"):
        llama_logits(smollm2, [1, 49152])
    with pytest.raises(FablessError, match="prompt is empty"):
        llama_logits(smollm2, [])
    with pytest.raises(FablessError, match="not a dense Llama-style decoder"):
        LlamaReference(minilm)
    with pytest.raises(FablessError, match="513 tokens: minilm-l6 encodes 1 to 512 tokens"):
        bert_hidden_states(minilm, [101] * 513)
