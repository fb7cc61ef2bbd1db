"""Decode attention for one head group, written by hand as a template for the compiler.

scores = q @ K^T (gemm with K stored as [kv, d] rows: transposed=1), scaled, softmax from
VPU pieces, out = P @ V; checked against torch's scaled_dot_product_attention.
"""

import numpy as np
import torch

from fabless.isa import (
    BinaryOp,
    Broadcast,
    Dtype,
    MxuGemm,
    MxuStore,
    Program,
    ReduceOp,
    SemSignal,
    SemWait,
    UnaryOp,
    VpuBinary,
    VpuReduce,
    VpuUnary,
)

HEADS, KV, D = 3, 6, 8
Q, K, V, S, STAT, OUT = 0x0, 0x400, 0x800, 0xC00, 0x1000, 0x1400
F32 = Dtype.FP32


def attention_program() -> Program:
    row = KV * 4
    tile = dict(rows=HEADS, cols=KV)
    return Program(
        {
            "mxu0": (
                MxuGemm(x_addr=Q, x_stride=D * 4, w_addr=K, w_stride=D * 4, m=HEADS, k=D, n=KV, x_dtype=F32,
                        w_dtype=F32, acc_row=0, transposed=1),
                MxuStore(acc_row=0, m=HEADS, n=KV, acc_dtype=F32, out_addr=S, out_stride=row, out_dtype=F32),
                SemSignal(sem=0),
                SemWait(sem=1),
                MxuGemm(x_addr=S, x_stride=row, w_addr=V, w_stride=D * 4, m=HEADS, k=KV, n=D, x_dtype=F32,
                        w_dtype=F32, acc_row=8),
                MxuStore(acc_row=8, m=HEADS, n=D, acc_dtype=F32, out_addr=OUT, out_stride=D * 4, out_dtype=F32),
            ),
            "vpu": (
                SemWait(sem=0),
                VpuUnary(op=UnaryOp.MUL_IMM, dst_addr=S, dst_stride=row, dst_dtype=F32, src_addr=S, src_stride=row,
                         src_dtype=F32, imm=1 / np.sqrt(D), **tile),
                VpuReduce(op=ReduceOp.MAX, dst_addr=STAT, dst_stride=4, dst_dtype=F32, src_addr=S, src_stride=row,
                          src_dtype=F32, **tile),
                VpuBinary(op=BinaryOp.SUB, dst_addr=S, dst_stride=row, dst_dtype=F32, a_addr=S, a_stride=row,
                          a_dtype=F32, b_addr=STAT, b_stride=4, b_dtype=F32, broadcast=Broadcast.COL, **tile),
                VpuUnary(op=UnaryOp.EXP, dst_addr=S, dst_stride=row, dst_dtype=F32, src_addr=S, src_stride=row,
                         src_dtype=F32, **tile),
                VpuReduce(op=ReduceOp.SUM, dst_addr=STAT, dst_stride=4, dst_dtype=F32, src_addr=S, src_stride=row,
                          src_dtype=F32, **tile),
                VpuUnary(op=UnaryOp.RECIPROCAL, dst_addr=STAT, dst_stride=4, dst_dtype=F32, src_addr=STAT,
                         src_stride=4, src_dtype=F32, rows=HEADS, cols=1),
                VpuBinary(op=BinaryOp.MUL, dst_addr=S, dst_stride=row, dst_dtype=F32, a_addr=S, a_stride=row,
                          a_dtype=F32, b_addr=STAT, b_stride=4, b_dtype=F32, broadcast=Broadcast.COL, **tile),
                SemSignal(sem=1),
            ),
        },
        semaphores=2,
    )


def test_decode_attention_matches_torch(sim):
    rng = np.random.default_rng(8)
    q = rng.standard_normal((HEADS, D)).astype(np.float32)
    k = rng.standard_normal((KV, D)).astype(np.float32)
    v = rng.standard_normal((KV, D)).astype(np.float32)
    for addr, array in ((Q, q), (K, k), (V, v)):
        sim.write_sram(0, addr, array)
    stats = sim.run(attention_program())
    reference = torch.nn.functional.scaled_dot_product_attention(
        torch.from_numpy(q)[:, None], torch.from_numpy(k)[None], torch.from_numpy(v)[None]
    )[:, 0].numpy()
    np.testing.assert_allclose(sim.read_sram(0, OUT, (HEADS, D), np.float32), reference, rtol=1e-5, atol=1e-6)
    assert stats.macs == 2 * HEADS * KV * D
