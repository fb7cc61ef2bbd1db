"""The byte-addressed scratchpad: any row of up to `spad_row_bytes` bytes at any address.

Physical row p (bytes p*W .. p*W + W-1, W = `spad_row_bytes`) lives in bank p % 2 at
row p // 2, so the two physical rows an unaligned access spans are always in different
banks and move in the same cycle; a barrel shifter lines the bytes up.
"""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fabless.isa.instructions import SRAM_ADDR_BITS
from fabless.rtl.config import RtlConfig
from fabless.rtl.hierarchy import Placer
from fabless.rtl.sram import place_sram


class Scratchpad(wiring.Component):
    """One read and one write per cycle, each of up to W bytes at any byte address.

    Read: `rd_addr` in one cycle, `rd_data` (byte 0 = the byte at rd_addr) the next.
    Write: `wr_len` bytes of `wr_data` to `wr_addr` when `wr_en`, at the clock edge.
    """

    def __init__(self, config: RtlConfig, placer: Placer) -> None:
        self.config = config
        self.placer = placer
        width = config.spad_row_bytes * 8
        super().__init__({
            "rd_addr": In(SRAM_ADDR_BITS),
            "rd_data": Out(width),
            "wr_en": In(1),
            "wr_addr": In(SRAM_ADDR_BITS),
            "wr_data": In(width),
            "wr_len": In(range(config.spad_row_bytes + 1)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        row_bytes = self.config.spad_row_bytes
        width = row_bytes * 8
        offset_bits = (row_bytes - 1).bit_length()
        self.banks = banks = [
            place_sram(m, self.placer, f"bank{b}", self.config.spad_bank_rows, width, lane=8)
            for b in range(2)
        ]

        # Read: bank 0 holds the even one of rows p, p+1 at (p+1)//2, bank 1 the odd at p//2.
        rd_row = self.rd_addr[offset_bits:]
        rd_odd = Signal()
        rd_offset = Signal(offset_bits)
        m.d.sync += [rd_odd.eq(rd_row[0]), rd_offset.eq(self.rd_addr[:offset_bits])]
        m.d.comb += [banks[0].raddr.eq((rd_row + 1) >> 1), banks[1].raddr.eq(rd_row >> 1)]
        low = Mux(rd_odd, banks[1].rdata, banks[0].rdata)
        high = Mux(rd_odd, banks[0].rdata, banks[1].rdata)
        m.d.comb += self.rd_data.eq((Cat(low, high) >> (rd_offset * 8))[:width])

        # Write: shift the bytes and their enables into the two-row window, split by bank.
        wr_row = self.wr_addr[offset_bits:]
        wr_offset = self.wr_addr[:offset_bits]
        window = Signal(2 * width)
        lanes = Signal(2 * row_bytes)
        first = Signal(row_bytes)
        m.d.comb += [
            first.eq((Const(1, 1) << self.wr_len) - 1),
            window.eq(self.wr_data << (wr_offset * 8)),
            lanes.eq(Mux(self.wr_en, first << wr_offset, 0)),
        ]
        odd = wr_row[0]
        m.d.comb += [
            banks[0].waddr.eq((wr_row + 1) >> 1),
            banks[1].waddr.eq(wr_row >> 1),
            banks[0].wdata.eq(Mux(odd, window[width:], window[:width])),
            banks[1].wdata.eq(Mux(odd, window[:width], window[width:])),
            banks[0].wen.eq(Mux(odd, lanes[row_bytes:], lanes[:row_bytes])),
            banks[1].wen.eq(Mux(odd, lanes[:row_bytes], lanes[row_bytes:])),
        ]
        return m
