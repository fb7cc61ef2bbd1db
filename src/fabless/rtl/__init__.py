"""RTL of the compute core in Amaranth, generated from a chip description and checked
bit for bit against the golden functional simulator.

Build a configuration with `RtlConfig.from_chip`, get Verilog with `generate_verilog` /
`write_verilog`, simulate with `run_pysim` (small arrays) or `build_verilator(...).run`,
co-verify with `cosimulate`, and count cells with `synthesize`.
"""

from fabless.rtl.accumulator import Accumulator
from fabless.rtl.array import PeBlock, SystolicArray
from fabless.rtl.config import RtlConfig, with_array
from fabless.rtl.controller import Controller
from fabless.rtl.core import Core
from fabless.rtl.cosim import Cosim, cosimulate, cyclesim_cycles, differences, golden_run
from fabless.rtl.cycles import (
    RTL_OVERHEAD_BOUND,
    analytical_cycles,
    cyclesim_tolerance,
    overhead_bound,
    tile_steps,
)
from fabless.rtl.image import CoreImage, RtlRun
from fabless.rtl.pe import PeFault, ProcessingElement
from fabless.rtl.program import CORE_STREAM, core_stream, encode_stream
from fabless.rtl.pysim import run_pysim
from fabless.rtl.randprog import numpy_draw, random_image, random_program
from fabless.rtl.scratchpad import Scratchpad
from fabless.rtl.skew import Skew
from fabless.rtl.sram import SRAM_MODEL, Sram
from fabless.rtl.synth import ModuleCells, SynthReport, synthesize
from fabless.rtl.verilator import VerilatorModel, build_verilator, verilator_missing
from fabless.rtl.verilog import TOP_MODULE, generate_verilog, write_verilog

__all__ = [
    # hardware
    "Core",
    "Controller",
    "SystolicArray",
    "PeBlock",
    "ProcessingElement",
    "PeFault",
    "Accumulator",
    "Scratchpad",
    "Skew",
    "Sram",
    "SRAM_MODEL",
    # configuration, programs, images
    "RtlConfig",
    "with_array",
    "CORE_STREAM",
    "core_stream",
    "encode_stream",
    "CoreImage",
    "RtlRun",
    "random_program",
    "random_image",
    "numpy_draw",
    # Verilog, simulation, synthesis
    "TOP_MODULE",
    "generate_verilog",
    "write_verilog",
    "run_pysim",
    "build_verilator",
    "verilator_missing",
    "VerilatorModel",
    "synthesize",
    "SynthReport",
    "ModuleCells",
    # co-verification and cycles
    "cosimulate",
    "golden_run",
    "differences",
    "Cosim",
    "cyclesim_cycles",
    "analytical_cycles",
    "overhead_bound",
    "cyclesim_tolerance",
    "tile_steps",
    "RTL_OVERHEAD_BOUND",
]
