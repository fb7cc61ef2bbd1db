"""Build the graph of one forward step from a model config, a phase and a precision."""

import warnings

from fabless.errors import FablessError
from fabless.graph.ops import (
    Attention,
    Elementwise,
    Embedding,
    Graph,
    MatMul,
    MoeMatMul,
    Normalize,
    Op,
    Pointwise,
    Tensor,
)
from fabless.model.config import ModelConfig
from fabless.model.precision import Precision

_LAYER = "{layer}"


def prefill_graph(config: ModelConfig, precision: Precision, batch: int, seq: int) -> Graph:
    """Process `seq` prompt tokens for each of `batch` sequences; logits for the last token only."""
    _check_positive(batch=batch, seq=seq)
    _check_window(config, seq)
    return _build(config, precision, "prefill", batch, q_len=seq, kv_len=seq)


def decode_graph(config: ModelConfig, precision: Precision, batch: int, context: int) -> Graph:
    """One new token for each of `batch` sequences that already hold `context` tokens."""
    _check_positive(batch=batch, context=context)
    if config.family == "bert":
        raise FablessError(f"model {config.name} is an encoder: it has no decode step, use prefill/encode")
    # A cache of exactly max_position_embeddings tokens is the model's full window; the new
    # token's key then sits one past it, like the last token of a full-length prefill.
    _check_window(config, context)
    return _build(config, precision, "decode", batch, q_len=1, kv_len=context + 1)


def encode_graph(config: ModelConfig, precision: Precision, batch: int, seq: int) -> Graph:
    """A bidirectional encoder pass (BERT): every position's hidden state is the output."""
    _check_positive(batch=batch, seq=seq)
    _check_window(config, seq)
    return _build(config, precision, "encode", batch, q_len=seq, kv_len=seq)


class ContextBeyondWindowWarning(UserWarning):
    """A step priced at more positions than the model was trained for (RoPE-scaled variants)."""


def _check_window(config: ModelConfig, positions: int) -> None:
    """Warn, not refuse: users price RoPE-scaled variants past the configured window."""
    if positions > config.max_positions:
        warnings.warn(
            f"context {positions} exceeds {config.name}'s max_position_embeddings {config.max_positions}: "
            "priced as if the model ran that long (a RoPE-scaled variant)",
            ContextBeyondWindowWarning,
            stacklevel=3,
        )


def _check_positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if value < 1:
            raise FablessError(f"{name} must be at least 1 (got {value})")


def _build(config: ModelConfig, p: Precision, phase: str, batch: int, q_len: int, kv_len: int) -> Graph:
    tokens = batch * q_len
    ops: list[Op] = []
    tensors: dict[str, Tensor] = {"tokens": Tensor((batch, q_len), "int32", "input")}
    names = _weight_names(config)
    act, w, c = p.activations, p.weights, p.matmul_dtype
    h = config.hidden_size
    layers = config.num_layers

    def linear(name: str, x: str, n: int, k: int, m: int = tokens, bias: bool = False, repeat: int = layers) -> None:
        weight = names[name]
        tensors[weight] = Tensor((n, k), w, "weight")
        ops.append(
            MatMul(
                name=name,
                inputs=(x, weight),
                output=name,
                repeat=repeat,
                m=m,
                n=n,
                k=k,
                x_dtype=act,
                w_dtype=w,
                out_dtype=act,
                compute_dtype=c,
                bias=bias,
            )
        )

    def norm(name: str, x: str, rows: int = tokens, repeat: int = layers) -> None:
        ops.append(
            Normalize(
                name=name,
                inputs=(x, names[name]),
                output=name,
                repeat=repeat,
                rows=rows,
                cols=h,
                kind=config.norm,
                dtype=act,
                eps=config.norm_eps,
            )
        )

    def pointwise(
        name: str, inputs: tuple[str, ...], cols: int, fn: Elementwise, flops: float, rows: int = tokens
    ) -> None:
        ops.append(
            Pointwise(
                name=name,
                inputs=inputs,
                output=name,
                repeat=layers,
                rows=rows,
                cols=cols,
                fn=fn,
                dtype=act,
                operands=len(inputs),
                flops_per_element=flops,
            )
        )  # type: ignore[arg-type]

    ops.append(
        Embedding(
            name="embed",
            inputs=("tokens", names["embed"]),
            output="x",
            tokens=tokens,
            vocab=config.vocab_size,
            hidden=h,
            dtype=w,
        )
    )
    tensors[names["embed"]] = Tensor((config.vocab_size, h), w, "weight")
    pre_norm = config.family != "bert"
    if not pre_norm:
        norm("embed_norm", "x", repeat=1)

    if pre_norm:
        norm("attn_norm", "x")
    attn_in = "attn_norm" if pre_norm else "x"
    linear("q_proj", attn_in, config.q_size, h, bias=config.qkv_bias)
    linear("k_proj", attn_in, config.kv_size, h, bias=config.qkv_bias)
    linear("v_proj", attn_in, config.kv_size, h, bias=config.qkv_bias)
    qk = ("q_proj", "k_proj")
    if config.position == "rope":
        pointwise("rope", qk, config.q_size + config.kv_size, "rope", 3.0)
        qk = ("rope", "rope")
    if phase != "encode":
        kv_cache = "kv_cache.{layer}"
        tensors[kv_cache] = Tensor((2, batch, config.num_kv_heads, kv_len, config.head_dim), p.kv_cache, "kv_cache")
        ops.append(
            Pointwise(
                name="kv_write",
                inputs=(qk[1], "v_proj"),
                output=kv_cache,
                repeat=layers,
                rows=tokens,
                cols=2 * config.kv_size,
                fn="kv_write",
                dtype=act,
                operands=1,
                flops_per_element=0.0,
                out_dtype=p.kv_cache,
            )
        )
        attn_inputs: tuple[str, ...] = (qk[0], kv_cache)
    else:
        attn_inputs = (qk[0], qk[1], "v_proj")
    ops.append(
        Attention(
            name="attention",
            inputs=attn_inputs,
            output="attention",
            repeat=layers,
            batch=batch,
            q_len=q_len,
            kv_len=kv_len,
            heads=config.num_heads,
            kv_heads=config.num_kv_heads,
            head_dim=config.head_dim,
            causal=config.causal,
            act_dtype=act,
            kv_dtype=p.kv_cache if phase != "encode" else act,
            compute_dtype=c if phase != "encode" else act,
        )
    )
    linear("o_proj", "attention", h, config.q_size, bias=config.out_bias)
    pointwise("attn_residual", ("x", "o_proj"), h, "add", 1.0)
    if not pre_norm:
        norm("attn_out_norm", "attn_residual")
    mlp_in = "mlp_norm" if pre_norm else "attn_out_norm"
    if pre_norm:
        norm("mlp_norm", "attn_residual")
    f = config.intermediate_size
    if config.is_moe:
        linear("router", mlp_in, config.num_experts, h)
        pointwise("topk_gate", ("router",), config.num_experts, "topk_gate", 4.0)
        for name, n, k, x in (
            ("experts_gate", f, h, mlp_in),
            ("experts_up", f, h, mlp_in),
            ("experts_down", h, f, "silu_mul"),
        ):
            tensors[names[name]] = Tensor((config.num_experts, n, k), w, "weight")
            ops.append(
                MoeMatMul(
                    name=name,
                    inputs=(x, names[name]),
                    output=name,
                    repeat=layers,
                    tokens=tokens,
                    n=n,
                    k=k,
                    experts=config.num_experts,
                    top_k=config.experts_per_token,
                    x_dtype=act,
                    w_dtype=w,
                    out_dtype=act,
                    compute_dtype=c,
                )
            )
            if name == "experts_up":
                pointwise("silu_mul", ("experts_gate", "experts_up"), f * config.experts_per_token, "silu_mul", 5.0)
        mlp_out = "experts_down"
    elif config.gated_mlp:
        linear("gate_proj", mlp_in, f, h, bias=config.mlp_bias)
        linear("up_proj", mlp_in, f, h, bias=config.mlp_bias)
        pointwise("silu_mul", ("gate_proj", "up_proj"), f, "silu_mul", 5.0)
        linear("down_proj", "silu_mul", h, f, bias=config.mlp_bias)
        mlp_out = "down_proj"
    else:
        linear("up_proj", mlp_in, f, h, bias=config.mlp_bias)
        pointwise("gelu", ("up_proj",), f, "gelu_tanh" if config.activation == "gelu_tanh" else "gelu", 8.0)
        linear("down_proj", "gelu", h, f, bias=config.mlp_bias)
        mlp_out = "down_proj"
    pointwise("mlp_residual", ("attn_residual", mlp_out), h, "add", 1.0)
    if not pre_norm:
        norm("mlp_out_norm", "mlp_residual")
        return Graph(config.name, phase, batch, q_len, kv_len, tuple(ops), tensors)  # type: ignore[arg-type]

    final_rows = batch
    norm("final_norm", "mlp_residual", rows=final_rows, repeat=1)
    linear("lm_head", "final_norm", config.vocab_size, h, m=final_rows, repeat=1)
    tensors["logits"] = Tensor((batch, config.vocab_size), "fp32", "output")
    return Graph(config.name, phase, batch, q_len, kv_len, tuple(ops), tensors)  # type: ignore[arg-type]


def _weight_names(config: ModelConfig) -> dict[str, str]:
    """Hugging Face tensor names for each weight-bearing op ({layer} is the layer index)."""
    if config.family == "llama":
        layer = f"model.layers.{_LAYER}"
        names = {
            "embed": "model.embed_tokens.weight",
            "attn_norm": f"{layer}.input_layernorm.weight",
            "mlp_norm": f"{layer}.post_attention_layernorm.weight",
            "final_norm": "model.norm.weight",
            "lm_head": "model.embed_tokens.weight" if config.tie_word_embeddings else "lm_head.weight",
            "router": f"{layer}.block_sparse_moe.gate.weight",
            "experts_gate": f"{layer}.block_sparse_moe.experts.*.w1.weight",
            "experts_up": f"{layer}.block_sparse_moe.experts.*.w3.weight",
            "experts_down": f"{layer}.block_sparse_moe.experts.*.w2.weight",
        }
        for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
            names[proj] = f"{layer}.self_attn.{proj}.weight"
        for proj in ("gate_proj", "up_proj", "down_proj"):
            names[proj] = f"{layer}.mlp.{proj}.weight"
        return names
    if config.family == "gpt2":
        layer = f"h.{_LAYER}"
        return {
            "embed": "wte.weight",
            "attn_norm": f"{layer}.ln_1.weight",
            "mlp_norm": f"{layer}.ln_2.weight",
            "final_norm": "ln_f.weight",
            "lm_head": "wte.weight",
            "q_proj": f"{layer}.attn.c_attn.weight[q]",
            "k_proj": f"{layer}.attn.c_attn.weight[k]",
            "v_proj": f"{layer}.attn.c_attn.weight[v]",
            "o_proj": f"{layer}.attn.c_proj.weight",
            "up_proj": f"{layer}.mlp.c_fc.weight",
            "down_proj": f"{layer}.mlp.c_proj.weight",
        }
    layer = f"encoder.layer.{_LAYER}"
    return {
        "embed": "embeddings.word_embeddings.weight",
        "embed_norm": "embeddings.LayerNorm.weight",
        "q_proj": f"{layer}.attention.self.query.weight",
        "k_proj": f"{layer}.attention.self.key.weight",
        "v_proj": f"{layer}.attention.self.value.weight",
        "o_proj": f"{layer}.attention.output.dense.weight",
        "attn_out_norm": f"{layer}.attention.output.LayerNorm.weight",
        "up_proj": f"{layer}.intermediate.dense.weight",
        "down_proj": f"{layer}.output.dense.weight",
        "mlp_out_norm": f"{layer}.output.LayerNorm.weight",
    }
