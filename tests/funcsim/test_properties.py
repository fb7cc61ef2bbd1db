"""Property tests: random strided layouts of DMA and VPU operands against numpy slicing."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.isa import BinaryOp, Broadcast, DmaLoad, Dtype, Program, VpuBinary

DTYPES = [Dtype.INT8, Dtype.FP8E4M3, Dtype.FP8E5M2, Dtype.BF16, Dtype.FP32, Dtype.INT32]


def expected_cast(values: np.ndarray, dtype: Dtype) -> np.ndarray:
    """docs/isa.md down-cast written out: fp8 saturates, ints round half even and saturate."""
    if dtype in (Dtype.FP8E4M3, Dtype.FP8E5M2):
        top = {Dtype.FP8E4M3: 448.0, Dtype.FP8E5M2: 57344.0}[dtype]
        return np.clip(values, -top, top).astype(dtype.numpy)
    if dtype.is_float:
        return values.astype(dtype.numpy)
    info = np.iinfo(dtype.numpy)
    return np.clip(np.nan_to_num(np.rint(values.astype(np.float64)), nan=0), info.min, info.max).astype(dtype.numpy)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(1, 40), st.integers(0, 24), st.integers(0, 24), st.integers(0, 2**32 - 1))
def test_strided_dma_load_copies_each_row(make_sim, rows, row_bytes, hbm_pad, sram_pad, seed):
    sim = make_sim()
    rng = np.random.default_rng(seed)
    hbm_stride, sram_stride = row_bytes + hbm_pad, row_bytes + sram_pad
    source = rng.integers(0, 256, rows * hbm_stride, dtype=np.uint8)
    sim.write_hbm(0x100, source)
    sim.run(Program({"dma2": (DmaLoad(hbm_addr=0x100, sram_addr=0x40, rows=rows, row_bytes=row_bytes,
                                      hbm_stride=hbm_stride, sram_stride=sram_stride),)}))
    got = sim.read_sram(0, 0x40, (rows * sram_stride,), np.uint8).reshape(rows, sram_stride)[:, :row_bytes]
    np.testing.assert_array_equal(got, source.reshape(rows, hbm_stride)[:, :row_bytes])


floats = [Dtype.FP8E4M3, Dtype.FP8E5M2, Dtype.BF16, Dtype.FP32]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 6), st.integers(1, 9), st.sampled_from(floats), st.sampled_from(floats), st.sampled_from(DTYPES),
    st.sampled_from(list(BinaryOp)), st.sampled_from(list(Broadcast)), st.integers(0, 12), st.integers(0, 2**32 - 1),
)
def test_strided_vpu_binary_equals_numpy_on_the_same_elements(make_sim, rows, cols, a_dtype, b_dtype, out_dtype,
                                                               op, broadcast, pad, seed):
    sim = make_sim()
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal((rows, cols)) * 4).astype(a_dtype.numpy)
    b_shape = {Broadcast.NONE: (rows, cols), Broadcast.ROW: (1, cols), Broadcast.COL: (rows, 1)}[broadcast]
    b = (rng.standard_normal(b_shape) * 4 + 0.5).astype(b_dtype.numpy)
    a_stride, b_stride = cols * a_dtype.itemsize + pad, b_shape[1] * b_dtype.itemsize + pad
    out_stride = cols * out_dtype.itemsize + pad
    for row in range(rows):
        sim.write_sram(0, 0x0 + row * a_stride, a[row])
    for row in range(b_shape[0]):
        sim.write_sram(0, 0x1000 + row * b_stride, b[row])
    sim.run(Program({"vpu": (VpuBinary(op=op, dst_addr=0x2000, dst_stride=out_stride, dst_dtype=out_dtype,
                                       a_addr=0x0, a_stride=a_stride, a_dtype=a_dtype, b_addr=0x1000,
                                       b_stride=b_stride, b_dtype=b_dtype, broadcast=broadcast,
                                       rows=rows, cols=cols),)}))
    got = np.stack([sim.read_sram(0, 0x2000 + row * out_stride, (cols,), out_dtype.numpy) for row in range(rows)])
    fn = {BinaryOp.ADD: np.add, BinaryOp.SUB: np.subtract, BinaryOp.MUL: np.multiply, BinaryOp.MAX: np.maximum,
          BinaryOp.MIN: np.minimum, BinaryOp.DIV: np.divide}[op]
    with np.errstate(all="ignore"):
        want = expected_cast(fn(a.astype(np.float32), b.astype(np.float32)), out_dtype)
    np.testing.assert_array_equal(got.astype(np.float64), want.astype(np.float64))
