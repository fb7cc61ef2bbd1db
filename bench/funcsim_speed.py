"""Functional-simulator speed: microseconds per instruction, and SmolLM2-135M's decode matmuls.

Table 1 times each instruction kind at decode-sized shapes on fab1. Table 2 runs every
linear layer of one SmolLM2-135M decode token (30 layers of q, k, v, o, gate, up, down and
the tied lm_head) as `mxu.gemm` tiles of 128 output columns, weights resident in SRAM
spread over fab1's 8 cores, and compares with numpy doing the same x @ W in fp32.
Table 3 streams the same weights from HBM instead, double-buffered through SRAM by
`dma.load` and semaphores, one MXU per core: the copies cost every token, the tile
preparation only the first (the simulator keys prepared tiles by their HBM source).
Weights are random: speed does not depend on the values. BLAS runs on one thread, as
tile-sized calls do anyway, so that the numpy baseline does not thrash on a busy machine.

    python bench/funcsim_speed.py
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time  # noqa: E402

import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402

from fabless.chip import load_chip  # noqa: E402
from fabless.funcsim import FunctionalSimulator  # noqa: E402
from fabless.isa import (  # noqa: E402
    BinaryOp,
    DmaLoad,
    Dtype,
    MxuGemm,
    MxuStore,
    NormKind,
    Program,
    ProgramBuilder,
    SemSignal,
    SemWait,
    UnaryOp,
    VpuBinary,
    VpuNorm,
    VpuRope,
    VpuUnary,
)
from fabless.model.zoo import load_model_config  # noqa: E402

CHIP = load_chip("fab1")
COLS = CHIP.core.matrix.cols


def seconds_per_run(sim: FunctionalSimulator, program: Program, repeats: int) -> float:
    sim.run(program)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        sim.run(program)
        best = min(best, time.perf_counter() - start)
    return best


def instruction_table() -> None:
    sim = FunctionalSimulator(CHIP)
    rng = np.random.default_rng(0)
    sim.write_sram(0, 0x100000, rng.standard_normal((576, 128)).astype(ml_dtypes.bfloat16))
    sim.write_sram(0, 0x200000, rng.integers(-128, 128, (576, 128)).astype(np.int8))
    sim.write_sram(0, 0x0, rng.standard_normal(4096).astype(np.float32))
    sim.write_sram(0, 0x10000, np.ones(4096, np.float32))
    f32, bf16 = Dtype.FP32, Dtype.BF16
    cases = {
        "dma.load 64 KiB": ("dma0", DmaLoad(hbm_addr=0, sram_addr=0x300000, rows=64, row_bytes=1024,
                                            hbm_stride=1024, sram_stride=1024)),
        "mxu.gemm 1x576x128 bf16": ("mxu0", MxuGemm(x_addr=0, x_stride=0, w_addr=0x100000, w_stride=256, m=1,
                                                    k=576, n=128, x_dtype=bf16, w_dtype=bf16, acc_row=0)),
        "mxu.gemm 1x576x128 int8": ("mxu1", MxuGemm(x_addr=0x200000, x_stride=0, w_addr=0x200000, w_stride=128,
                                                    m=1, k=576, n=128, x_dtype=Dtype.INT8, w_dtype=Dtype.INT8,
                                                    acc_row=0)),
        "mxu.store 1x128 fp32->bf16": ("mxu0", MxuStore(acc_row=0, m=1, n=128, acc_dtype=f32, out_addr=0x400000,
                                                        out_stride=256, out_dtype=bf16)),
        "vpu.norm rms 1x576": ("vpu", VpuNorm(kind=NormKind.RMS, dst_addr=0x400000, dst_stride=0, dst_dtype=bf16,
                                              src_addr=0, src_stride=0, src_dtype=f32, gamma_addr=0x10000,
                                              rows=1, cols=576, eps=1e-5)),
        "vpu.unary silu 1x1536": ("vpu", VpuUnary(op=UnaryOp.SILU, dst_addr=0x400000, dst_stride=0, dst_dtype=bf16,
                                                  src_addr=0, src_stride=0, src_dtype=f32, rows=1, cols=1536)),
        "vpu.binary add 1x576": ("vpu", VpuBinary(op=BinaryOp.ADD, dst_addr=0x400000, dst_stride=0, dst_dtype=f32,
                                                  a_addr=0, a_stride=0, a_dtype=f32, b_addr=0x10000, b_stride=0,
                                                  b_dtype=f32, rows=1, cols=576)),
        "vpu.rope 1x576 (9 heads)": ("vpu", VpuRope(dst_addr=0x400000, dst_stride=0, dst_dtype=f32, src_addr=0,
                                                    src_stride=0, src_dtype=f32, cos_addr=0x10000,
                                                    sin_addr=0x10000, table_stride=0, rows=1, cols=576,
                                                    head_dim=64)),
    }
    print("Table 1: one instruction, fab1 (best of 5 runs of 200)")
    print(f"{'instruction':<30}{'us':>10}")
    for label, (stream, instr) in cases.items():
        program = Program({stream: (instr,) * 200})
        print(f"{label:<30}{seconds_per_run(sim, program, 5) / 200 * 1e6:>10.1f}")


def smollm2_shapes() -> list[tuple[int, int]]:
    """[k, n] of every decode-step matmul of SmolLM2-135M; the tied lm_head (576 x 49152) in
    column blocks so that each fits one core."""
    cfg = load_model_config("smollm2-135m")
    h, inter = cfg.hidden_size, cfg.intermediate_size
    per_layer = [(h, cfg.q_size), (h, cfg.kv_size), (h, cfg.kv_size), (cfg.q_size, h), (h, inter), (h, inter),
                 (inter, h)]
    head_block = 8 * COLS
    return per_layer * cfg.num_layers + [(h, head_block)] * (cfg.vocab_size // head_block)


def random_weights(rng: np.random.Generator, shape: tuple[int, int], dtype: Dtype) -> np.ndarray:
    if dtype is Dtype.INT8:
        return rng.integers(-128, 128, shape).astype(np.int8)
    return rng.standard_normal(shape).astype(dtype.numpy)


def gemm_tiles(k: int, n: int, w_addr: int, dtype: Dtype) -> list[MxuGemm]:
    return [
        MxuGemm(x_addr=0, x_stride=0, w_addr=w_addr + start * dtype.itemsize, w_stride=n * dtype.itemsize, m=1,
                k=k, n=min(COLS, n - start), x_dtype=dtype, w_dtype=dtype, acc_row=0)
        for start in range(0, n, COLS)
    ]


def decode_linears(dtype: Dtype) -> tuple[Program, list[tuple[int, int]], FunctionalSimulator]:
    """Every decode-step matmul of SmolLM2-135M as gemm tiles, weights resident in SRAM."""
    shapes = smollm2_shapes()
    sim = FunctionalSimulator(CHIP)
    rng = np.random.default_rng(1)
    builder = ProgramBuilder()
    x_addr = 0
    next_addr = [0x10000] * CHIP.cores
    for index, (k, n) in enumerate(shapes):
        core = min(range(CHIP.cores), key=lambda c: next_addr[c])
        addr = next_addr[core]
        w = random_weights(rng, (k, n), dtype)
        sim.write_sram(core, addr, w)
        sim.write_sram(core, x_addr, np.ones(4096, dtype.numpy))
        next_addr[core] = addr + w.nbytes
        for tile, gemm in enumerate(gemm_tiles(k, n, addr, dtype)):
            builder.emit(f"c{core}.mxu{(index + tile) % CHIP.core.matrix.count}", gemm)
    assert max(next_addr) <= CHIP.core.sram.capacity_bytes, "weights do not fit in SRAM"
    return builder.build(), shapes, sim


def decode_streamed(dtype: Dtype) -> tuple[Program, list[tuple[int, int]], FunctionalSimulator]:
    """The same matmuls with weights in HBM, double-buffered into each core's SRAM."""
    shapes = smollm2_shapes()
    sim = FunctionalSimulator(CHIP)
    rng = np.random.default_rng(1)
    builder = ProgramBuilder()
    buffer_bytes = max(k * n for k, n in shapes) * dtype.itemsize
    buffers = [0x10000, 0x10000 + buffer_bytes]
    full = [[builder.semaphore(), builder.semaphore()] for _ in range(CHIP.cores)]
    free = [[builder.semaphore(), builder.semaphore()] for _ in range(CHIP.cores)]
    hbm = 0
    for index, (k, n) in enumerate(shapes):
        core, turn = index % CHIP.cores, index // CHIP.cores
        side = turn % 2
        w = random_weights(rng, (k, n), dtype)
        sim.write_hbm(hbm, w)
        if turn >= 2:
            builder.emit(f"c{core}.dma0", SemWait(sem=free[core][side]))
        builder.emit(f"c{core}.dma0", DmaLoad(hbm_addr=hbm, sram_addr=buffers[side], rows=1, row_bytes=w.nbytes,
                                              hbm_stride=0, sram_stride=0), SemSignal(sem=full[core][side]))
        builder.emit(f"c{core}.mxu0", SemWait(sem=full[core][side]))
        builder.extend(f"c{core}.mxu0", gemm_tiles(k, n, buffers[side], dtype))
        builder.emit(f"c{core}.mxu0", SemSignal(sem=free[core][side]))
        hbm += w.nbytes
    for core in range(CHIP.cores):
        sim.write_sram(core, 0, np.ones(4096, dtype.numpy))
    return builder.build(), shapes, sim


def numpy_linears(shapes: list[tuple[int, int]], repeats: int) -> float:
    rng = np.random.default_rng(2)
    weights = [rng.standard_normal((k, n)).astype(np.float32) for k, n in shapes]
    xs = {k: rng.standard_normal((1, k)).astype(np.float32) for k, _ in shapes}
    best = float("inf")
    for _ in range(repeats + 1):
        start = time.perf_counter()
        for w in weights:
            xs[w.shape[0]] @ w
        best = min(best, time.perf_counter() - start)
    return best


def decode_table() -> None:
    print("\nTable 2: SmolLM2-135M decode matmuls, one token, weights resident in fab1 SRAM (best of 3)")
    header = f"{'weights':<10}{'gemm instrs':>12}{'MACs':>14}{'sim ms':>10}{'numpy fp32 ms':>15}"
    print(header + f"{'ratio':>8}{'tok/s cap':>11}")
    for dtype in (Dtype.INT8, Dtype.FP8E4M3):
        program, shapes, sim = decode_linears(dtype)
        stats = sim.run(program)
        sim_s = seconds_per_run(sim, program, 3)
        numpy_s = numpy_linears(shapes, 3)
        print(f"{dtype.name.lower():<10}{stats.total_instructions:>12}{stats.macs:>14,}{sim_s * 1e3:>10.1f}"
              f"{numpy_s * 1e3:>15.1f}{sim_s / numpy_s:>8.2f}{1 / sim_s:>11.1f}")


def streamed_table() -> None:
    print("\nTable 3: the same matmuls, weights streamed from HBM every token (best of 3)")
    header = f"{'weights':<10}{'instrs':>8}{'HBM MB read':>13}{'first ms':>10}{'sim ms':>10}"
    print(header + f"{'numpy fp32 ms':>15}{'ratio':>8}{'tok/s cap':>11}")
    for dtype in (Dtype.BF16, Dtype.FP32):
        program, shapes, sim = decode_streamed(dtype)
        start = time.perf_counter()
        stats = sim.run(program)
        first = time.perf_counter() - start
        sim_s = seconds_per_run(sim, program, 3)
        numpy_s = numpy_linears(shapes, 3)
        print(f"{dtype.name.lower():<10}{stats.total_instructions:>8}{stats.hbm_read_bytes / 1e6:>13.1f}"
              f"{first * 1e3:>10.0f}{sim_s * 1e3:>10.1f}{numpy_s * 1e3:>15.1f}{sim_s / numpy_s:>8.2f}"
              f"{1 / sim_s:>11.1f}")


if __name__ == "__main__":
    instruction_table()
    decode_table()
    streamed_table()
