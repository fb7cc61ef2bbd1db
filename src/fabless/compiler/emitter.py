"""Instruction emission with synchronisation derived from the memory each instruction touches.

The compiler emits instructions in one sequential order, saying which byte ranges each
reads and writes. Whenever an instruction depends on one in another stream (read after
write, write after read, write after write), the emitter makes the producer signal and
the consumer wait. Each (producer stream, consumer stream) pair shares one counting
semaphore: the producer signals after every instruction that the consumer needs, and the
consumer waits for as many signals as have been placed up to that instruction. Every
dependency points backwards in the emission order, which is itself a valid schedule, so
the result cannot deadlock; independent streams run ahead of each other freely, which
is what makes double buffering overlap.
"""

from dataclasses import dataclass, field

from fabless.isa import Instruction, Program, SemSignal, SemWait

Span = tuple[str, int, int] | tuple[str, int, int, int, int]
"""(space, first byte, end byte): space is "sram" or "hbm"; or (space, first, end,
row_bytes, stride) for rows of `row_bytes` every `stride` bytes between them (see `strided`)."""


def strided(space: str, start: int, rows: int, row_bytes: int, stride: int) -> Span:
    """The span of `rows` rows of `row_bytes`, `stride` apart: column windows of one matrix
    written by different streams then overlap only as ranges, and wait on nothing."""
    end = start + (rows - 1) * stride + row_bytes
    if rows == 1 or stride == row_bytes:
        return (space, start, end)
    return (space, start, end, row_bytes, stride)


@dataclass
class _Access:
    stream: str
    position: int
    start: int
    end: int
    write: bool
    row_bytes: int
    stride: int
    """0 for a dense range."""

    def apart(self, start: int, end: int, row_bytes: int, stride: int) -> bool:
        """Whether bytes [start, end) taken `row_bytes` every `stride` (all of them if
        stride is 0) miss this access's bytes, where the two ranges overlap: the rows of one
        must fall in the gaps between the other's, row after row."""
        if stride and self.stride:
            return stride == self.stride and _in_gap(self.start, self.row_bytes, stride, start, row_bytes)
        if self.stride:
            return _in_gap(self.start, self.row_bytes, self.stride, start, end - start)
        if stride:
            return _in_gap(start, row_bytes, stride, self.start, self.end - self.start)
        return False


def _in_gap(rows_start: int, row_bytes: int, stride: int, start: int, size: int) -> bool:
    """Whether `size` bytes from `start` (repeated every `stride`, or once) lie between rows
    of `row_bytes` every `stride` from `rows_start`."""
    offset = (start - rows_start) % stride
    return row_bytes <= offset and offset + size <= stride


@dataclass
class _Wait:
    channel: tuple[str, str]
    producer_position: int


@dataclass
class _Stream:
    code: list[Instruction | _Wait] = field(default_factory=list)


class Emitter:
    """Collects instructions per stream; `build` inserts the semaphores."""

    def __init__(self) -> None:
        self._streams: dict[str, _Stream] = {}
        # Accesses filed under every page they touch, so a lookup scans only its neighbours.
        self._pages: dict[tuple[str, int], list[_Access]] = {}
        self._signals: dict[tuple[str, str], set[int]] = {}
        self._waited: dict[tuple[str, str], int] = {}

    def emit(
        self,
        stream: str,
        instruction: Instruction,
        reads: tuple[Span, ...] = (),
        writes: tuple[Span, ...] = (),
    ) -> None:
        """Append `instruction` to `stream` after whatever it must wait for."""
        target = self._streams.setdefault(stream, _Stream())
        position = len(target.code)
        needs: dict[str, int] = {}
        for spans, write in ((reads, False), (writes, True)):
            for span in spans:
                space, start, end, row_bytes, stride = _pattern(span)
                for page in _pages(start, end):
                    for access in self._pages.get((space, page), ()):
                        if access.stream == stream or access.end <= start or end <= access.start:
                            continue
                        if access.apart(start, end, row_bytes, stride):
                            continue
                        if write or access.write:
                            needs[access.stream] = max(needs.get(access.stream, -1), access.position)
        for producer, producer_position in needs.items():
            channel = (producer, stream)
            if self._waited.get(channel, -1) >= producer_position:
                continue
            self._waited[channel] = producer_position
            self._signals.setdefault(channel, set()).add(producer_position)
            target.code.append(_Wait(channel, producer_position))
        position = len(target.code)
        target.code.append(instruction)
        for spans, write in ((reads, False), (writes, True)):
            for span in spans:
                space, start, end, row_bytes, stride = _pattern(span)
                self._record(_Access(stream, position, start, end, write, row_bytes, stride), space)

    def _record(self, access: _Access, space: str) -> None:
        for page in _pages(access.start, access.end):
            accesses = self._pages.setdefault((space, page), [])
            if access.write and not access.stride:
                # A dense write supersedes the earlier accesses it covers: whatever later
                # depends on them also depends on this write, which comes after them.
                accesses[:] = [a for a in accesses if not (access.start <= a.start and a.end <= access.end)]
            accesses.append(access)

    def build(self) -> Program:
        channels = sorted(self._signals)
        numbers = {channel: index for index, channel in enumerate(channels)}
        positions = {channel: sorted(self._signals[channel]) for channel in channels}
        streams: dict[str, tuple[Instruction, ...]] = {}
        for name, stream in self._streams.items():
            signals_after: dict[int, list[int]] = {}
            for channel in channels:
                if channel[0] == name:
                    for position in positions[channel]:
                        signals_after.setdefault(position, []).append(numbers[channel])
            consumed: dict[tuple[str, str], int] = {}
            code: list[Instruction] = []
            for position, item in enumerate(stream.code):
                if isinstance(item, _Wait):
                    rank = _rank(positions[item.channel], item.producer_position)
                    count = rank - consumed.get(item.channel, 0)
                    if count > 0:
                        consumed[item.channel] = rank
                        code.append(SemWait(sem=numbers[item.channel], count=count))
                    continue
                code.append(item)
                for sem in signals_after.get(position, ()):
                    code.append(SemSignal(sem=sem))
            streams[name] = tuple(code)
        return Program(streams, len(channels))


_PAGE_BITS = 16


def _pattern(span: Span) -> tuple[str, int, int, int, int]:
    """(space, start, end, row_bytes, stride), stride 0 for a dense range."""
    if len(span) == 5:
        return span  # type: ignore[return-value]
    space, start, end = span[:3]
    return space, start, end, end - start, 0


def _pages(start: int, end: int) -> range:
    return range(start >> _PAGE_BITS, ((end - 1) >> _PAGE_BITS) + 1)


def _rank(sorted_positions: list[int], position: int) -> int:
    """How many signal positions are at or before `position`."""
    low, high = 0, len(sorted_positions)
    while low < high:
        mid = (low + high) // 2
        if sorted_positions[mid] <= position:
            low = mid + 1
        else:
            high = mid
    return low
