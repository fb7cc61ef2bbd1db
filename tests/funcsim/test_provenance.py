"""Weights streamed from HBM again are prepared once, and never reused once stale."""

import numpy as np
import pytest

from fabless.funcsim import dma, mxu
from fabless.isa import DmaLoad, DmaStore, Dtype, MxuGemm, MxuStore, Program, SemSignal, SemWait

W_HBM = (0x1000, 0x2000)  # two weight matrices [8, 8] fp32 in HBM
BUFFER, X, OUT = 0x400, 0x0, 0x800


def stream(weights: int) -> Program:
    """Copy one weight matrix into the buffer, multiply x by it, store the result."""
    return Program(
        {
            "dma0": (DmaLoad(hbm_addr=weights, sram_addr=BUFFER, rows=8, row_bytes=32, hbm_stride=32,
                             sram_stride=32), SemSignal(sem=0)),
            "mxu0": (
                SemWait(sem=0),
                MxuGemm(x_addr=X, x_stride=32, w_addr=BUFFER, w_stride=32, m=1, k=8, n=8, x_dtype=Dtype.FP32,
                        w_dtype=Dtype.FP32, acc_row=0),
                MxuStore(acc_row=0, m=1, n=8, acc_dtype=Dtype.FP32, out_addr=OUT, out_stride=32,
                         out_dtype=Dtype.FP32),
            ),
        },
        semaphores=1,
    )


@pytest.fixture
def loads(monkeypatch):
    calls = []
    real = mxu.load_weights
    monkeypatch.setattr(mxu, "load_weights", lambda *args: calls.append(1) or real(*args))
    return calls


def setup(sim):
    rng = np.random.default_rng(0)
    weights = [rng.integers(-8, 8, (8, 8)).astype(np.float32) for _ in W_HBM]
    for addr, w in zip(W_HBM, weights, strict=True):
        sim.write_hbm(addr, w)
    x = rng.integers(-8, 8, (1, 8)).astype(np.float32)
    sim.write_sram(0, X, x)
    return x, weights


def test_weights_streamed_in_again_are_prepared_once(sim, loads):
    x, weights = setup(sim)
    programs = [stream(addr) for addr in W_HBM]
    for _ in range(3):
        for program, w in zip(programs, weights, strict=True):
            sim.run(program)
            np.testing.assert_array_equal(sim.read_sram(0, OUT, (1, 8), np.float32), x @ w)
    assert len(loads) == 2


def test_host_write_to_hbm_makes_the_prepared_weights_stale(sim, loads):
    x, weights = setup(sim)
    program = stream(W_HBM[0])
    sim.run(program)
    sim.write_hbm(W_HBM[0], weights[1])
    sim.run(program)
    np.testing.assert_array_equal(sim.read_sram(0, OUT, (1, 8), np.float32), x @ weights[1])
    assert len(loads) == 2


def test_dma_store_to_hbm_makes_the_prepared_weights_stale(sim, loads):
    x, weights = setup(sim)
    program = stream(W_HBM[0])
    sim.run(program)
    sim.write_sram(0, 0x1000, weights[1])
    sim.run(Program({"dma1": (DmaStore(sram_addr=0x1000, hbm_addr=W_HBM[0] + 32, rows=1, row_bytes=32,
                                       sram_stride=0, hbm_stride=0),)}))
    sim.run(program)
    expected = weights[0].copy()
    expected[1] = weights[1][0]
    np.testing.assert_array_equal(sim.read_sram(0, OUT, (1, 8), np.float32), x @ expected)
    assert len(loads) == 2


def test_strided_copy_of_a_column_block_finds_its_source(sim, loads):
    x, weights = setup(sim)
    sim.write_hbm(0x3000, np.concatenate(weights, axis=1))  # [8, 16]: both matrices side by side
    gemm = MxuGemm(x_addr=X, x_stride=32, w_addr=BUFFER, w_stride=32, m=1, k=8, n=8, x_dtype=Dtype.FP32,
                   w_dtype=Dtype.FP32, acc_row=0)

    def half(index: int) -> Program:
        load = DmaLoad(hbm_addr=0x3000 + 32 * index, sram_addr=BUFFER, rows=8, row_bytes=32, hbm_stride=64,
                       sram_stride=32)
        return Program({"dma0": (load, SemSignal(sem=0)), "mxu0": (SemWait(sem=0), gemm)}, semaphores=1)

    for index in (1, 0, 1, 0):
        sim.run(half(index))
        np.testing.assert_array_equal(sim.read_accumulator(0, 0, 0, 1, Dtype.FP32)[:, :8], x @ weights[index])
    assert len(loads) == 2


def test_a_new_program_each_run_reuses_tiles_resident_in_sram(sim, loads):
    x, weights = setup(sim)
    sim.write_sram(0, BUFFER, weights[0])
    for _ in range(3):
        gemm = MxuGemm(x_addr=X, x_stride=32, w_addr=BUFFER, w_stride=32, m=1, k=8, n=8, x_dtype=Dtype.FP32,
                       w_dtype=Dtype.FP32, acc_row=0)
        sim.run(Program({"mxu1": (gemm,)}))
        np.testing.assert_array_equal(sim.read_accumulator(0, 1, 0, 1, Dtype.FP32)[:, :8], x @ weights[0])
    assert len(loads) == 1


def test_hbm_written_between_copy_and_load_is_not_mistaken_for_the_copy(sim, loads):
    x, weights = setup(sim)
    program = stream(W_HBM[0])
    sim.run(Program({"dma0": program.streams["dma0"][:1]}))  # copy W0 into the buffer
    sim.write_hbm(W_HBM[0], weights[1])  # then HBM changes under the copy
    gemm = Program({"mxu0": program.streams["mxu0"][1:]})
    sim.run(gemm)
    np.testing.assert_array_equal(sim.read_sram(0, OUT, (1, 8), np.float32), x @ weights[0])
    sim.run(program)  # a fresh copy brings W1
    np.testing.assert_array_equal(sim.read_sram(0, OUT, (1, 8), np.float32), x @ weights[1])


def test_prepared_int8_weights_do_not_alias_the_sram_they_were_read_from(sim):
    """W^T rows in SRAM are already the layout int8 weights are prepared in; the prepared
    form must still be a copy, or what the buffer holds next leaks into later products. The
    load is large enough to be deferred, so that the next run reuses the prepared form."""
    rng = np.random.default_rng(1)
    w = rng.integers(-128, 128, (8, 8), dtype=np.int8)
    x = rng.integers(-128, 128, (1, 8), dtype=np.int8)
    buffer, size = 0x4000, dma.DEFER_MIN_BYTES
    sim.write_hbm(W_HBM[0], np.ascontiguousarray(w.T))
    sim.write_sram(0, X, x)
    program = Program(
        {
            "dma0": (DmaLoad(hbm_addr=W_HBM[0], sram_addr=buffer, rows=1, row_bytes=size, hbm_stride=size,
                             sram_stride=size), SemSignal(sem=0)),
            "mxu0": (
                SemWait(sem=0),
                MxuGemm(x_addr=X, x_stride=8, w_addr=buffer, w_stride=8, m=1, k=8, n=8, x_dtype=Dtype.INT8,
                        w_dtype=Dtype.INT8, acc_row=0, transposed=1),
                MxuStore(acc_row=0, m=1, n=8, acc_dtype=Dtype.INT32, out_addr=OUT, out_stride=32,
                         out_dtype=Dtype.INT32),
            ),
        },
        semaphores=1,
    )
    expected = x.astype(np.int32) @ w.astype(np.int32)
    for _ in range(2):
        sim.run(program)
        np.testing.assert_array_equal(sim.read_sram(0, OUT, (1, 8), np.int32), expected)
        sim.write_sram(0, buffer, np.full(64, 7, np.int8))
