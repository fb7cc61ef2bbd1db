"""The timeline as a Chrome / Perfetto trace (JSON Trace Event Format).

One process per core, one thread (track) per unit. Every instruction is one "X"
(complete) slice of category `busy` spanning its work on that unit; the cycles it spent
inside that span held up (an `mxu.gemm` waiting for its next weight tile to load, or for
the array to drain) are in its `args.stall_cycles`, its working cycles in
`args.busy_cycles`. The waits between instructions are slices of category `stall` named
for their reason. So per unit, busy cycles and stall cycles add up to the report's.
Open the file at https://ui.perfetto.dev or chrome://tracing.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fabless.cyclesim.report import CycleReport
from fabless.errors import FablessError
from fabless.files import output_file
from fabless.isa import format_instruction

Slice = tuple[float, float, int | str, float, dict[str, float]]
"""(start, end, instruction index or stall reason, busy cycles, stall cycles inside)."""


def trace_events(report: CycleReport) -> dict[str, Any]:
    """The trace as a JSON-ready dict; timestamps and durations in microseconds."""
    return {"traceEvents": list(_events(report)), **_header(report)}


def write_trace(report: CycleReport, path: str | Path) -> Path:
    """Write the trace to `path` whole or not at all, with the mode the user's umask gives.

    Events are written one at a time, so a trace of millions of slices never sits in memory.
    """
    events = _events(report)
    with output_file(path, "the trace") as staged, staged.open("w", encoding="utf-8") as out:
        out.write(json.dumps(_header(report), separators=(",", ":"))[:-1] + ',"traceEvents":[')
        for index, event in enumerate(events):
            out.write(("," if index else "") + json.dumps(event, separators=(",", ":")))
        out.write("]}")
    return Path(path)


def _header(report: CycleReport) -> dict[str, Any]:
    return {
        "displayTimeUnit": "ns",
        "otherData": {
            "chip": report.chip,
            "cycles": report.cycles,
            "time_s": report.time_s,
            "instructions": report.instructions,
            "flops_per_s": report.flops_per_s,
            "hbm_bytes_per_s": report.hbm_bytes_per_s,
            "roofline_fraction": report.roofline_fraction,
        },
    }


def _events(report: CycleReport) -> Iterator[dict[str, Any]]:
    if report.timeline is None:
        raise FablessError("this report has no timeline: simulate with record=True to write a trace")
    us_per_cycle = 1e6 / report.clock_hz
    for core in sorted({t.core for t in report.timeline.tracks}):
        yield {"name": "process_name", "ph": "M", "pid": core, "tid": 0, "args": {"name": f"core {core}"}}
    code = report.timeline.code
    tids: dict[str, int] = {}
    for track in report.timeline.tracks:
        tid = tids.get(track.name)
        if tid is None:
            # One thread per unit, even when several programs in sequence used it.
            tid = tids[track.name] = len(tids) + 1
            yield {"name": "thread_name", "ph": "M", "pid": track.core, "tid": tid, "args": {"name": track.name}}
            yield {"name": "thread_sort_index", "ph": "M", "pid": track.core, "tid": tid, "args": {"sort_index": tid}}
        stream = code[track.stream]
        for start, end, what, busy, inside in _slices(track.events):
            event: dict[str, Any] = {
                "ph": "X",
                "pid": track.core,
                "tid": tid,
                "ts": start * us_per_cycle,
                "dur": (end - start) * us_per_cycle,
            }
            if isinstance(what, str):
                event.update(name=f"stall: {what}", cat="stall", args={"cycles": end - start})
            else:
                instr = stream[what]
                event.update(
                    name=instr.MNEMONIC,
                    cat="busy",
                    args={
                        "index": what,
                        "instruction": format_instruction(instr),
                        "busy_cycles": busy,
                        "stall_cycles": inside,
                    },
                )
            yield event


def _slices(events: tuple[tuple[float, float, int | str], ...]) -> Iterator[Slice]:
    """A unit's intervals as one slice per instruction, and one per wait between instructions.

    Stalls between two runs of the same instruction, and the SRAM-port slowdown right after
    one, belong to that instruction; the other stalls are waits before the next one.
    """
    current: list[Any] | None = None  # [start, end, index, busy, stalls inside]
    waiting: list[tuple[float, float, str]] = []
    for start, end, what in events:
        if isinstance(what, str):
            if what == "sram_port" and current is not None and not waiting and start == current[1]:
                current[1] = end
                current[4][what] = current[4].get(what, 0.0) + end - start
            else:
                waiting.append((start, end, what))
            continue
        if current is not None and current[2] == what:
            for s, e, reason in waiting:
                current[4][reason] = current[4].get(reason, 0.0) + e - s
            waiting = []
            current[1] = end
            current[3] += end - start
            continue
        if current is not None:
            yield current[0], current[1], current[2], current[3], current[4]
        for s, e, reason in waiting:
            yield s, e, reason, 0.0, {}
        waiting = []
        current = [start, end, what, end - start, {}]
    if current is not None:
        yield current[0], current[1], current[2], current[3], current[4]
    for s, e, reason in waiting:
        yield s, e, reason, 0.0, {}
