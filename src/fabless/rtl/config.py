"""The RTL generator's parameters, taken from a chip description.

The scratchpad is byte-addressed (docs/isa.md) but built from two banks of physical
rows `spad_row_bytes` wide, the smallest power of two that holds an activation row
(`rows` bytes) and a weight row (`cols` bytes): an access of up to one row at any byte
address touches two consecutive physical rows, one in each bank, so every unaligned
row moves in one cycle.
"""

from dataclasses import dataclass

from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError
from fabless.rtl.pe import PeFault

ACC_WORD_BYTES = 4
IMEM_DEPTH = 1024
"""Instruction queue entries: a co-verification or benchmark stream fits; longer programs
are split by the host (the core has no branch instructions)."""


@dataclass(frozen=True)
class RtlConfig:
    """One generated compute core: an MXU of `rows` x `cols` PEs, its accumulator, a scratchpad."""

    rows: int
    cols: int
    spad_bytes: int
    acc_rows: int
    imem_depth: int = IMEM_DEPTH
    fault: PeFault | None = None
    """A deliberately broken PE, for showing that co-verification catches it."""

    def __post_init__(self) -> None:
        if self.rows < 1 or self.cols < 1:
            raise FablessError(f"MXU {self.rows}x{self.cols}: rows and cols must be at least 1")
        if self.acc_rows < 1:
            raise FablessError(
                f"accumulator of {self.acc_rows} rows: raise core.matrix.accumulator_kib to hold "
                f"at least one row of {self.cols} words"
            )
        unit = 2 * self.spad_row_bytes
        if self.spad_bytes < unit or self.spad_bytes % unit:
            raise FablessError(
                f"scratchpad of {self.spad_bytes} bytes: the RTL needs a multiple of {unit} bytes "
                f"(two banks of {self.spad_row_bytes}-byte rows); change core.sram.mib"
            )
        if self.fault and not (0 <= self.fault.row < self.rows and 0 <= self.fault.col < self.cols
                               and 0 <= self.fault.bit < 16):
            raise FablessError(f"fault {self.fault} is outside the {self.rows}x{self.cols} array")

    @classmethod
    def from_chip(cls, chip: ChipSpec, fault: PeFault | None = None) -> "RtlConfig":
        """The core of `chip` (one MXU of a core, with the core's scratchpad)."""
        if chip.family != "systolic":
            raise FablessError(f"{chip.name} is a {chip.family} chip: RTL is generated for systolic chips")
        matrix = chip.core.matrix
        acc_bytes = int((matrix.accumulator_kib or 0) * 1024)
        return cls(
            rows=matrix.rows,
            cols=matrix.cols,
            spad_bytes=chip.core.sram.capacity_bytes,
            acc_rows=acc_bytes // (ACC_WORD_BYTES * matrix.cols),
            fault=fault,
        )

    @property
    def spad_row_bytes(self) -> int:
        """Bytes of one physical scratchpad row: the power of two >= max(rows, cols)."""
        return 1 << (max(self.rows, self.cols) - 1).bit_length()

    @property
    def spad_bank_rows(self) -> int:
        return self.spad_bytes // (2 * self.spad_row_bytes)

    @property
    def acc_row_bytes(self) -> int:
        return self.cols * ACC_WORD_BYTES


def rate_note(chip: ChipSpec) -> str | None:
    """A note when the chip declares a faster int8 MXU than the generated PE (one MAC per cycle)."""
    matrix = chip.core.matrix
    rate = matrix.ops_per_cycle.get("int8")
    if rate is None:
        return None
    macs = rate / (2 * matrix.rows * matrix.cols)
    if macs == 1:
        return None
    return (
        f"note: {chip.name} declares {macs:g} int8 MACs per PE per cycle; the generated PE does 1, "
        f"so its int8 throughput is 1/{macs:g} of the description"
    )


def with_array(chip: ChipSpec, rows: int, cols: int, spad_bytes: int, acc_rows: int) -> ChipSpec:
    """`chip` with a `rows` x `cols` MXU and the given memory sizes (one MAC per PE per cycle).

    Tests and benchmarks use it to co-simulate array shapes no preset has; sizes are kept
    small because the RTL run loads and dumps every scratchpad row. The scratchpad moves
    one row in and one out per cycle, as the RTL's does.
    """
    matrix = chip.core.matrix.model_copy(update={
        "rows": rows,
        "cols": cols,
        "ops_per_cycle": {dtype: 2.0 * rows * cols for dtype in ("int8", "fp8", "bf16")},
        "accumulator_kib": acc_rows * cols * ACC_WORD_BYTES / 1024,
    })
    row_bytes = 1 << (max(rows, cols) - 1).bit_length()
    sram = chip.core.sram.model_copy(update={"mib": spad_bytes / 2**20, "bytes_per_cycle": 2 * row_bytes})
    core = chip.core.model_copy(update={"matrix": matrix, "sram": sram})
    return chip.model_copy(update={"name": f"{chip.name}-{rows}x{cols}", "core": core})
