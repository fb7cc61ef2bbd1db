"""The tensors a model needs: Hugging Face names and shapes, from its config alone.

Loaders check files against this before reading weights, so a file that disagrees with
its config is refused before any array is built.
"""

from fabless.errors import FablessError
from fabless.model.config import ModelConfig


def checkpoint_layout(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor a model of this config needs, by Hugging Face name, with its shape."""
    if config.family == "llama" and not config.is_moe:
        return _llama_layout(config)
    if config.family == "bert":
        return _bert_layout(config)
    raise FablessError(
        f"model {config.name}: weights of {config.model_type}{' (MoE)' if config.is_moe else ''} "
        "models cannot be loaded; Fabless runs dense Llama- and BERT-style checkpoints"
    )


def _llama_layout(c: ModelConfig) -> dict[str, tuple[int, ...]]:
    h, f = c.hidden_size, c.intermediate_size
    layout: dict[str, tuple[int, ...]] = {
        "model.embed_tokens.weight": (c.vocab_size, h),
        "model.norm.weight": (h,),
    }
    if not c.tie_word_embeddings:
        layout["lm_head.weight"] = (c.vocab_size, h)
    for i in range(c.num_layers):
        p = f"model.layers.{i}"
        attn = {
            "q_proj": (c.q_size, h),
            "k_proj": (c.kv_size, h),
            "v_proj": (c.kv_size, h),
            "o_proj": (h, c.q_size),
        }
        for proj, shape in attn.items():
            layout[f"{p}.self_attn.{proj}.weight"] = shape
            if (c.qkv_bias and proj != "o_proj") or (c.out_bias and proj == "o_proj"):
                layout[f"{p}.self_attn.{proj}.bias"] = shape[:1]
        for proj, shape in {"gate_proj": (f, h), "up_proj": (f, h), "down_proj": (h, f)}.items():
            layout[f"{p}.mlp.{proj}.weight"] = shape
            if c.mlp_bias:
                layout[f"{p}.mlp.{proj}.bias"] = shape[:1]
        layout[f"{p}.input_layernorm.weight"] = (h,)
        layout[f"{p}.post_attention_layernorm.weight"] = (h,)
    return layout


def _bert_layout(c: ModelConfig) -> dict[str, tuple[int, ...]]:
    if c.type_vocab_size == 0:
        raise FablessError(
            f"model {c.name}: type_vocab_size is 0, but a BERT forward adds token type 0's embedding; "
            "set type_vocab_size to the checkpoint's number of token types"
        )
    h, f = c.hidden_size, c.intermediate_size
    layout: dict[str, tuple[int, ...]] = {
        "embeddings.word_embeddings.weight": (c.vocab_size, h),
        "embeddings.position_embeddings.weight": (c.max_positions, h),
        "embeddings.token_type_embeddings.weight": (c.type_vocab_size, h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
    }
    for i in range(c.num_layers):
        p = f"encoder.layer.{i}"
        linears = {
            "attention.self.query": (h, h),
            "attention.self.key": (h, h),
            "attention.self.value": (h, h),
            "attention.output.dense": (h, h),
            "intermediate.dense": (f, h),
            "output.dense": (h, f),
        }
        for module, shape in linears.items():
            layout[f"{p}.{module}.weight"] = shape
            layout[f"{p}.{module}.bias"] = shape[:1]
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            layout[f"{p}.{norm}.weight"] = (h,)
            layout[f"{p}.{norm}.bias"] = (h,)
    return layout
