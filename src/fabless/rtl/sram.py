"""An SRAM macro: one synchronous read port and one write port with byte-lane enables.

Simulation builds it from an Amaranth `Memory`. Generated Verilog instantiates the macro
`fabless_sram` instead and ships `SRAM_MODEL`, its behavioural model: a memory compiler
supplies the real macro, synthesis keeps it as a black box, and Amaranth would otherwise
write out every row's initial value (hundreds of MB for a 24 MiB scratchpad).
Reading and writing one row in the same cycle returns the old contents.
"""

from typing import Any

from amaranth import Module
from amaranth.hdl import MemoryData
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from fabless.rtl.hierarchy import Placer

SRAM_MODULE = "fabless_sram"

SRAM_MODEL = """\
// Behavioural model of the SRAM macro a memory compiler provides: one synchronous read
// port (read-before-write) and one write port with LANE-bit write-enable lanes.
module fabless_sram #(parameter DEPTH = 1, WIDTH = 8, LANE = 8, ABITS = 1) (
  input clk, input rst,
  input [ABITS-1:0] raddr, output reg [WIDTH-1:0] rdata,
  input [ABITS-1:0] waddr, input [WIDTH-1:0] wdata, input [WIDTH/LANE-1:0] wen
);
  reg [WIDTH-1:0] mem [0:DEPTH-1];
  integer lane;
  always @(posedge clk) begin
    rdata <= mem[raddr];
    for (lane = 0; lane < WIDTH / LANE; lane = lane + 1)
      if (wen[lane]) mem[waddr][lane * LANE +: LANE] <= wdata[lane * LANE +: LANE];
  end
endmodule
"""


class Sram(wiring.Component):
    """`depth` rows of `width` bits; `wen` has one bit per `lane` bits of a row."""

    def __init__(self, depth: int, width: int, lane: int | None = None) -> None:
        self.depth = depth
        self.width = width
        self.lane = width if lane is None else lane
        if width % self.lane:
            raise ValueError(f"SRAM width {width} is not a multiple of its lane width {self.lane}")
        self.abits = _address_bits(depth)
        self.data = MemoryData(shape=width, depth=depth, init=[])
        """The rows, which a simulation testbench may read and write directly."""
        super().__init__(_signature(depth, width, self.lane))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.memory = memory = Memory(data=self.data)
        read = memory.read_port()
        write = memory.write_port(granularity=self.lane)
        m.d.comb += [
            read.addr.eq(self.raddr),
            self.rdata.eq(read.data),
            write.addr.eq(self.waddr),
            write.data.eq(self.wdata),
            write.en.eq(self.wen),
        ]
        return m


def _address_bits(depth: int) -> int:
    return max(1, ceil_log2(depth))


def _signature(depth: int, width: int, lane: int) -> wiring.Signature:
    abits = _address_bits(depth)
    return wiring.Signature({
        "raddr": In(abits),
        "rdata": Out(width),
        "waddr": In(abits),
        "wdata": In(width),
        "wen": In(width // lane),
    })


def place_sram(
    m: Module, placer: Placer, name: str, depth: int, width: int, lane: int | None = None
) -> Any:
    """Add an SRAM macro to `m`: a simulated `Sram`, or an instance of `fabless_sram`."""
    lane = width if lane is None else lane
    if not placer.shared:
        sram = Sram(depth, width, lane)
        m.submodules[name] = sram
        return sram
    placer.macros.add(SRAM_MODULE)
    params = {"DEPTH": depth, "WIDTH": width, "LANE": lane, "ABITS": _address_bits(depth)}
    return placer.instance(m, name, SRAM_MODULE, _signature(depth, width, lane), params)
