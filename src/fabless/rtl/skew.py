"""Skew registers: delay lane i of a vector by i cycles.

The array needs activation k one cycle after activation k - 1 (the wavefront moves down
one row per cycle). Each lane's delay line is one wide shift register, so a 128-lane
skew is 128 signals, not 8,128, which keeps generation and Verilator fast. (Results need
no deskew: the accumulator's per-column banks take them in the same wave, see
`accumulator.py`.)
"""

from amaranth import Cat, Module, Shape, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


class Skew(wiring.Component):
    """Delay lane i of `i` by i cycles onto `o`."""

    def __init__(self, lanes: int, shape: Shape) -> None:
        self.lanes = lanes
        self.shape = shape
        super().__init__({"i": In(shape).array(lanes), "o": Out(shape).array(lanes)})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        width = Shape.cast(self.shape).width
        for lane in range(self.lanes):
            depth = lane
            if depth == 0:
                m.d.comb += self.o[lane].eq(self.i[lane])
                continue
            # Oldest value in the low bits: shifting right by one lane makes room on top.
            line = Signal(width * depth, name=f"line_{lane}", reset_less=True)
            m.d.sync += line.eq(Cat(line[width:], self.i[lane]))
            m.d.comb += self.o[lane].eq(line[:width])
        return m
