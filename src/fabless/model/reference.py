"""Plain-numpy float32 forward passes: the baseline the simulated chip is checked and timed against.

They follow Hugging Face's `LlamaForCausalLM` and `BertModel` (plus sentence-transformers'
mean pooling and normalisation) operation for operation, in float32 throughout.
"""

from collections.abc import Sequence

import numpy as np
from scipy.special import erf, expit

from fabless.errors import FablessError
from fabless.model.checkpoint import Checkpoint
from fabless.model.rope import rope_cos_sin, rope_inverse_frequencies


class LlamaReference:
    """A causal LM with a KV cache: `prefill` a prompt, then `step` one token at a time."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        c = checkpoint.config
        if c.family != "llama" or c.is_moe:
            raise FablessError(f"model {c.name} is not a dense Llama-style decoder; use bert_embeddings for encoders")
        self.config = c
        self._w = checkpoint.tensors
        self._head = self._w["model.embed_tokens.weight" if c.tie_word_embeddings else "lm_head.weight"]
        rope_inverse_frequencies(c)  # reject an unsupported rope_scaling before any work
        self._keys: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        self.length = 0

    def prefill(self, token_ids: Sequence[int]) -> np.ndarray:
        """Start a new sequence; the logits [len(token_ids), vocab] at every prompt position."""
        if not token_ids:
            raise FablessError("the prompt is empty: pass at least one token id")
        shape = (self.config.num_kv_heads, 0, self.config.head_dim)
        self._keys = [np.zeros(shape, np.float32) for _ in range(self.config.num_layers)]
        self._values = [np.zeros(shape, np.float32) for _ in range(self.config.num_layers)]
        self.length = 0
        return self._forward(token_ids)

    def step(self, token_id: int) -> np.ndarray:
        """Append one token to the sequence; the logits [vocab] for the next one."""
        if not self._keys:
            raise FablessError("step() before prefill(): prefill the prompt first")
        return self._forward([token_id])[0]

    def _forward(self, token_ids: Sequence[int]) -> np.ndarray:
        c, w = self.config, self._w
        ids = np.asarray(token_ids, dtype=np.int64)
        if ids.min() < 0 or ids.max() >= c.vocab_size:
            raise FablessError(
                f"token id {int(ids.max() if ids.max() >= c.vocab_size else ids.min())} is outside "
                f"{c.name}'s vocabulary of {c.vocab_size}"
            )
        if self.length + len(ids) > c.max_positions:
            raise FablessError(
                f"{self.length + len(ids)} tokens exceed {c.name}'s max_position_embeddings "
                f"{c.max_positions}: shorten the prompt or max_new_tokens"
            )
        cos, sin = rope_cos_sin(c, np.arange(self.length, self.length + len(ids)))
        x = w["model.embed_tokens.weight"][ids]
        for layer in range(c.num_layers):
            p = f"model.layers.{layer}"
            h = _rms_norm(x, w[f"{p}.input_layernorm.weight"], c.norm_eps)
            x = x + self._attention(layer, h, cos, sin)
            h = _rms_norm(x, w[f"{p}.post_attention_layernorm.weight"], c.norm_eps)
            gate = _linear(w, f"{p}.mlp.gate_proj", h)
            x = x + _linear(w, f"{p}.mlp.down_proj", _silu(gate) * _linear(w, f"{p}.mlp.up_proj", h))
        self.length += len(ids)
        return _rms_norm(x, w["model.norm.weight"], c.norm_eps) @ self._head.T

    def _attention(self, layer: int, h: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
        c, w, p = self.config, self._w, f"model.layers.{layer}.self_attn"
        tokens, d, kv_heads = len(h), c.head_dim, c.num_kv_heads
        group = c.num_heads // kv_heads
        q = _rope(_linear(w, f"{p}.q_proj", h).reshape(tokens, c.num_heads, d), cos, sin)
        k = _rope(_linear(w, f"{p}.k_proj", h).reshape(tokens, kv_heads, d), cos, sin)
        v = _linear(w, f"{p}.v_proj", h).reshape(tokens, kv_heads, d)
        keys = self._keys[layer] = np.concatenate([self._keys[layer], k.transpose(1, 0, 2)], axis=1)
        values = self._values[layer] = np.concatenate([self._values[layer], v.transpose(1, 0, 2)], axis=1)
        # Query head j reads kv head j // group, as Hugging Face's repeat_kv arranges them.
        q = q.reshape(tokens, kv_heads, group, d).transpose(1, 2, 0, 3)
        scores = (q @ keys[:, None].swapaxes(-1, -2)) / np.float32(np.sqrt(d))
        seen = self.length + np.arange(tokens)[:, None] >= np.arange(keys.shape[1])[None, :]
        probs = _softmax(np.where(seen, scores, -np.inf))
        out = (probs @ values[:, None]).transpose(2, 0, 1, 3).reshape(tokens, c.q_size)
        return _linear(w, f"{p}.o_proj", out)


def llama_logits(checkpoint: Checkpoint, token_ids: Sequence[int]) -> np.ndarray:
    """Logits [len(token_ids), vocab] of a causal LM over one sequence."""
    return LlamaReference(checkpoint).prefill(token_ids)


def generate_greedy(
    checkpoint: Checkpoint, prompt_ids: Sequence[int], max_new_tokens: int, stop_at_eos: bool = True
) -> list[int]:
    """The new tokens picked by argmax; stops after the tokenizer's EOS when `stop_at_eos`."""
    if max_new_tokens < 0:
        raise FablessError(f"max_new_tokens must be at least 0 (got {max_new_tokens})")
    model = LlamaReference(checkpoint)
    eos = checkpoint.tokenizer.eos_token_id if stop_at_eos else None
    new: list[int] = []
    if max_new_tokens == 0:
        return new
    logits = model.prefill(prompt_ids)[-1]
    while True:
        new.append(int(np.argmax(logits)))
        if len(new) == max_new_tokens or new[-1] == eos:
            return new
        logits = model.step(new[-1])


def bert_hidden_states(checkpoint: Checkpoint, token_ids: Sequence[int]) -> np.ndarray:
    """The last layer's hidden states [len(token_ids), hidden] of a BERT encoder (token type 0)."""
    c, w = checkpoint.config, checkpoint.tensors
    if c.family != "bert":
        raise FablessError(f"model {c.name} is not a BERT-style encoder; use LlamaReference for decoders")
    ids = np.asarray(token_ids, dtype=np.int64)
    if not 0 < len(ids) <= c.max_positions:
        raise FablessError(f"{len(ids)} tokens: {c.name} encodes 1 to {c.max_positions} tokens; shorten the text")
    if ids.min() < 0 or ids.max() >= c.vocab_size:
        raise FablessError(f"a token id is outside {c.name}'s vocabulary of {c.vocab_size}")
    e = "embeddings"
    x = (
        w[f"{e}.word_embeddings.weight"][ids]
        + w[f"{e}.position_embeddings.weight"][: len(ids)]
        + w[f"{e}.token_type_embeddings.weight"][0]
    )
    x = _layer_norm(x, w, f"{e}.LayerNorm", c.norm_eps)
    heads, d = c.num_heads, c.hidden_size // c.num_heads
    for layer in range(c.num_layers):
        p = f"encoder.layer.{layer}"
        q, k, v = (
            _linear(w, f"{p}.attention.self.{n}", x).reshape(len(ids), heads, d).transpose(1, 0, 2)
            for n in ("query", "key", "value")
        )
        probs = _softmax((q @ k.swapaxes(-1, -2)) / np.float32(np.sqrt(d)))
        context = (probs @ v).transpose(1, 0, 2).reshape(len(ids), c.hidden_size)
        x = _layer_norm(
            x + _linear(w, f"{p}.attention.output.dense", context),
            w,
            f"{p}.attention.output.LayerNorm",
            c.norm_eps,
        )
        inner = _gelu(_linear(w, f"{p}.intermediate.dense", x), c.activation)
        x = _layer_norm(x + _linear(w, f"{p}.output.dense", inner), w, f"{p}.output.LayerNorm", c.norm_eps)
    return x


def bert_embeddings(checkpoint: Checkpoint, inputs: Sequence[str] | Sequence[Sequence[int]]) -> np.ndarray:
    """Sentence embeddings [len(inputs), hidden]: mean-pooled and L2-normalised."""
    rows = []
    for item in inputs:
        ids = checkpoint.tokenizer.encode(item) if isinstance(item, str) else list(item)
        pooled = bert_hidden_states(checkpoint, ids).mean(axis=0)
        rows.append(pooled / max(float(np.linalg.norm(pooled)), 1e-12))
    return np.stack(rows).astype(np.float32)


def _linear(w: dict[str, np.ndarray], name: str, x: np.ndarray) -> np.ndarray:
    y = x @ w[f"{name}.weight"].T
    bias = w.get(f"{name}.bias")
    return y if bias is None else y + bias


def _rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    return weight * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + np.float32(eps)))


def _layer_norm(x: np.ndarray, w: dict[str, np.ndarray], name: str, eps: float) -> np.ndarray:
    centred = x - x.mean(axis=-1, keepdims=True)
    scale = np.sqrt(np.mean(centred * centred, axis=-1, keepdims=True) + np.float32(eps))
    return centred / scale * w[f"{name}.weight"] + w[f"{name}.bias"]


def _rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Hugging Face's rotate-half RoPE on [tokens, heads, head_dim]."""
    half = x.shape[-1] // 2
    first, second = x[..., :half], x[..., half:]
    c, s = cos[:, None, :], sin[:, None, :]
    return np.concatenate([first * c - second * s, second * c + first * s], axis=-1)


def _softmax(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _silu(x: np.ndarray) -> np.ndarray:
    return x * expit(x)


def _gelu(x: np.ndarray, kind: str) -> np.ndarray:
    if kind == "gelu_tanh":
        return 0.5 * x * (1 + np.tanh(np.float32(np.sqrt(2 / np.pi)) * (x + np.float32(0.044715) * x**3)))
    return (0.5 * x * (1 + erf(x / np.float32(np.sqrt(2))))).astype(np.float32)
