"""The weight-stationary systolic array: `rows` x `cols` PEs built as a tree of blocks.

Row r holds weights W[r, :] (the contraction index k), column c produces output n = c.
Activations enter each row at the left and move one PE right per cycle; partial sums
enter each column at the top as zero and move one PE down per cycle, so column c's
result for an activation that reached row r at cycle t leaves the bottom at cycle
t + rows - r + c. `skew.py` lines the activations up; the accumulator takes the
results column by column in the same wave.

A block splits in two along its longer side until single PEs remain. Generated Verilog
then holds one module per distinct block shape (about 2 log2(rows x cols) modules, each
with two instances) instead of one flat netlist of every PE's wiring, which is what
keeps `fabless rtl generate` for a 128 x 128 array to seconds.
"""

from typing import Any

from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fabless.rtl.hierarchy import Placer
from fabless.rtl.pe import ACT_SHAPE, PSUM_SHAPE, WEIGHT_SHAPE, PeFault, ProcessingElement


class PeBlock(wiring.Component):
    """A `rows` x `cols` block of PEs with the array's edge ports on its four sides.

    `fault` is a PE fault in block-local coordinates, or None for a healthy block.
    """

    def __init__(self, rows: int, cols: int, placer: Placer, fault: PeFault | None = None):
        self.rows = rows
        self.cols = cols
        self.placer = placer
        self.fault = fault
        super().__init__({
            "load": In(1),
            "load_t": In(1),
            "a_in": In(ACT_SHAPE).array(rows),
            "wl_in": In(WEIGHT_SHAPE).array(rows),
            "wl_out": Out(WEIGHT_SHAPE).array(rows),
            "a_out": Out(ACT_SHAPE).array(rows),
            "w_in": In(WEIGHT_SHAPE).array(cols),
            "w_out": Out(WEIGHT_SHAPE).array(cols),
            "psum_in": In(PSUM_SHAPE).array(cols),
            "psum_out": Out(PSUM_SHAPE).array(cols),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        if self.rows == self.cols == 1:
            pe = _place_pe(m, self.placer, "pe", self.fault)
            m.d.comb += [
                pe.load.eq(self.load),
                pe.load_t.eq(self.load_t),
                *_connect(pe.wl_in, self.wl_in),
                *_connect(self.wl_out, pe.wl_out),
                *_connect(pe.a_in, self.a_in),
                *_connect(self.a_out, pe.a_out),
                *_connect(pe.w_in, self.w_in),
                *_connect(self.w_out, pe.w_out),
                *_connect(pe.psum_in, self.psum_in),
                *_connect(self.psum_out, pe.psum_out),
            ]
            return m
        if self.rows >= self.cols:
            top = self.rows // 2
            first = self._part(m, "top", 0, 0, top, self.cols)
            second = self._part(m, "bottom", top, 0, self.rows - top, self.cols)
            m.d.comb += [
                *_connect(first.a_in, self.a_in[:top]),
                *_connect(second.a_in, self.a_in[top:]),
                *_connect(first.wl_in, self.wl_in[:top]),
                *_connect(second.wl_in, self.wl_in[top:]),
                *_connect(self.wl_out[:top], first.wl_out),
                *_connect(self.wl_out[top:], second.wl_out),
                *_connect(self.a_out[:top], first.a_out),
                *_connect(self.a_out[top:], second.a_out),
                *_connect(first.w_in, self.w_in),
                *_connect(second.w_in, first.w_out),
                *_connect(self.w_out, second.w_out),
                *_connect(first.psum_in, self.psum_in),
                *_connect(second.psum_in, first.psum_out),
                *_connect(self.psum_out, second.psum_out),
            ]
        else:
            left = self.cols // 2
            first = self._part(m, "left", 0, 0, self.rows, left)
            second = self._part(m, "right", 0, left, self.rows, self.cols - left)
            m.d.comb += [
                *_connect(first.a_in, self.a_in),
                *_connect(second.a_in, first.a_out),
                *_connect(first.wl_in, self.wl_in),
                *_connect(second.wl_in, first.wl_out),
                *_connect(self.wl_out, second.wl_out),
                *_connect(self.a_out, second.a_out),
                *_connect(first.w_in, self.w_in[:left]),
                *_connect(second.w_in, self.w_in[left:]),
                *_connect(self.w_out[:left], first.w_out),
                *_connect(self.w_out[left:], second.w_out),
                *_connect(first.psum_in, self.psum_in[:left]),
                *_connect(second.psum_in, self.psum_in[left:]),
                *_connect(self.psum_out[:left], first.psum_out),
                *_connect(self.psum_out[left:], second.psum_out),
            ]
        m.d.comb += [
            first.load.eq(self.load),
            second.load.eq(self.load),
            first.load_t.eq(self.load_t),
            second.load_t.eq(self.load_t),
        ]
        return m

    def _part(self, m: Module, name: str, row0: int, col0: int, rows: int, cols: int) -> Any:
        """Place the sub-block covering rows row0.. and cols col0.., carrying the fault if inside."""
        fault = self.fault
        if fault and row0 <= fault.row < row0 + rows and col0 <= fault.col < col0 + cols:
            fault = PeFault(fault.row - row0, fault.col - col0, fault.bit)
        else:
            fault = None
        if rows == 1 and cols == 1:
            return _place_pe(m, self.placer, name, fault)
        return place_block(m, self.placer, name, rows, cols, fault)


def place_block(
    m: Module, placer: Placer, name: str, rows: int, cols: int, fault: PeFault | None
) -> Any:
    """Place a `rows` x `cols` PeBlock; blocks of one shape and fault share a module."""
    suffix = f"_fault_{fault.row}_{fault.col}_{fault.bit}" if fault else ""
    return placer.place(
        m, name, f"fabless_pe_block_{rows}x{cols}{suffix}",
        lambda: PeBlock(rows, cols, placer, fault),
    )


def _place_pe(m: Module, placer: Placer, name: str, fault: PeFault | None) -> "_PeAsBlock":
    flip_bit = fault.bit if fault else None
    module = f"fabless_pe_fault_{flip_bit}" if fault else "fabless_pe"
    return _PeAsBlock(placer.place(m, name, module, lambda: ProcessingElement(flip_bit)))


class _PeAsBlock:
    """A single PE seen through the 1 x 1 block interface (one-element port lists)."""

    def __init__(self, pe: Any) -> None:
        self.load, self.load_t = pe.load, pe.load_t
        self.a_in, self.a_out = [pe.a_in], [pe.a_out]
        self.wl_in, self.wl_out = [pe.w_left], [pe.w_out]
        self.w_in, self.w_out = [pe.w_in], [pe.w_out]
        self.psum_in, self.psum_out = [pe.psum_in], [pe.psum_out]


def _connect(targets: Any, sources: Any) -> list:
    return [target.eq(source) for target, source in zip(targets, sources, strict=True)]


class SystolicArray(wiring.Component):
    """`rows` x `cols` PEs: skewed activations in at the left, partial sums out at the bottom.

    While `load` is high, `w_top` shifts into the top row and every row passes its weights
    down, so after k cycles the row fed first sits in row k-1. While `load_t` is high,
    `w_left` shifts into the left column and weights move right: after n cycles the column
    fed first sits in column n-1.
    """

    def __init__(self, rows: int, cols: int, placer: Placer, fault: PeFault | None = None):
        self.rows = rows
        self.cols = cols
        self.placer = placer
        self.fault = fault
        super().__init__({
            "a": In(ACT_SHAPE).array(rows),
            "load": In(1),
            "w_top": In(WEIGHT_SHAPE).array(cols),
            "load_t": In(1),
            "w_left": In(WEIGHT_SHAPE).array(rows),
            "psum": Out(PSUM_SHAPE).array(cols),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        pes = place_block(m, self.placer, "pes", self.rows, self.cols, self.fault)
        m.d.comb += [
            pes.load.eq(self.load),
            pes.load_t.eq(self.load_t),
            *_connect(pes.wl_in, self.w_left),
            *_connect(pes.a_in, self.a),
            *_connect(pes.w_in, self.w_top),
            *[psum.eq(0) for psum in pes.psum_in],
            *_connect(self.psum, pes.psum_out),
        ]
        return m
