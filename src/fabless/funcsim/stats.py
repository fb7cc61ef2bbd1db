"""What a run did: instructions per stream and engine, HBM bytes, MXU multiply-adds."""

from collections import Counter
from dataclasses import dataclass, field

from fabless.isa.fields import Instruction
from fabless.isa.instructions import (
    DmaGather,
    DmaLoad,
    DmaScatter,
    DmaStore,
    MxuGemm,
    MxuLoadWeights,
    MxuMatmul,
)
from fabless.isa.program import parse_stream


@dataclass(frozen=True)
class RunStats:
    """Counts of one or more runs; adds like the performance model's Cost."""

    instructions: dict[str, int] = field(default_factory=dict)
    """Executed instructions per stream name."""
    hbm_read_bytes: int = 0
    hbm_written_bytes: int = 0
    macs: int = 0
    """MXU multiply-accumulates: m * k * n of every matmul."""

    @property
    def by_engine(self) -> dict[str, int]:
        """Executed instructions per engine kind: dma, mxu, vpu."""
        totals: Counter[str] = Counter()
        for name, count in self.instructions.items():
            totals[parse_stream(name).engine] += count
        return dict(totals)

    @property
    def total_instructions(self) -> int:
        return sum(self.instructions.values())

    def __add__(self, other: "RunStats") -> "RunStats":
        return RunStats(
            dict(Counter(self.instructions) + Counter(other.instructions)),
            self.hbm_read_bytes + other.hbm_read_bytes,
            self.hbm_written_bytes + other.hbm_written_bytes,
            self.macs + other.macs,
        )


def stream_stats(name: str, code: tuple[Instruction, ...]) -> RunStats:
    """The counts of running `code` (up to its first halt) to the end."""
    read = written = macs = 0
    loaded_n = 0
    for instr in code:
        if isinstance(instr, DmaLoad):
            read += instr.rows * instr.row_bytes
        elif isinstance(instr, DmaStore):
            written += instr.rows * instr.row_bytes
        elif isinstance(instr, DmaGather):
            read += instr.count * instr.row_bytes
        elif isinstance(instr, DmaScatter):
            written += instr.count * instr.row_bytes
        elif isinstance(instr, MxuLoadWeights):
            loaded_n = instr.n
        elif isinstance(instr, MxuMatmul):
            macs += instr.m * instr.k * loaded_n
        elif isinstance(instr, MxuGemm):
            loaded_n = instr.n
            macs += instr.m * instr.k * instr.n
    return RunStats({name: len(code)}, read, written, macs)
