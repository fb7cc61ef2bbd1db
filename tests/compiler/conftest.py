"""Helpers for the compiler tests: single lowered ops on the simulator, and a torch Llama."""

import numpy as np
import pytest
import torch

from fabless.chip import ChipSpec, load_chip
from fabless.compiler.context import DTYPES, Lowering
from fabless.compiler.layout import HbmLayout, Region
from fabless.compiler.matmul import MatmulScratch, lower_linear
from fabless.compiler.numerics import Numerics
from fabless.compiler.quantize import quantize_weight
from fabless.compiler.sram import SramPlan
from fabless.compiler.vpu import VectorOps
from fabless.funcsim import FunctionalSimulator
from fabless.isa import Dtype, NormKind
from fabless.model import load_model_config
from fabless.model.config import ModelConfig

FAB1 = load_chip("fab1")


def _tiny_chip() -> ChipSpec:
    """16x16 MXUs with small SRAM and accumulators: odd shapes need many tiles, k splits, m blocks."""
    raw = FAB1.model_dump()
    raw.update(name="tiny16")
    raw["core"]["matrix"].update(rows=16, cols=16, accumulator_kib=2)
    raw["core"]["sram"]["mib"] = 0.25
    return ChipSpec.model_validate(raw)


TINY = _tiny_chip()


def run_linear(
    chip: ChipSpec, numerics: Numerics, x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None
) -> np.ndarray:
    """out = x @ w.T (+ bias) compiled by `lower_linear` and run on the functional simulator."""
    (m, k), n = x.shape, w.shape[0]
    quantized = quantize_weight(w, numerics.weights)
    regions = {"t.weight": Region("t.weight", 0, (n, k), numerics.weights, "weight")}
    offset = -(-regions["t.weight"].end // 64) * 64
    extra = [("t.scale", quantized.scales)] if quantized.scales is not None else []
    extra += [("t.bias", bias)] if bias is not None else []
    for name, _ in extra:
        regions[name] = Region(name, offset, (n,), "fp32", "scale")
        offset = -(-regions[name].end // 64) * 64
    config = load_model_config("minilm-l6")
    layout = HbmLayout(config=config, numerics=numerics, batch=1, max_context=1, alignment=64, regions=regions)
    sram = SramPlan(chip, "test matmul")
    lowering = Lowering(chip, layout, sram)
    integer = numerics.weights == "int8"
    x_dtype = Dtype.FP32 if numerics.activations in ("fp32", "int16") else DTYPES[numerics.activations]
    x_buf = sram.alloc("x", m, k, x_dtype)
    out = sram.alloc("out", 2 * m if integer else m, n, Dtype.FP32)
    vectors = (sram.alloc("va", 2, n, Dtype.FP32), sram.alloc("vb", 2, n, Dtype.FP32))
    scratch = MatmulScratch(
        slices_addr=sram.alloc("slices", 2 * m * k, 1, Dtype.INT8).addr,
        scaled_addr=sram.alloc("scaled", 2 * m * k, 1, Dtype.FP32).addr,
        row_scales=sram.alloc("row_scales", 2 * m, 1, Dtype.FP32),
        vectors=vectors,
    )
    # A budget well below the whole matrix, so that tiles split on both chips.
    budget = min(sram.free_bytes // 2, max(2 * k * chip.core.matrix.cols * 4, 1 << 14))
    lowering.weight_ring = sram.alloc("weights", 2 * budget, 1, Dtype.INT8)
    lower_linear(lowering, "t", x_buf, m, out, scratch)
    program = lowering.emitter.build()
    sim = FunctionalSimulator(chip, hbm_bytes=1 << 26)
    sim.write_hbm(0, quantized.values)
    for name, value in extra:
        sim.write_hbm(regions[name].offset, value.astype(np.float32))
    sim.write_sram(0, x_buf.addr, x.astype(x_dtype.numpy))
    sim.run(program)
    return sim.read_sram(0, out.addr, (m, n), np.float32)


def run_norm(kind: NormKind, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    """A row norm of fp32 x through `VectorOps.norm` on the simulator."""
    rows, cols = x.shape
    config = load_model_config("minilm-l6")
    layout = HbmLayout(config=config, numerics=Numerics(), batch=1, max_context=1, alignment=64, regions={})
    sram = SramPlan(FAB1, "test norm")
    lowering = Lowering(FAB1, layout, sram)
    src = sram.alloc("x", rows, cols, Dtype.FP32)
    dst = sram.alloc("y", rows, cols, Dtype.FP32)
    vectors = sram.alloc("gamma_beta", 2, cols, Dtype.FP32)
    VectorOps(lowering).norm(kind, dst, src, vectors, rows, cols, eps)
    sim = FunctionalSimulator(FAB1, hbm_bytes=1 << 20)
    sim.write_sram(0, src.addr, x.astype(np.float32))
    sim.write_sram(0, vectors.addr, np.stack([gamma, beta]).astype(np.float32))
    sim.run(lowering.emitter.build())
    return sim.read_sram(0, dst.addr, (rows, cols), np.float32)


def torch_llama_logits(config: ModelConfig, tensors: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """Logits [len(ids), vocab] of a Hugging Face-style Llama, written in torch from the paper's math."""
    threads = torch.get_num_threads()
    # One thread: on a shared 2-core machine, torch's pool waits more than it computes.
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            return _torch_llama(config, tensors, ids)
    finally:
        torch.set_num_threads(threads)


def _torch_llama(c: ModelConfig, tensors: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    w = {name: torch.from_numpy(np.asarray(array, np.float32)) for name, array in tensors.items()}
    t, d = len(ids), c.head_dim

    def rms(x: torch.Tensor, name: str) -> torch.Tensor:
        return w[name] * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + c.norm_eps))

    def rope(x: torch.Tensor) -> torch.Tensor:
        inv = 1.0 / (c.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
        angles = torch.arange(t, dtype=torch.float32)[:, None] * inv.float()[None, :]
        both = torch.cat([angles, angles], -1)
        rotated = torch.cat([-x[..., d // 2 :], x[..., : d // 2]], -1)
        return x * both.cos()[:, None] + rotated * both.sin()[:, None]

    def linear(x: torch.Tensor, name: str) -> torch.Tensor:
        return torch.nn.functional.linear(x, w[f"{name}.weight"], w.get(f"{name}.bias"))

    x = w["model.embed_tokens.weight"][torch.tensor(ids)]
    for layer in range(c.num_layers):
        p = f"model.layers.{layer}"
        h = rms(x, f"{p}.input_layernorm.weight")
        q = rope(linear(h, f"{p}.self_attn.q_proj").view(t, c.num_heads, d))
        k = rope(linear(h, f"{p}.self_attn.k_proj").view(t, c.num_kv_heads, d))
        v = linear(h, f"{p}.self_attn.v_proj").view(t, c.num_kv_heads, d)
        group = c.num_heads // c.num_kv_heads
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        out = torch.nn.functional.scaled_dot_product_attention(
            q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), is_causal=True
        )
        x = x + linear(out.transpose(0, 1).reshape(t, c.q_size), f"{p}.self_attn.o_proj")
        h = rms(x, f"{p}.post_attention_layernorm.weight")
        gated = torch.nn.functional.silu(linear(h, f"{p}.mlp.gate_proj")) * linear(h, f"{p}.mlp.up_proj")
        x = x + linear(gated, f"{p}.mlp.down_proj")
    head = "model.embed_tokens.weight" if c.tie_word_embeddings else "lm_head.weight"
    return (rms(x, "model.norm.weight") @ w[head].T).numpy()


@pytest.fixture(scope="session")
def linear_on_chip():
    """run_linear(chip, numerics, x, w, bias=None) -> x @ w.T (+ bias) from the simulator."""
    return run_linear


@pytest.fixture(scope="session")
def norm_on_chip():
    return run_norm


@pytest.fixture(scope="session")
def torch_llama():
    """torch_llama_logits(config, tensors, ids) -> logits at every position, from torch."""
    return torch_llama_logits


@pytest.fixture(scope="session", params=["fab1", "tiny16"])
def chip(request) -> ChipSpec:
    """fab1 and a 16x16-MXU chip whose small SRAM forces k splits and m blocks."""
    return FAB1 if request.param == "fab1" else TINY
