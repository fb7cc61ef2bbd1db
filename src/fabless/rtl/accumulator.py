"""The MXU's accumulator: one 32-bit SRAM bank per array column, addressed in a wave.

Column c's result for an activation row leaves the array one cycle after column c-1's.
Rather than delaying every result to line a row up (cols x (cols-1) / 2 registers of
32 bits: 260k flip-flops on a 128-wide array), each column has its own bank and the
row address and write strobe travel along the columns with the results, a few bits per
column. Bank c reads the old word one cycle before column c's result arrives and writes
the updated word as it arrives (read-modify-write, wrapping modulo 2^32).
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fabless.rtl.config import RtlConfig
from fabless.rtl.hierarchy import Placer
from fabless.rtl.pe import PSUM_SHAPE
from fabless.rtl.sram import place_sram


class Accumulator(wiring.Component):
    """Per-column banks; results update rows in a wave, stores and the host read whole rows.

    Results: `result_read` asks bank 0 to read `result_row`; the same request reaches bank
    c after c cycles, and the next cycle bank c writes `psum[c]` (added to the old word if
    `accumulate`) when c < `n`. Whole rows: `row_read` reads `row` from every bank
    (`rdata` the next cycle); `row_write` writes `wdata` to `row` in every bank.
    """

    def __init__(self, config: RtlConfig, placer: Placer) -> None:
        self.config = config
        self.placer = placer
        cols = config.cols
        super().__init__({
            "result_read": In(1),
            "result_row": In(range(config.acc_rows)),
            "accumulate": In(1),
            "n": In(16),
            "psum": In(PSUM_SHAPE).array(cols),
            "row_read": In(1),
            "row_write": In(1),
            "row": In(range(config.acc_rows)),
            "wdata": In(cols * 32),
            "rdata": Out(cols * 32),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cols, depth = self.config.cols, self.config.acc_rows
        self.banks = banks = [place_sram(m, self.placer, f"bank{c}", depth, 32) for c in range(cols)]
        # Stage c of the wave is bank c's read; stage c+1 is bank c's write.
        valid = Signal(cols + 1)
        rows = [Signal(range(depth), name=f"wave_row_{c}", reset_less=True) for c in range(cols + 1)]
        m.d.comb += [valid[0].eq(self.result_read), rows[0].eq(self.result_row)]
        m.d.sync += valid[1:].eq(valid[:-1])
        m.d.sync += [later.eq(earlier) for earlier, later in zip(rows, rows[1:], strict=False)]
        for c, bank in enumerate(banks):
            old = bank.rdata.as_signed()
            new = Mux(self.accumulate, old + self.psum[c], self.psum[c])[:32]
            m.d.comb += [
                bank.raddr.eq(Mux(self.row_read, self.row, rows[c])),
                bank.waddr.eq(Mux(self.row_write, self.row, rows[c + 1])),
                bank.wdata.eq(Mux(self.row_write, self.wdata.word_select(c, 32), new)),
                bank.wen.eq(self.row_write | (valid[c + 1] & (self.n > c))),
            ]
        m.d.comb += self.rdata.eq(Cat(bank.rdata for bank in banks))
        return m
