"""The MXU controller: fetches instruction words from the queue and sequences the datapath.

It executes `mxu.ldw`, `mxu.matmul`, `mxu.gemm`, `mxu.store` and `halt` exactly as
docs/isa.md defines them, for int8 matrices and int32 accumulators; field positions come
from `fabless.isa`, so the decoder follows the ISA's encoding. Every instruction runs to
completion (its last accumulator or scratchpad write) before the next is fetched.

Cycles per instruction: 2 to fetch and decode, then
- ldw: k + 3 (one weight row per cycle, bottom row first, then the read pipeline),
  n + 3 when transposed (one weight column per cycle, shifted in from the left);
- matmul: m + rows + cols + 2 (one activation row per cycle, then the array drains);
- store: m x ceil(row bytes / W) + 2 (one W-byte scratchpad write per cycle);
- gemm: an ldw and a matmul per chunk of `rows` rows of K.
"""

from amaranth import Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fabless.isa.dtypes import Dtype
from fabless.isa.fields import OPCODE_BITS, WORD_BITS, Instruction
from fabless.isa.instructions import (
    ACC_ROW_BITS,
    SRAM_ADDR_BITS,
    SRAM_STRIDE_BITS,
    Halt,
    MxuGemm,
    MxuLoadWeights,
    MxuMatmul,
    MxuStore,
)
from fabless.rtl.config import RtlConfig

STORE_READ_LATENCY = 2
"""Cycles from a store's accumulator read to its scratchpad write (read, then format)."""
WEIGHT_READ_LATENCY = 2
"""Cycles from a scratchpad read to the row entering the array (read, then align)."""


def field(word: Value, cls: type[Instruction], name: str) -> Value:
    """The bits of field `name` of instruction `cls` in an instruction word."""
    spec = next(spec for spec in cls.LAYOUT if spec.name == name)
    return word[spec.shift : spec.shift + spec.bits]


class Controller(wiring.Component):
    """Instruction sequencer; the datapath in `core.py` acts on its strobes."""

    def __init__(self, config: RtlConfig) -> None:
        self.config = config
        imem_bits = max(1, (config.imem_depth - 1).bit_length())
        super().__init__({
            "start": In(1),
            "count": In(range(config.imem_depth + 1)),
            "busy": Out(1),
            "error": Out(1),
            "imem_addr": Out(imem_bits),
            "imem_data": In(WORD_BITS),
            # Scratchpad reads: one weight row or one activation row per strobe.
            "rd_addr": Out(SRAM_ADDR_BITS),
            "rd_weight": Out(1),
            "rd_act": Out(1),
            "k": Out(16),
            "n": Out(16),
            "transposed": Out(1),
            # Matmul results: `mm_start` (re)starts the accumulator row counter at `acc_row`.
            "mm_start": Out(1),
            "acc_row": Out(ACC_ROW_BITS),
            "accumulate": Out(1),
            # Stores: one W-byte chunk of accumulator row `st_row` per strobe.
            "st_valid": Out(1),
            "st_row": Out(ACC_ROW_BITS),
            "st_chunk": Out(2),
            "st_addr": Out(SRAM_ADDR_BITS),
            "st_len": Out(range(config.spad_row_bytes + 1)),
            "st_int8": Out(1),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        rows, cols, row_bytes = self.config.rows, self.config.cols, self.config.spad_row_bytes
        word = self.imem_data

        pc = Signal.like(self.imem_addr, name="pc")
        count = Signal.like(self.count, name="count_reg")
        at_end = Signal()
        m.d.comb += [at_end.eq(pc == count), self.imem_addr.eq(pc)]

        # Operands of the tile being worked on (an ldw/matmul, or the current gemm chunk).
        w_base = Signal(SRAM_ADDR_BITS)
        w_stride = Signal(SRAM_STRIDE_BITS)
        x_base = Signal(SRAM_ADDR_BITS)
        x_stride = Signal(SRAM_STRIDE_BITS)
        m_rows = Signal(16)
        k_left = Signal(20)
        gemm = Signal()
        chunk_k = Signal(16)
        m.d.comb += chunk_k.eq(Mux(k_left > rows, rows, k_left))

        ptr = Signal(SRAM_ADDR_BITS)
        left = Signal(16)
        drain = Signal(range(rows + cols + 4))

        # Store walk: `rem` bytes of the current row remain, `row_bytes_st` per row.
        st_stride = Signal(SRAM_STRIDE_BITS)
        st_row_base = Signal(SRAM_ADDR_BITS)
        st_rem = Signal(range(4 * cols + 1))
        st_row_len = Signal(range(4 * cols + 1))

        with m.FSM(name="state"):
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [pc.eq(0), count.eq(self.count), self.error.eq(0)]
                    m.next = "FETCH"
            with m.State("FETCH"):
                m.d.comb += self.busy.eq(1)
                with m.If(at_end):
                    m.next = "IDLE"
                with m.Else():
                    m.next = "DECODE"
            with m.State("DECODE"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += pc.eq(pc + 1)
                opcode = word[:OPCODE_BITS]
                with m.Switch(opcode):
                    with m.Case(Halt.OPCODE):
                        m.next = "IDLE"
                    with m.Case(MxuLoadWeights.OPCODE):
                        m.d.sync += [
                            w_base.eq(field(word, MxuLoadWeights, "w_addr")),
                            w_stride.eq(field(word, MxuLoadWeights, "w_stride")),
                            k_left.eq(field(word, MxuLoadWeights, "k")),
                            self.n.eq(field(word, MxuLoadWeights, "n")),
                            self.transposed.eq(field(word, MxuLoadWeights, "transposed")),
                            gemm.eq(0),
                        ]
                        m.next = "LDW_SETUP"
                    with m.Case(MxuMatmul.OPCODE):
                        m.d.sync += [
                            x_base.eq(field(word, MxuMatmul, "x_addr")),
                            x_stride.eq(field(word, MxuMatmul, "x_stride")),
                            m_rows.eq(field(word, MxuMatmul, "m")),
                            self.acc_row.eq(field(word, MxuMatmul, "acc_row")),
                            self.accumulate.eq(field(word, MxuMatmul, "accumulate")),
                            gemm.eq(0),
                        ]
                        m.next = "MM_SETUP"
                    with m.Case(MxuGemm.OPCODE):
                        m.d.sync += [
                            w_base.eq(field(word, MxuGemm, "w_addr")),
                            w_stride.eq(field(word, MxuGemm, "w_stride")),
                            x_base.eq(field(word, MxuGemm, "x_addr")),
                            x_stride.eq(field(word, MxuGemm, "x_stride")),
                            m_rows.eq(field(word, MxuGemm, "m")),
                            k_left.eq(field(word, MxuGemm, "k")),
                            self.n.eq(field(word, MxuGemm, "n")),
                            self.acc_row.eq(field(word, MxuGemm, "acc_row")),
                            self.accumulate.eq(field(word, MxuGemm, "accumulate")),
                            self.transposed.eq(field(word, MxuGemm, "transposed")),
                            gemm.eq(1),
                        ]
                        m.next = "LDW_SETUP"
                    with m.Case(MxuStore.OPCODE):
                        int8 = field(word, MxuStore, "out_dtype") == Dtype.INT8
                        n = field(word, MxuStore, "n")
                        out_addr = field(word, MxuStore, "out_addr")
                        m.d.sync += [
                            self.st_row.eq(field(word, MxuStore, "acc_row")),
                            self.st_int8.eq(int8),
                            st_stride.eq(field(word, MxuStore, "out_stride")),
                            st_row_base.eq(out_addr),
                            self.st_addr.eq(out_addr),
                            st_row_len.eq(Mux(int8, n, n * 4)),
                            st_rem.eq(Mux(int8, n, n * 4)),
                            self.st_chunk.eq(0),
                            left.eq(field(word, MxuStore, "m")),
                        ]
                        m.next = "STORE"
                    with m.Default():
                        m.d.sync += self.error.eq(1)
                        m.next = "IDLE"

            with m.State("LDW_SETUP"):
                # The row (or, transposed, the column) fed first ends up farthest in, so
                # the walk starts at the tile's last scratchpad row and steps back.
                m.d.comb += self.busy.eq(1)
                lines = Mux(self.transposed, self.n, chunk_k)
                m.d.sync += [
                    ptr.eq(w_base + (lines - 1) * w_stride),
                    left.eq(lines),
                    self.k.eq(chunk_k),
                ]
                m.next = "LDW"
            with m.State("LDW"):
                m.d.comb += [self.busy.eq(1), self.rd_addr.eq(ptr), self.rd_weight.eq(1)]
                m.d.sync += [ptr.eq(ptr - w_stride), left.eq(left - 1)]
                with m.If(left == 1):
                    m.d.sync += drain.eq(WEIGHT_READ_LATENCY)
                    m.next = "LDW_DRAIN"
            with m.State("LDW_DRAIN"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += drain.eq(drain - 1)
                with m.If(drain == 1):
                    with m.If(gemm):
                        m.next = "MM_SETUP"
                    with m.Else():
                        m.next = "FETCH"

            with m.State("MM_SETUP"):
                m.d.comb += [self.busy.eq(1), self.mm_start.eq(1)]
                m.d.sync += [ptr.eq(x_base), left.eq(m_rows)]
                m.next = "MATMUL"
            with m.State("MATMUL"):
                m.d.comb += [self.busy.eq(1), self.rd_addr.eq(ptr), self.rd_act.eq(1)]
                m.d.sync += [ptr.eq(ptr + x_stride), left.eq(left - 1)]
                with m.If(left == 1):
                    # The last row's result is written rows + cols + 1 cycles after its read.
                    m.d.sync += drain.eq(rows + cols + 1)
                    m.next = "MM_DRAIN"
            with m.State("MM_DRAIN"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += drain.eq(drain - 1)
                with m.If(drain == 1):
                    with m.If(gemm & (k_left > rows)):
                        # Next K chunk of a gemm: it adds onto what this chunk wrote.
                        m.d.sync += [
                            k_left.eq(k_left - rows),
                            w_base.eq(w_base + Mux(self.transposed, rows, rows * w_stride)),
                            x_base.eq(x_base + rows),
                            self.accumulate.eq(1),
                        ]
                        m.next = "LDW_SETUP"
                    with m.Else():
                        m.next = "FETCH"

            with m.State("STORE"):
                m.d.comb += [
                    self.busy.eq(1),
                    self.st_valid.eq(1),
                    self.st_len.eq(Mux(st_rem > row_bytes, row_bytes, st_rem)),
                ]
                with m.If(st_rem > row_bytes):
                    m.d.sync += [
                        st_rem.eq(st_rem - row_bytes),
                        self.st_addr.eq(self.st_addr + row_bytes),
                        self.st_chunk.eq(self.st_chunk + 1),
                    ]
                with m.Else():
                    next_base = st_row_base + st_stride
                    m.d.sync += [
                        st_rem.eq(st_row_len),
                        st_row_base.eq(next_base),
                        self.st_addr.eq(next_base),
                        self.st_chunk.eq(0),
                        self.st_row.eq(self.st_row + 1),
                        left.eq(left - 1),
                    ]
                    with m.If(left == 1):
                        m.d.sync += drain.eq(STORE_READ_LATENCY)
                        m.next = "STORE_DRAIN"
            with m.State("STORE_DRAIN"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += drain.eq(drain - 1)
                with m.If(drain == 1):
                    m.next = "FETCH"
        return m
