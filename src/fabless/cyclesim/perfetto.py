"""The timeline as a Chrome / Perfetto trace (JSON Trace Event Format).

One process per core, one thread (track) per unit; every instruction is an "X" (complete)
event of category `busy`, every stall one of category `stall` named for its reason, so
the durations of a track add up to the unit's busy and stall cycles in the report.
Open the file at https://ui.perfetto.dev or chrome://tracing.
"""

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from fabless.cyclesim.report import CycleReport
from fabless.errors import FablessError
from fabless.isa import format_instruction


def trace_events(report: CycleReport) -> dict[str, Any]:
    """The trace as a JSON-ready dict; timestamps and durations in microseconds."""
    if report.timeline is None:
        raise FablessError("this report has no timeline: simulate with record=True to write a trace")
    us_per_cycle = 1e6 / report.clock_hz
    events: list[dict[str, Any]] = []
    for core in sorted({t.core for t in report.timeline.tracks}):
        events.append({"name": "process_name", "ph": "M", "pid": core, "tid": 0, "args": {"name": f"core {core}"}})
    code = report.timeline.code
    tids: dict[str, int] = {}
    for track in report.timeline.tracks:
        tid = tids.get(track.name)
        if tid is None:
            # One thread per unit, even when several programs in sequence used it.
            tid = tids[track.name] = len(tids) + 1
            events.append({"name": "thread_name", "ph": "M", "pid": track.core, "tid": tid,
                           "args": {"name": track.name}})
            events.append({"name": "thread_sort_index", "ph": "M", "pid": track.core, "tid": tid,
                           "args": {"sort_index": tid}})
        stream = code[track.stream]
        for start, end, what in track.events:
            event: dict[str, Any] = {"ph": "X", "pid": track.core, "tid": tid,
                                     "ts": start * us_per_cycle, "dur": (end - start) * us_per_cycle}
            if isinstance(what, str):
                event.update(name=f"stall: {what}", cat="stall", args={"cycles": end - start})
            else:
                instr = stream[what]
                event.update(name=instr.MNEMONIC, cat="busy",
                             args={"index": what, "instruction": format_instruction(instr), "cycles": end - start})
            events.append(event)
    return {
        "traceEvents": events,
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


def write_trace(report: CycleReport, path: str | Path) -> Path:
    """Write the trace to `path` through a temporary file, so a failure leaves no half file."""
    target = Path(path)
    if not target.parent.is_dir():
        raise FablessError(f"cannot write trace {target}: folder {target.parent} does not exist")
    payload = trace_events(report)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(payload, out, separators=(",", ":"))
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target
