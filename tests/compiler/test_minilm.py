"""all-MiniLM-L6-v2 on the simulated fab1: mean-pooled embeddings against torch.

The torch forward here is written from BERT's definition, independently of Fabless's
numpy reference. Bar: cosine >= 0.999 in every weight mode but fp8 (>= 0.99).
"""

import numpy as np
import pytest
import torch

from fabless.chip import load_chip
from fabless.compiler import ChipModel, Numerics
from fabless.model.checkpoint import load_checkpoint

TEXTS = ["A man is playing a guitar.", "Someone plays the guitar on stage.", "The stock market fell sharply today."]
COSINE = {"fp32": 0.999, "bf16": 0.999, "int8": 0.999, "fp8": 0.99}


@pytest.fixture(scope="module")
def minilm():
    return load_checkpoint("minilm-l6")


def _torch_mean_pooled(checkpoint, ids: list[int]) -> np.ndarray:
    c = checkpoint.config
    w = {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in checkpoint.tensors.items()}
    t, heads, d = len(ids), c.num_heads, c.hidden_size // c.num_heads

    def dense(x, name):
        return torch.nn.functional.linear(x, w[f"{name}.weight"], w[f"{name}.bias"])

    def norm(x, name):
        return torch.nn.functional.layer_norm(x, (c.hidden_size,), w[f"{name}.weight"], w[f"{name}.bias"], c.norm_eps)

    with torch.no_grad():
        e = "embeddings"
        x = w[f"{e}.word_embeddings.weight"][torch.tensor(ids)] + w[f"{e}.position_embeddings.weight"][:t]
        x = norm(x + w[f"{e}.token_type_embeddings.weight"][0], f"{e}.LayerNorm")
        for layer in range(c.num_layers):
            p = f"encoder.layer.{layer}"
            q, k, v = (
                dense(x, f"{p}.attention.self.{n}").view(t, heads, d).transpose(0, 1) for n in ("query", "key", "value")
            )
            context = torch.nn.functional.scaled_dot_product_attention(q, k, v).transpose(0, 1).reshape(t, -1)
            x = norm(x + dense(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
            inner = torch.nn.functional.gelu(dense(x, f"{p}.intermediate.dense"))
            x = norm(x + dense(inner, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        return x.mean(0).numpy()


@pytest.mark.parametrize("weights", ["fp32", "bf16", "int8", "fp8"])
def test_embeddings_match_torch(minilm, weights):
    model = ChipModel(load_chip("fab1"), minilm, Numerics.for_weights(weights), max_context=32)
    for text in TEXTS:
        ids = minilm.tokenizer.encode(text)
        got, want = model.encode(ids), _torch_mean_pooled(minilm, ids)
        cosine = float(got @ want / np.linalg.norm(got) / np.linalg.norm(want))
        assert cosine >= COSINE[weights]
