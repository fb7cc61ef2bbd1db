"""A program: named instruction streams, one per engine, plus a semaphore count.

Stream names are `[c<core>.]<engine>`, engine one of `dma<i>`, `mxu<i>`, `vpu`; no core
prefix means core 0. Each stream runs in order on its engine; streams meet only through
semaphores (chip-wide, numbered 0 .. semaphores-1) and memory.
"""

import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from fabless.checks import shown
from fabless.errors import FablessError
from fabless.isa.fields import Instruction
from fabless.isa.instructions import LinkSend, SemSignal, SemWait

_STREAM = re.compile(r"(?:c(?P<core>\d+)\.)?(?:(?P<engine>dma|mxu)(?P<index>\d+)|(?P<vpu>vpu))", re.ASCII)
MAX_CORE = 65_535
"""Past the cores of any chip description; a stream name is text, so nothing else bounds it."""
MAX_UNIT = 255
MAX_SEMAPHORES = 1 << 16


@dataclass(frozen=True)
class StreamId:
    """Where a stream runs: core index, engine kind (`dma`, `mxu`, `vpu`) and unit index."""

    core: int
    engine: str
    index: int

    @property
    def name(self) -> str:
        unit = "vpu" if self.engine == "vpu" else f"{self.engine}{self.index}"
        return unit if self.core == 0 else f"c{self.core}.{unit}"


def parse_stream(name: str) -> StreamId:
    """The core and engine a stream name denotes, e.g. `c1.mxu2` -> core 1, MXU 2."""
    match = _STREAM.fullmatch(name) if isinstance(name, str) and len(name) <= 32 else None
    if match is None:
        raise FablessError(f"stream name {shown(name)} is not [c<core>.]dma<i>, [c<core>.]mxu<i> or [c<core>.]vpu")
    core = int(match["core"] or 0)
    index = int(match["index"] or 0)
    if core > MAX_CORE or index > MAX_UNIT:
        raise FablessError(f"stream name {shown(name)}: cores go up to c{MAX_CORE} and units up to {MAX_UNIT}")
    return StreamId(core, "vpu" if match["vpu"] else match["engine"], index)


@dataclass(frozen=True, eq=False)
class Program:
    """Named instruction streams and the number of semaphores they use (all start at 0)."""

    streams: Mapping[str, tuple[Instruction, ...]]
    semaphores: int = 0

    def __post_init__(self) -> None:
        # frozen all the way down: simulators cache what they prepared by program identity
        frozen = {name: tuple(code) for name, code in self.streams.items()}
        object.__setattr__(self, "streams", MappingProxyType(frozen))
        try:
            count = operator.index(self.semaphores)
        except TypeError:
            count = -1
        if not 0 <= count <= MAX_SEMAPHORES:
            raise FablessError(f"semaphores={self.semaphores!r} must be a whole number from 0 to {MAX_SEMAPHORES}")
        object.__setattr__(self, "semaphores", count)
        engines: dict[StreamId, str] = {}
        for name, code in self.streams.items():
            stream = parse_stream(name)
            if stream in engines:
                raise FablessError(f"streams {engines[stream]} and {name} both run on {stream.name}: merge them")
            engines[stream] = name
            engine = stream.engine
            for index, instr in enumerate(code):
                if not isinstance(instr, Instruction):
                    raise FablessError(f"{name}[{index}] is {type(instr).__name__}, not an instruction")
                if instr.ENGINE not in ("any", engine):
                    raise FablessError(
                        f"{name}[{index}] {instr.MNEMONIC} runs on a {instr.ENGINE} engine, "
                        f"not on {engine}: move it to a {instr.ENGINE} stream"
                    )
                if isinstance(instr, SemSignal | SemWait) and instr.sem >= self.semaphores:
                    raise FablessError(
                        f"{name}[{index}] {instr.MNEMONIC} uses semaphore {instr.sem} but the "
                        f"program declares {self.semaphores}: raise the semaphore count"
                    )
                if isinstance(instr, LinkSend) and instr.remote_sem >= self.semaphores:
                    raise FablessError(
                        f"{name}[{index}] link.send signals semaphore {instr.remote_sem} but "
                        f"the program declares {self.semaphores}: raise the semaphore count"
                    )

    @property
    def instruction_count(self) -> int:
        return sum(len(code) for code in self.streams.values())

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}: {len(code)}" for name, code in self.streams.items())
        return f"Program(semaphores={self.semaphores}, streams={{{sizes}}})"


class ProgramBuilder:
    """Collects instructions per stream and hands out semaphore numbers."""

    def __init__(self) -> None:
        self._streams: dict[str, list[Instruction]] = {}
        self._semaphores = 0

    def semaphore(self) -> int:
        """A fresh semaphore number."""
        self._semaphores += 1
        return self._semaphores - 1

    def emit(self, stream: str, *instructions: Instruction) -> None:
        self._streams.setdefault(stream, []).extend(instructions)

    def extend(self, stream: str, instructions: Iterable[Instruction]) -> None:
        self._streams.setdefault(stream, []).extend(instructions)

    def build(self) -> Program:
        return Program({name: tuple(code) for name, code in self._streams.items()}, self._semaphores)
