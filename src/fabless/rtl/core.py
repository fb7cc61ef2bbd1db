"""The compute core: instruction queue, controller, scratchpad, MXU and accumulator.

The host side (a testbench, or a DMA engine in a full chip) fills the instruction queue
and the memories while the core is idle, pulses `start` with the instruction count, waits
for `busy` to fall and reads the memories back. Host reads return data one cycle after
the address, like every SRAM read here.
"""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fabless.isa.fields import WORD_BITS
from fabless.rtl.accumulator import Accumulator
from fabless.rtl.array import SystolicArray
from fabless.rtl.config import RtlConfig
from fabless.rtl.controller import Controller
from fabless.rtl.hierarchy import Placer
from fabless.rtl.pe import ACT_SHAPE
from fabless.rtl.scratchpad import Scratchpad
from fabless.rtl.skew import Skew
from fabless.rtl.sram import place_sram


class Core(wiring.Component):
    """One MXU with its accumulator, a scratchpad and the controller that drives them."""

    def __init__(self, config: RtlConfig, placer: Placer | None = None) -> None:
        self.config = config
        self.placer = Placer(shared=False) if placer is None else placer
        row_bits = config.spad_row_bytes * 8
        super().__init__({
            "start": In(1),
            "count": In(range(config.imem_depth + 1)),
            "busy": Out(1),
            "error": Out(1),
            "imem_we": In(1),
            "imem_addr": In(range(config.imem_depth)),
            "imem_wdata": In(WORD_BITS),
            "spad_we": In(1),
            "spad_row": In(range(2 * config.spad_bank_rows)),
            "spad_wdata": In(row_bits),
            "spad_rdata": Out(row_bits),
            "acc_we": In(1),
            "acc_addr": In(range(config.acc_rows)),
            "acc_wdata": In(config.cols * 32),
            "acc_rdata": Out(config.cols * 32),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.config
        rows, cols, row_bytes = cfg.rows, cfg.cols, cfg.spad_row_bytes
        offset_bits = (row_bytes - 1).bit_length()

        m.submodules.controller = ctrl = Controller(cfg)
        m.submodules.scratchpad = spad = Scratchpad(cfg, self.placer)
        m.submodules.array = array = SystolicArray(rows, cols, self.placer, cfg.fault)
        m.submodules.skew = skew = Skew(rows, ACT_SHAPE)
        m.submodules.accumulator = acc = Accumulator(cfg, self.placer)
        imem = place_sram(m, self.placer, "imem", cfg.imem_depth, WORD_BITS)
        # Kept so that a simulation testbench can load and dump the memories directly.
        self.imem, self.accumulator, self.scratchpad = imem, acc, spad
        busy = ctrl.busy
        idle = ~busy

        m.d.comb += [
            ctrl.start.eq(self.start & idle),
            ctrl.count.eq(self.count),
            self.busy.eq(busy),
            self.error.eq(ctrl.error),
            imem.raddr.eq(ctrl.imem_addr),
            ctrl.imem_data.eq(imem.rdata),
            imem.waddr.eq(self.imem_addr),
            imem.wdata.eq(self.imem_wdata),
            imem.wen.eq(self.imem_we & idle),
        ]

        # Scratchpad rows into the array: read, align (masking activations past k), feed.
        host_addr = Cat(Const(0, offset_bits), self.spad_row)
        m.d.comb += [
            spad.rd_addr.eq(Mux(busy, ctrl.rd_addr, host_addr)),
            self.spad_rdata.eq(spad.rd_data),
        ]
        read_weight = Signal()
        read_act = Signal()
        m.d.sync += [read_weight.eq(ctrl.rd_weight), read_act.eq(ctrl.rd_act)]
        row = Signal(row_bytes * 8, reset_less=True)
        row_weight = Signal()
        m.d.sync += [
            row.eq(Cat(
                Mux(read_act & (lane >= ctrl.k), 0, spad.rd_data.word_select(lane, 8))
                for lane in range(row_bytes)
            )),
            row_weight.eq(read_weight),
        ]
        m.d.comb += [
            array.load.eq(row_weight & ~ctrl.transposed),
            array.load_t.eq(row_weight & ctrl.transposed),
        ]
        for c in range(cols):
            m.d.comb += array.w_top[c].eq(row.word_select(c, 8))
        for r in range(rows):
            m.d.comb += array.w_left[r].eq(row.word_select(r, 8))
        for r in range(rows):
            m.d.comb += [skew.i[r].eq(row.word_select(r, 8)), array.a[r].eq(skew.o[r])]

        # Results: the wave for an activation row starts when its results reach the
        # bottom of column 0 (read, align and rows PEs after the scratchpad read).
        issued = Signal(rows + 1)
        m.d.sync += issued.eq(Cat(ctrl.rd_act, issued[:-1]))
        result_row = Signal(range(cfg.acc_rows))
        with m.If(ctrl.mm_start):
            m.d.sync += result_row.eq(ctrl.acc_row)
        with m.Elif(issued[-1]):
            m.d.sync += result_row.eq(result_row + 1)
        m.d.comb += [
            acc.result_read.eq(issued[-1]),
            acc.result_row.eq(result_row),
            acc.accumulate.eq(ctrl.accumulate),
            acc.n.eq(ctrl.n),
        ]
        for c in range(cols):
            m.d.comb += acc.psum[c].eq(array.psum[c])

        # Stores: accumulator row -> chunk (int32 words) or saturated bytes (int8) -> SRAM.
        store_read = Signal()
        store_chunk = Signal(2)
        store_addr = Signal.like(ctrl.st_addr)
        store_len = Signal.like(ctrl.st_len)
        m.d.sync += [
            store_read.eq(ctrl.st_valid),
            store_chunk.eq(ctrl.st_chunk),
            store_addr.eq(ctrl.st_addr),
            store_len.eq(ctrl.st_len),
        ]
        words = [acc.rdata.word_select(c, 32).as_signed() for c in range(cols)]
        saturated = Cat(
            Mux(w > 127, 127, Mux(w < -128, -128, w))[:8] for w in words
        )
        chunks = -(-cols * 4 // row_bytes)
        padded = Cat(acc.rdata, Const(0, chunks * row_bytes * 8 - cols * 32))
        chunk = padded.word_select(store_chunk, row_bytes * 8) if chunks > 1 else padded
        out_data = Signal(row_bytes * 8, reset_less=True)
        out_write = Signal()
        out_addr = Signal.like(store_addr)
        out_len = Signal.like(store_len)
        m.d.sync += [
            out_data.eq(Mux(ctrl.st_int8, saturated, chunk)),
            out_write.eq(store_read),
            out_addr.eq(store_addr),
            out_len.eq(store_len),
        ]
        m.d.comb += [
            spad.wr_en.eq(Mux(busy, out_write, self.spad_we)),
            spad.wr_addr.eq(Mux(busy, out_addr, host_addr)),
            spad.wr_data.eq(Mux(busy, out_data, self.spad_wdata)),
            spad.wr_len.eq(Mux(busy, out_len, row_bytes)),
        ]

        # Whole accumulator rows: stores while busy, the host while idle.
        m.d.comb += [
            acc.row_read.eq(ctrl.st_valid | idle),
            acc.row_write.eq(self.acc_we & idle),
            acc.row.eq(Mux(busy, ctrl.st_row, self.acc_addr)),
            acc.wdata.eq(self.acc_wdata),
            self.acc_rdata.eq(acc.rdata),
        ]
        return m
