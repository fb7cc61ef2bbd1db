"""The event loop: streams issue in order, block on semaphores, and meet in shared bandwidth.

Time advances from event to event, never cycle by cycle: an instruction's start and end
are computed from when its unit, its operands and the bandwidth it needs are free. Events
are processed in time order (a semaphore signal before a stream that looks at it at the
same time), so HBM and SRAM-port bandwidth go to requests in the order they are made.
"""

import gc
import heapq
from collections import defaultdict

from fabless.chip.spec import ChipSpec
from fabless.cyclesim.bandwidth import HbmChannel, SramPort
from fabless.cyclesim.hardware import Hardware
from fabless.cyclesim.lower import DMA, HALT, SIGNAL, VECTOR, WAIT, Step, lower
from fabless.cyclesim.report import CycleReport, build_report
from fabless.cyclesim.tracks import Track, binding
from fabless.cyclesim.units import DmaUnit, MxuUnit, VpuUnit
from fabless.errors import FablessError
from fabless.funcsim.errors import DeadlockError
from fabless.funcsim.simulator import DMA_QUEUES_PER_CORE
from fabless.isa import Program, format_instruction, parse_stream

_SIGNAL, _STREAM = 0, 1


class _Stream:
    __slots__ = ("name", "code", "unit", "pc", "step", "issue_reason", "issue_at", "fence", "pending", "blocked")

    def __init__(self, name: str, code: tuple, unit: DmaUnit | MxuUnit | VpuUnit) -> None:
        self.name = name
        self.code = code
        self.unit = unit
        self.pc = 0
        self.step: Step | None = None
        self.issue_reason = "in_order"
        self.issue_at = 0.0
        self.fence = 0.0  # when every instruction issued so far has completed
        self.pending: list[tuple[str, float]] | None = None
        self.blocked = False


def simulate(
    chip: ChipSpec, program: Program, *, weight_buffers: int | None = None, record: bool = True
) -> CycleReport:
    """Time `program` on `chip`: cycles, per-unit busy and stall time, and (with `record`)
    the timeline that `fabless.cyclesim.write_trace` turns into a Perfetto trace.

    `weight_buffers` defaults to the chip's `core.matrix.weight_buffers`: 1 tile per MXU, or 2
    so the next tile loads behind the current stream; pass it to price the other design.
    Raises FablessError on a deadlock, naming every waiting instruction.
    """
    if weight_buffers is None:
        weight_buffers = chip.core.matrix.weight_buffers or 1
    if weight_buffers not in (1, 2):
        raise FablessError(f"weight_buffers must be 1 (one tile) or 2 (a shadow tile), not {weight_buffers}")
    hw = Hardware.from_chip(chip)
    machine = _Machine(hw, program, weight_buffers, record)
    # The run allocates millions of short-lived tuples and no cycles; the collector's passes
    # over them would cost more than the simulation.
    collecting = gc.isenabled()
    gc.disable()
    try:
        machine.run()
    finally:
        if collecting:
            gc.enable()
    executed = program.instruction_count - machine.skipped
    return build_report(hw, program, executed, machine.tracks, machine.totals, machine.end, record)


class _Machine:
    def __init__(self, hw: Hardware, program: Program, weight_buffers: int, record: bool) -> None:
        self.hw = hw
        hbm = HbmChannel(hw.hbm_bytes_per_cycle, hw.hbm_latency_cycles)
        ports = [SramPort(hw.sram_bytes_per_cycle) for _ in range(hw.cores)]
        self.tracks: list[Track] = []
        self.streams: list[_Stream] = []
        for name, code in program.streams.items():
            where = parse_stream(name)
            _check_unit(hw, name, where.core, where.engine, where.index)
            port = ports[where.core]
            unit: DmaUnit | MxuUnit | VpuUnit
            if where.engine == "dma":
                unit = DmaUnit(self._track(name, where.core, "dma", name, record), hbm, port, hw)
            elif where.engine == "mxu":
                array = self._track(name, where.core, "mxu", name, record)
                loader = self._track(f"{name}.ldw", where.core, "mxu.ldw", name, record)
                unit = MxuUnit(array, loader, port, hw, weight_buffers)
            else:
                unit = VpuUnit(self._track(name, where.core, "vpu", name, record), port)
            self.streams.append(_Stream(name, code, unit))
        self.semaphores = [0] * program.semaphores
        self.waiters: defaultdict[int, list[int]] = defaultdict(list)
        self.heap: list[tuple[float, int, int, int, int]] = []
        self.seq = 0
        self.end = 0.0
        self.now = 0.0
        self.skipped = 0
        self.totals = {"matrix_flops": 0.0, "matrix_ideal_cycles": 0.0, "vector_ops": 0.0, "hbm_bytes": 0.0}

    def _track(self, name: str, core: int, unit: str, stream: str, record: bool) -> Track:
        track = Track(name, core, unit, stream, record)
        self.tracks.append(track)
        return track

    def _push(self, time: float, kind: int, a: int, b: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (time, kind, self.seq, a, b))

    def run(self) -> None:
        for index in range(len(self.streams)):
            self._push(0.0, _STREAM, index)
        heap, semaphores, waiters = self.heap, self.semaphores, self.waiters
        while heap:
            time, kind, _, a, b = heapq.heappop(heap)
            self.now = time
            if kind == _SIGNAL:
                semaphores[a] += b
                self.end = max(self.end, time)
                for index in waiters.pop(a, ()):
                    self._push(time, _STREAM, index)
            else:
                self._advance(self.streams[a], a, time)
        stuck = [s for s in self.streams if s.pc < len(s.code)]
        if stuck:
            raise DeadlockError(self._deadlock(stuck))
        for stream in self.streams:
            self.end = max(self.end, stream.fence)
        for track in self.tracks:
            self.end = max(self.end, track.free_at)

    def _advance(self, stream: _Stream, index: int, now: float) -> None:
        """Issue `stream`'s instructions at `now` until one must wait for a later time."""
        code, hw, totals = stream.code, self.hw, self.totals
        while stream.pc < len(code):
            step = stream.step
            if step is None:
                step = stream.step = lower(hw, stream.name, stream.pc, code[stream.pc])
            kind = step.kind
            if kind == WAIT:
                if self.semaphores[step.sem] < step.count:
                    stream.blocked = True
                    self.waiters[step.sem].append(index)
                    return
                self.semaphores[step.sem] -= step.count
                if stream.blocked:
                    stream.blocked = False
                    stream.issue_reason, stream.issue_at = "semaphore", now
            elif kind == SIGNAL:
                self._push(max(now, stream.fence), _SIGNAL, step.sem, step.count)
            elif kind == HALT:
                # What follows a halt never runs: it is not counted as executed.
                self.skipped += len(code) - stream.pc - 1
                stream.pc = len(code)
                return
            else:
                waits = stream.pending
                if waits is None:
                    waits = [(stream.issue_reason, stream.issue_at)]
                    stream.unit.ready(step, waits)
                    ready = max(t for _, t in waits)
                    if ready > now:
                        stream.pending = waits
                        self._push(ready, _STREAM, index)
                        return
                stream.pending = None
                issue_at, done = stream.unit.run(step, stream.pc, now, waits)
                stream.issue_reason = binding(waits)[0]
                stream.issue_at = issue_at
                if done > stream.fence:
                    stream.fence = done
                if kind == DMA:
                    totals["hbm_bytes"] += step.nbytes
                elif kind == VECTOR:
                    totals["vector_ops"] += step.vector_ops
                elif step.flops:
                    totals["matrix_flops"] += step.flops
                    totals["matrix_ideal_cycles"] += step.flops / (2.0 * hw.mxu_rows * hw.mxu_cols * step.rate)
                stream.pc += 1
                stream.step = None
                if issue_at > now:
                    self._push(issue_at, _STREAM, index)
                    return
                continue
            stream.pc += 1
            stream.step = None

    def _deadlock(self, stuck: list[_Stream]) -> str:
        at = self.now
        parts = []
        for stream in stuck:
            instr = stream.code[stream.pc]
            value = self.semaphores[instr.sem] if hasattr(instr, "sem") else 0
            parts.append(f"{stream.name}[{stream.pc}] `{format_instruction(instr)}` (semaphore is {value})")
        return (
            f"deadlock after cycle {at:.0f}: every unfinished stream waits on a semaphore nothing will "
            f"signal: {'; '.join(parts)}; add the missing sem.signal or remove the wait"
        )


def _check_unit(hw: Hardware, name: str, core: int, engine: str, index: int) -> None:
    if core >= hw.cores:
        raise FablessError(
            f"stream {name} runs on core {core}, but chip {hw.name} has {hw.cores} cores (0..{hw.cores - 1})"
        )
    if engine == "dma" and index >= DMA_QUEUES_PER_CORE:
        queues = DMA_QUEUES_PER_CORE
        raise FablessError(f"stream {name}: a core has {queues} DMA queues (dma0..dma{queues - 1})")
    if engine == "mxu" and index >= hw.mxus_per_core:
        raise FablessError(
            f"stream {name} uses MXU {index}, but chip {hw.name} has {hw.mxus_per_core} per core "
            f"(0..{hw.mxus_per_core - 1})"
        )
