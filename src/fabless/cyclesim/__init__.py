"""Cycle-level timing of compiled programs: where every cycle goes, and a Perfetto timeline.

`simulate(chip, program)` times a `fabless.isa.Program` on a systolic chip description;
`cycle_estimate_graph(chip, graph)` compiles a graph IR step and times it.
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
