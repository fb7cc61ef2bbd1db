"""What a cycle simulation returns: total time, where each unit's time went, and the roofline."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from fabless.cyclesim.hardware import Hardware
from fabless.cyclesim.tracks import STALL_REASONS, Track
from fabless.errors import FablessError
from fabless.isa import Instruction, Program


@dataclass(frozen=True)
class UnitTime:
    """One hardware unit's cycles: busy + sum of stalls + idle = the program's cycles.

    Units are the DMA queues, the VPU, and per MXU its array (`mxu0`: matmul streams and
    accumulator stores) and its weight loader (`mxu0.ldw`).
    """

    name: str
    core: int
    unit: str
    busy_cycles: float
    stall_cycles: Mapping[str, float]
    idle_cycles: float

    @property
    def stalled_cycles(self) -> float:
        return sum(self.stall_cycles.values())


@dataclass(frozen=True)
class TrackEvents:
    """A unit's intervals in cycles: (start, end, instruction index or stall reason)."""

    name: str
    core: int
    stream: str
    events: tuple[tuple[float, float, int | str], ...]


@dataclass(frozen=True)
class Timeline:
    tracks: tuple[TrackEvents, ...]
    code: Mapping[str, tuple[Instruction, ...]]


@dataclass(frozen=True)
class CycleReport:
    """A program's time on a chip from the cycle simulator."""

    chip: str
    clock_hz: float
    cycles: float
    instructions: int
    """Instructions executed (those after a `halt` never run)."""
    units: tuple[UnitTime, ...]
    matrix_flops: float
    vector_ops: float
    hbm_bytes: float
    peak_flops_per_s: float
    """Peak of the matrix units at the dtypes the program used (mixed dtypes weighted by work)."""
    peak_hbm_bytes_per_s: float
    timeline: Timeline | None = field(default=None, repr=False, compare=False)

    @property
    def time_s(self) -> float:
        return self.cycles / self.clock_hz

    @property
    def flops_per_s(self) -> float:
        return self.matrix_flops / self.time_s if self.cycles else 0.0

    @property
    def hbm_bytes_per_s(self) -> float:
        return self.hbm_bytes / self.time_s if self.cycles else 0.0

    @property
    def mxu_utilization(self) -> float:
        return self.flops_per_s / self.peak_flops_per_s if self.peak_flops_per_s else 0.0

    @property
    def hbm_utilization(self) -> float:
        return self.hbm_bytes_per_s / self.peak_hbm_bytes_per_s

    @property
    def roofline_time_s(self) -> float:
        """The least time the work could take: all MXUs at peak or HBM at peak, whichever is longer."""
        compute = self.matrix_flops / self.peak_flops_per_s if self.peak_flops_per_s else 0.0
        return max(compute, self.hbm_bytes / self.peak_hbm_bytes_per_s)

    @property
    def roofline_fraction(self) -> float:
        """Roofline time over simulated time: 1.0 is a program that loses nothing."""
        return self.roofline_time_s / self.time_s if self.cycles else 0.0

    @property
    def bound(self) -> str:
        compute = self.matrix_flops / self.peak_flops_per_s if self.peak_flops_per_s else 0.0
        return "compute" if compute >= self.hbm_bytes / self.peak_hbm_bytes_per_s else "memory"

    def stall_totals(self) -> dict[str, float]:
        """Stall cycles of every unit added up, per reason."""
        return {reason: sum(u.stall_cycles[reason] for u in self.units) for reason in STALL_REASONS}


def run_in_sequence(reports: list[CycleReport]) -> CycleReport:
    """Programs run one after another on the same chip (a prefill, then decode steps) as one report.

    Each program starts when the one before has finished; the timelines are laid end to end.
    """
    if not reports:
        raise FablessError("no programs to put in sequence")
    first = reports[0]
    if any(r.chip != first.chip for r in reports):
        raise FablessError("programs in one sequence must run on the same chip")
    offsets = [sum(r.cycles for r in reports[:i]) for i in range(len(reports))]
    cycles = sum(r.cycles for r in reports)
    busy: dict[str, float] = {}
    stalls: dict[str, dict[str, float]] = {}
    where: dict[str, tuple[int, str]] = {}
    for report in reports:
        for unit in report.units:
            where[unit.name] = (unit.core, unit.unit)
            busy[unit.name] = busy.get(unit.name, 0.0) + unit.busy_cycles
            totals = stalls.setdefault(unit.name, dict.fromkeys(STALL_REASONS, 0.0))
            for reason in STALL_REASONS:
                totals[reason] += unit.stall_cycles[reason]
    # A unit is idle whenever it is neither busy nor stalled, in whichever program.
    units = tuple(
        UnitTime(name, core, kind, busy[name], stalls[name], max(0.0, cycles - busy[name] - sum(stalls[name].values())))
        for name, (core, kind) in where.items()
    )
    flops = sum(r.matrix_flops for r in reports)
    ideal_s = sum(r.matrix_flops / r.peak_flops_per_s for r in reports if r.peak_flops_per_s)
    return CycleReport(
        chip=first.chip,
        clock_hz=first.clock_hz,
        cycles=cycles,
        instructions=sum(r.instructions for r in reports),
        units=units,
        matrix_flops=flops,
        vector_ops=sum(r.vector_ops for r in reports),
        hbm_bytes=sum(r.hbm_bytes for r in reports),
        peak_flops_per_s=flops / ideal_s if ideal_s else 0.0,
        peak_hbm_bytes_per_s=first.peak_hbm_bytes_per_s,
        timeline=_timelines_in_sequence(reports, offsets),
    )


def _timelines_in_sequence(reports: list[CycleReport], offsets: list[float]) -> Timeline | None:
    if any(r.timeline is None for r in reports):
        return None
    tracks = []
    code: dict[str, tuple[Instruction, ...]] = {}
    for step, (report, offset) in enumerate(zip(reports, offsets, strict=True)):
        assert report.timeline is not None
        for track in report.timeline.tracks:
            # Each program's streams keep their own code: name them apart by the program's place.
            stream = f"{step}:{track.stream}"
            code[stream] = report.timeline.code[track.stream]
            events = tuple((start + offset, end + offset, what) for start, end, what in track.events)
            tracks.append(TrackEvents(track.name, track.core, stream, events))
    return Timeline(tracks=tuple(tracks), code=code)


def build_report(
    hw: Hardware,
    program: Program,
    executed: int,
    tracks: list[Track],
    totals: dict[str, float],
    end: float,
    record: bool,
) -> CycleReport:
    units = tuple(
        UnitTime(
            name=t.name,
            core=t.core,
            unit=t.unit,
            busy_cycles=t.busy,
            stall_cycles=dict(t.stalls),
            idle_cycles=max(0.0, end - t.busy - sum(t.stalls.values())),
        )
        for t in tracks
    )
    timeline = None
    if record:
        timeline = Timeline(
            tracks=tuple(TrackEvents(t.name, t.core, t.stream, tuple(t.events or ())) for t in tracks),
            code=program.streams,
        )
    ideal_cycles = totals["matrix_ideal_cycles"] / (hw.mxus_per_core * hw.cores)
    peak_flops = totals["matrix_flops"] / ideal_cycles * hw.clock_hz if ideal_cycles else 0.0
    return CycleReport(
        chip=hw.name,
        clock_hz=hw.clock_hz,
        cycles=end,
        instructions=executed,
        units=units,
        matrix_flops=totals["matrix_flops"],
        vector_ops=totals["vector_ops"],
        hbm_bytes=totals["hbm_bytes"],
        peak_flops_per_s=peak_flops,
        peak_hbm_bytes_per_s=hw.hbm_bytes_per_cycle * hw.clock_hz,
        timeline=timeline,
    )
