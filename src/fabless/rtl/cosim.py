"""Co-verification: run one program on the RTL and on the golden functional simulator.

Both start from the same scratchpad image (accumulators at their 0xFF power-up value) and
must end with identical scratchpad bytes and accumulator words.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fabless.chip.spec import ChipSpec
from fabless.cyclesim import simulate
from fabless.funcsim import FunctionalSimulator
from fabless.isa.program import Program
from fabless.rtl.image import CoreImage, RtlRun
from fabless.rtl.program import core_stream, encode_stream

Runner = Callable[[list[bytes], CoreImage], RtlRun]
"""Runs instruction words on one RTL build (Python simulator or Verilator) from an image."""

_SHOWN = 4


@dataclass(frozen=True)
class Cosim:
    """The two results of one program and where they differ (empty when bit-exact)."""

    rtl: RtlRun
    golden: CoreImage
    mismatches: tuple[str, ...]

    @property
    def exact(self) -> bool:
        return not self.mismatches


def golden_run(chip: ChipSpec, program: Program, image: CoreImage) -> CoreImage:
    """The functional simulator's memories after `program`, starting from `image`."""
    sim = FunctionalSimulator(chip, hbm_bytes=4096)
    sim.write_sram(0, 0, image.spad)
    sim.memory.accumulator(0, 0)[...] = image.acc
    sim.run(program)
    spad = sim.read_sram(0, 0, (sim.memory.sram_bytes,), np.uint8)  # settles deferred dma.loads
    return CoreImage(spad, sim.memory.accumulator(0, 0).copy())


def cyclesim_cycles(chip: ChipSpec, program: Program) -> float:
    """The cycle simulator's count for `program`, to set beside the RTL's."""
    return simulate(chip, program, record=False).cycles


def cosimulate(chip: ChipSpec, program: Program, image: CoreImage, runner: Runner) -> Cosim:
    """Run `program` on the golden model first (it rejects illegal programs), then the RTL."""
    words = encode_stream(core_stream(program))
    golden = golden_run(chip, program, image)
    rtl = runner(words, image)
    return Cosim(rtl, golden, differences(golden, rtl.image, rtl.error))


def differences(golden: CoreImage, rtl: CoreImage, rtl_error: bool = False) -> tuple[str, ...]:
    """Human-readable mismatches: the first few differing bytes and words, and totals."""
    found: list[str] = []
    if rtl_error:
        found.append("the RTL controller flagged an unsupported instruction")
    bad = np.flatnonzero(golden.spad != rtl.spad)
    for addr in bad[:_SHOWN]:
        found.append(f"SRAM byte {addr:#x}: golden {golden.spad[addr]:#04x}, RTL {rtl.spad[addr]:#04x}")
    if bad.size > _SHOWN:
        found.append(f"... {bad.size} SRAM bytes differ in all")
    rows, cols = np.nonzero(golden.acc != rtl.acc)
    for row, col in list(zip(rows, cols, strict=True))[:_SHOWN]:
        want, got = golden.acc.view(np.int32)[row, col], rtl.acc.view(np.int32)[row, col]
        found.append(f"accumulator [{row}, {col}]: golden {want}, RTL {got}")
    if rows.size > _SHOWN:
        found.append(f"... {rows.size} accumulator words differ in all")
    return tuple(found)

