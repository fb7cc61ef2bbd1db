"""A track: one hardware unit's timeline, every cycle either busy, stalled for a reason, or idle.

Stall reasons name what an instruction waited for between the moment its unit became free
and the moment it started: `semaphore` (a `sem.wait` before it), `hbm` (other DMA queues
held the HBM), `queue_full` (its queue had the maximum transfers in flight), `hazard` (an
in-flight transfer of its own queue touched the same bytes), `weights` (the MXU's weight
tile was still loading), `drain` (the array was still draining the previous results),
`sram_port` (the core's SRAM port had too little bandwidth left: the instruction ran
slower than its own rate), and `in_order` (an earlier instruction of its stream had not
started yet).
"""

STALL_REASONS = ("semaphore", "hbm", "queue_full", "hazard", "weights", "drain", "sram_port", "in_order")


class Track:
    """Busy intervals and stalls of one unit, and optionally the events for a trace."""

    __slots__ = ("name", "core", "unit", "stream", "free_at", "busy", "stalls", "events")

    def __init__(self, name: str, core: int, unit: str, stream: str, record: bool) -> None:
        self.name = name
        self.core = core
        self.unit = unit
        self.stream = stream
        self.free_at = 0.0
        self.busy = 0.0
        self.stalls = dict.fromkeys(STALL_REASONS, 0.0)
        # (start, end, what): `what` is an instruction index (busy) or a stall reason.
        self.events: list[tuple[float, float, int | str]] | None = [] if record else None

    def occupy(self, waits: list[tuple[str, float]], start: float, natural_end: float, end: float, pc: int) -> None:
        """Run instruction `pc` over [start, end); it needed only [start, natural_end) on its own.

        `waits` are (reason, time the reason cleared); the gap since the unit was free is
        charged to each reason in turn, up to the time it cleared.
        """
        cursor = self.free_at
        events = self.events
        for reason, cleared in sorted(waits, key=_second):
            if cleared > cursor:
                self.stalls[reason] += cleared - cursor
                if events is not None:
                    events.append((cursor, cleared, reason))
                cursor = cleared
        self.busy += natural_end - start
        if events is not None:
            events.append((start, natural_end, pc))
        self.free_at = natural_end
        self.slow_to(end)

    def stall(self, reason: str, start: float, end: float) -> None:
        """Charge [start, end) to `reason`; the fast path of `occupy` for one known wait."""
        self.stalls[reason] += end - start
        if self.events is not None:
            self.events.append((start, end, reason))

    def run(self, start: float, end: float, pc: int) -> None:
        """Busy with instruction `pc` over [start, end), right after the last stall or run."""
        self.busy += end - start
        if self.events is not None:
            self.events.append((start, end, pc))
        self.free_at = end

    def slow_to(self, end: float) -> None:
        """The instruction that ran last lasts until `end`: the SRAM port held it back."""
        if end > self.free_at:
            self.stalls["sram_port"] += end - self.free_at
            if self.events is not None:
                self.events.append((self.free_at, end, "sram_port"))
            self.free_at = end


def binding(waits: list[tuple[str, float]]) -> tuple[str, float]:
    """The wait that cleared last: the one that decided when the instruction started."""
    return max(waits, key=_second)


def _second(item: tuple[str, float]) -> float:
    return item[1]
