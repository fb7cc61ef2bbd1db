"""The golden functional simulator: runs a Program on one chip with exact numerics.

Streams run round-robin, each until it ends or waits on a semaphore; every instruction is
prepared once per program (operands resolved to numpy views, static bounds checked) and
then costs one call per execution. Prepared programs are cached while the Program lives,
so a decode loop that reruns one Program pays preparation once. Semaphores start at 0 on
every run and no instruction branches, so the order in which the streams interleave is the
same on every run of a program: the first run records it and later runs replay it without
the semaphores (a deadlock or a bad operand shows on the first).
"""

import gc
import weakref
from bisect import bisect_left
from dataclasses import dataclass
from functools import reduce

import numpy as np

from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError
from fabless.funcsim import dma, mxu, vpu
from fabless.funcsim.blas import single_threaded_blas
from fabless.funcsim.errors import DeadlockError, ProgramError
from fabless.funcsim.memory import Memory
from fabless.funcsim.provenance import Provenance
from fabless.funcsim.stats import RunStats, stream_stats
from fabless.funcsim.unit import MxuState, Prepare, Step, Unit
from fabless.isa.asm import format_instruction
from fabless.isa.dtypes import Dtype
from fabless.isa.fields import Instruction
from fabless.isa.instructions import DmaLoad, Halt, SemSignal, SemWait
from fabless.isa.program import Program, StreamId, parse_stream

DMA_QUEUES_PER_CORE = 4
_PREPARE: dict[type, Prepare] = {**dma.PREPARE, **mxu.PREPARE, **vpu.PREPARE}
_CALL, _WAIT, _SIGNAL = 0, 1, 2


@dataclass
class _Stream:
    name: str
    code: tuple[Instruction, ...]
    steps: list[tuple[int, Step | int, int]]

    def error_at(self, pc: int, error: ProgramError) -> ProgramError:
        """`error`, raised by the instruction at `pc`, named by stream, position and instruction."""
        return ProgramError(f"{self.name}[{pc}] {format_instruction(self.code[pc])}: {error}")


@dataclass
class _Prepared:
    streams: list[_Stream]
    stats: RunStats
    trace: list[tuple[Step, int, int]] | None = None
    """The calls of the first complete run, in order, each with its stream and pc."""


class FunctionalSimulator:
    """One chip's memories and MXU state; `run` executes programs against them.

    Memory and loaded weights persist from one run to the next; semaphores start at 0.
    The host writes memory only through `write_hbm` / `write_sram`, which keep the record
    of what changed that lets prepared weight tiles be reused.
    """

    def __init__(self, chip: ChipSpec, hbm_bytes: int | None = None) -> None:
        if chip.family != "systolic":
            raise FablessError(f"{chip.name} is a {chip.family} chip: the ISA targets systolic chips")
        self.chip = chip
        self.memory = Memory(chip, hbm_bytes)
        self._provenance = Provenance(self.memory)
        self.memory.on_sram_write = self._provenance.overwritten
        self._mxus: dict[tuple[int, int], MxuState] = {}
        self._prepared: weakref.WeakKeyDictionary[Program, _Prepared] = weakref.WeakKeyDictionary()

    def run(self, program: Program) -> RunStats:
        """Execute every stream to its end; raises ProgramError naming the failing instruction."""
        # Cyclic GC passes over the thousands of prepared steps cost more than the run
        # itself; nothing here makes reference cycles, so it pauses until the run ends.
        collecting = gc.isenabled()
        gc.disable()
        try:
            prepared = self._prepared.get(program)
            if prepared is None:
                prepared = self._prepare(program)
                self._prepared[program] = prepared
            self._provenance.forget_copies()
            with np.errstate(all="ignore"), single_threaded_blas():
                if prepared.trace is None:
                    prepared.trace = _execute(prepared.streams, [0] * program.semaphores)
                else:
                    _replay(prepared.streams, prepared.trace)
        finally:
            if collecting:
                gc.enable()
        return prepared.stats

    def write_hbm(self, addr: int, data: np.ndarray) -> None:
        """Host write: the array's bytes (C order) into HBM at `addr`."""
        raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
        span = _span(self.memory.hbm, "HBM", addr, raw.size)
        self.memory.deferred.before_hbm_write(addr, addr + raw.size)
        span[...] = raw
        self.memory.mark_hbm_written(addr, addr + raw.size)

    def read_hbm(self, addr: int, shape: tuple[int, ...], dtype: Dtype | np.dtype | type) -> np.ndarray:
        return _read(self.memory.hbm, "HBM", addr, shape, dtype)

    def write_sram(self, core: int, addr: int, data: np.ndarray) -> None:
        raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
        span = _span(self.memory.sram(core), f"core {core} SRAM", addr, raw.size)
        self.memory.deferred.settle(core, ((addr, addr + raw.size),))
        span[...] = raw
        self.memory.marker(core, addr, addr + raw.size)()

    def read_sram(self, core: int, addr: int, shape: tuple[int, ...], dtype: Dtype | np.dtype | type) -> np.ndarray:
        kind = dtype.numpy if isinstance(dtype, Dtype) else np.dtype(dtype)
        size = int(np.prod(shape, dtype=np.int64)) * kind.itemsize
        self.memory.deferred.settle(core, ((addr, addr + size),))
        return _read(self.memory.sram(core), f"core {core} SRAM", addr, shape, dtype)

    def read_accumulator(self, core: int, unit: int, row: int, rows: int, dtype: Dtype) -> np.ndarray:
        """Accumulator rows [row, row+rows) of MXU `unit` as fp32 or int32 words."""
        state = self._mxu(core, unit)
        words = state.as_fp32 if dtype is Dtype.FP32 else state.as_int32
        if row + rows > words.shape[0]:
            raise FablessError(f"accumulator rows [{row}, {row + rows}) exceed its {words.shape[0]} rows")
        return words[row : row + rows].copy()

    def _mxu(self, core: int, unit: int) -> MxuState:
        key = (core, unit)
        if key not in self._mxus:
            self._mxus[key] = MxuState(self.memory.accumulator(core, unit))
        return self._mxus[key]

    def _unit(self, stream: StreamId) -> Unit:
        chip, name = self.chip, stream.name
        if stream.core >= chip.cores:
            raise ProgramError(f"stream {name}: {chip.name} has {chip.cores} cores (0..{chip.cores - 1})")
        if stream.engine == "mxu" and stream.index >= chip.core.matrix.count:
            raise ProgramError(f"stream {name}: a {chip.name} core has {chip.core.matrix.count} MXUs")
        if stream.engine == "dma" and stream.index >= DMA_QUEUES_PER_CORE:
            raise ProgramError(f"stream {name}: a core has {DMA_QUEUES_PER_CORE} DMA queues (dma0..dma3)")
        state = self._mxu(stream.core, stream.index) if stream.engine == "mxu" else None
        return Unit(chip, self.memory, stream.core, self._provenance, state)

    def _prepare(self, program: Program) -> _Prepared:
        streams = []
        stats = []
        loaded = _loaded(program)
        for name, code in program.streams.items():
            stream = parse_stream(name)
            unit = self._unit(stream)
            ends = [i for i, instr in enumerate(code) if isinstance(instr, Halt)]
            live = code[: ends[0] + 1] if ends else code
            loads = loaded.get(stream.core, _Loaded([]))
            steps = [_step(unit, name, index, instr, loads) for index, instr in enumerate(live)]
            streams.append(_Stream(name, live, steps))
            stats.append(stream_stats(name, live))
        return _Prepared(streams, reduce(RunStats.__add__, stats, RunStats()))


class _Loaded:
    """The SRAM bytes one core's dma.loads write in a program, merged into disjoint sorted
    ranges: the only places the program's copies lie."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [start for start, _ in merged]
        self.ends = [end for _, end in merged]

    def touches(self, start: int, end: int) -> bool:
        at = bisect_left(self.ends, start + 1)  # the first range ending after `start`
        return at < len(self.starts) and self.starts[at] < end


def _loaded(program: Program) -> dict[int, _Loaded]:
    spans: dict[int, list[tuple[int, int]]] = {}
    for name, code in program.streams.items():
        core = parse_stream(name).core
        for instr in code:
            if isinstance(instr, DmaLoad):
                end = instr.sram_addr + (instr.rows - 1) * instr.sram_stride + instr.row_bytes
                spans.setdefault(core, []).append((instr.sram_addr, end))
    return {core: _Loaded(core_spans) for core, core_spans in spans.items()}


def _step(
    unit: Unit, name: str, index: int, instr: Instruction, loaded: _Loaded
) -> tuple[int, Step | int, int]:
    if isinstance(instr, SemWait):
        return _WAIT, instr.sem, instr.count
    if isinstance(instr, SemSignal):
        return _SIGNAL, instr.sem, instr.count
    if isinstance(instr, Halt):
        return _CALL, _nothing, 0
    unit.writes.clear()
    unit.reads.clear()
    try:
        run = _PREPARE[type(instr)](unit, instr)
    except ProgramError as error:
        raise ProgramError(f"{name}[{index}] {format_instruction(instr)}: {error}") from None
    touched = (*unit.reads, *unit.writes)
    if not touched:
        return _CALL, run, 0
    memory, core = unit.memory, unit.core
    pending, settle = memory.deferred.pending(core), memory.deferred.settle
    # pending copies are sorted and disjoint: most steps touch none, and see so at once
    low, high = min(span[0] for span in touched), max(span[1] for span in touched)
    if not unit.writes:

        def run_settled() -> None:
            if pending and low < pending[-1].end and pending[0].start < high:
                settle(core, touched)
            run()

        return _CALL, run_settled, 0
    ((start, end),) = unit.writes
    # copies are forgotten when a run starts, so a write where none of the program's loads
    # land can overwrite none
    mark = memory.marker(core, start, end, loaded.touches(start, end))

    def run_settled_and_mark() -> None:
        if pending and low < pending[-1].end and pending[0].start < high:
            settle(core, touched)
        run()
        mark()

    return _CALL, run_settled_and_mark, 0


def _nothing() -> None:
    """A halt: the stream's steps end here."""


def _execute(streams: list[_Stream], semaphores: list[int]) -> list[tuple[Step, int, int]]:
    """Run the streams round-robin; returns the calls made, in order."""
    trace: list[tuple[Step, int, int]] = []
    record = trace.append
    counters = [0] * len(streams)
    # the semaphore and count each stream last stopped at, so that a visit to a stream still
    # waiting costs one comparison
    stopped_at: list[tuple[int, int]] = [(0, 0)] * len(streams)
    pending = list(range(len(streams)))
    while pending:
        progressed = False
        waiting = []
        for s in pending:
            sem, needed = stopped_at[s]
            if needed and semaphores[sem] < needed:
                waiting.append(s)
                continue
            steps = streams[s].steps
            pc, end = counters[s], len(steps)
            try:
                while pc < end:
                    kind, what, count = steps[pc]
                    if kind == _CALL:
                        what()  # type: ignore[operator]
                        record((what, s, pc))  # type: ignore[arg-type]
                    elif kind == _WAIT:
                        if semaphores[what] < count:  # type: ignore[index]
                            stopped_at[s] = (what, count)  # type: ignore[assignment]
                            break
                        semaphores[what] -= count  # type: ignore[index]
                    else:
                        semaphores[what] += count  # type: ignore[index]
                    pc += 1
            except ProgramError as error:
                raise streams[s].error_at(pc, error) from None
            progressed |= pc != counters[s]
            counters[s] = pc
            if pc < end:
                waiting.append(s)
        if waiting and not progressed:
            blocked = [
                f"{streams[s].name}[{counters[s]}] {format_instruction(streams[s].code[counters[s]])} "
                f"(semaphore holds {semaphores[streams[s].code[counters[s]].sem]})"  # type: ignore[attr-defined]
                for s in waiting
            ]
            raise DeadlockError("deadlock: every unfinished stream waits: " + "; ".join(blocked))
        pending = waiting
    return trace


def _replay(streams: list[_Stream], trace: list[tuple[Step, int, int]]) -> None:
    """Make the calls of a recorded run again, in its order."""
    done = 0
    try:
        for step, _, _ in trace:
            step()
            done += 1
    except ProgramError as error:
        _, s, pc = trace[done]
        raise streams[s].error_at(pc, error) from None


def _span(buffer: np.ndarray, space: str, addr: int, size: int) -> np.ndarray:
    if addr < 0 or addr + size > buffer.size:
        raise FablessError(f"{space} bytes [{addr:#x}, {addr + size:#x}) are outside its {buffer.size:#x} bytes")
    return buffer[addr : addr + size]


def _read(
    buffer: np.ndarray, space: str, addr: int, shape: tuple[int, ...], dtype: Dtype | np.dtype | type
) -> np.ndarray:
    kind = dtype.numpy if isinstance(dtype, Dtype) else np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64)) * kind.itemsize
    return _span(buffer, space, addr, size).view(kind).reshape(shape).copy()
