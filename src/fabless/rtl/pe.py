"""One processing element of the weight-stationary systolic array.

A PE holds one int8 weight, multiplies the int8 activation passing through it by that
weight and adds the product to the int32 partial sum coming from the PE above. Weights
are loaded by shifting them down the column, one row per cycle, while `load` is high, or
(for a transposed tile, stored a column per scratchpad row) right along the row while
`load_t` is high.
"""

from dataclasses import dataclass

from amaranth import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

ACT_SHAPE = signed(8)
WEIGHT_SHAPE = signed(8)
PSUM_SHAPE = signed(32)


@dataclass(frozen=True)
class PeFault:
    """A deliberate defect for testing the tests: PE (`row`, `col`) flips `bit` of its product."""

    row: int
    col: int
    bit: int = 0


class ProcessingElement(wiring.Component):
    """Weight-stationary int8 x int8 -> int32 multiply-accumulate cell.

    Every output is registered, so a value moves one PE per cycle: activations to the
    right, partial sums down, weights down or right while loading. `flip_bit` corrupts the product
    (bit index), which only fault-injection tests ask for.
    """

    def __init__(self, flip_bit: int | None = None) -> None:
        self.flip_bit = flip_bit
        super().__init__({
            "a_in": In(ACT_SHAPE),
            "w_in": In(WEIGHT_SHAPE),
            "load": In(1),
            "w_left": In(WEIGHT_SHAPE),
            "load_t": In(1),
            "psum_in": In(PSUM_SHAPE),
            "a_out": Out(ACT_SHAPE),
            "w_out": Out(WEIGHT_SHAPE),
            "psum_out": Out(PSUM_SHAPE),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        # Datapath registers need no reset: the controller never consumes a value that
        # was not produced by the current instruction, and skipping reset keeps each
        # register a bare flip-flop (smaller, and faster under Verilator).
        weight = Signal(WEIGHT_SHAPE, reset_less=True)
        act = Signal(ACT_SHAPE, reset_less=True)
        psum = Signal(PSUM_SHAPE, reset_less=True)
        product = Signal(signed(16))
        m.d.comb += product.eq(self.a_in * weight)
        if self.flip_bit is not None:
            m.d.comb += product[self.flip_bit].eq(~(self.a_in * weight)[self.flip_bit])
        with m.If(self.load):
            m.d.sync += weight.eq(self.w_in)
        with m.Elif(self.load_t):
            m.d.sync += weight.eq(self.w_left)
        m.d.sync += [act.eq(self.a_in), psum.eq(self.psum_in + product)]
        m.d.comb += [self.a_out.eq(act), self.w_out.eq(weight), self.psum_out.eq(psum)]
        return m
