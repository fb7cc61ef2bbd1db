"""Cycle-level timing of compiled programs: where every cycle goes, and a Perfetto timeline.

`simulate(chip, program)` times a `fabless.isa.Program` on a systolic chip description;
`cycle_estimate_graph(chip, graph)` compiles a graph IR step (shapes only) and times it.

    from fabless.chip import load_chip
    from fabless.cyclesim import cycle_estimate_graph, write_trace
    from fabless.graph import decode_graph
    from fabless.model import Precision, load_model_config

    config = load_model_config("smollm2-135m")
    report = cycle_estimate_graph(load_chip("fab1"), decode_graph(config, Precision(), 1, 128), record=True)
    report.time_s, report.roofline_fraction, report.stall_totals()
    write_trace(report, "decode.json")                 # open at https://ui.perfetto.dev

The model: each stream issues in order and blocks on `sem.wait`; HBM is one FIFO pipe of
the chip's bandwidth with a fixed access latency (data/cyclesim/memory.toml); each core's
SRAM port (`core.sram.bytes_per_cycle`) is shared by its DMA, MXU and VPU traffic; an MXU
loads a weight tile in k cycles, streams m rows at its dtype's rate, and drains in rows +
cols; the VPU retires `core.vector.lanes` operations per cycle.
"""

from fabless.cyclesim.graph import compile_for_timing, cycle_estimate_graph
from fabless.cyclesim.hardware import Hardware
from fabless.cyclesim.perfetto import trace_events, write_trace
from fabless.cyclesim.report import CycleReport, Timeline, TrackEvents, UnitTime, run_in_sequence
from fabless.cyclesim.simulator import simulate
from fabless.cyclesim.tracks import STALL_REASONS
from fabless.cyclesim.workloads import AGREEMENT_WORKLOADS, Workload

__all__ = [
    "simulate",
    "cycle_estimate_graph",
    "compile_for_timing",
    "run_in_sequence",
    "write_trace",
    "trace_events",
    "CycleReport",
    "UnitTime",
    "Timeline",
    "TrackEvents",
    "Hardware",
    "STALL_REASONS",
    "AGREEMENT_WORKLOADS",
    "Workload",
]
