"""What the area and power models read: a chip as counts of hardware blocks.

A chip description becomes `Blocks` through `blocks_from_chip`; the published chips used
for validation are described directly in these terms (they need not be full presets).
"""

from dataclasses import dataclass

from fabless.chip.spec import MIB, ChipSpec
from fabless.errors import FablessError


@dataclass(frozen=True, kw_only=True)
class Blocks:
    """Whole-package block counts; the area model splits them over the compute dies."""

    name: str
    node: str
    family: str
    clock_hz: float
    cores: int
    macs_per_cycle: dict[str, float]
    """Multiply-accumulates per cycle over the chip, per input dtype."""
    vector_lanes: int
    vector_ops_per_cycle: float
    sram_mib: float
    sram_bytes_per_cycle: float
    memory_generation: str
    memory_interfaces: int
    """HBM stacks, or x64 channels for LPDDR; 0 for an SRAM-only chip."""
    memory_bytes_per_s: float
    memory_gb: float
    link_count: int
    link_gb_s_per_direction: float
    compute_dies: int = 1
    io_dies: int = 0
    io_node: str | None = None
    described_die_area_mm2: float | None = None

    def __post_init__(self) -> None:
        if self.compute_dies < 1:
            raise FablessError(f"{self.name}: compute dies must be at least 1 (got {self.compute_dies})")
        if self.io_dies < 0:
            raise FablessError(f"{self.name}: I/O dies cannot be negative (got {self.io_dies})")
        if self.io_dies and self.io_node is None:
            raise FablessError(f"{self.name}: I/O dies need a process node: pass io_node, e.g. N7")

    @property
    def link_bits_per_s(self) -> float:
        """Link traffic both ways at full rate, in bits per second."""
        return self.link_count * self.link_gb_s_per_direction * 1e9 * 8 * 2


def blocks_from_chip(chip: ChipSpec, compute_dies: int | None = None, io_dies: int = 0,
                     io_node: str | None = None) -> Blocks:
    """The blocks of a chip description; `compute_dies` defaults to the description's `dies`."""
    units = chip.matrix_units
    accumulator_mib = (chip.core.matrix.accumulator_kib or 0) * chip.core.matrix.count * chip.cores / 1024
    return Blocks(
        name=chip.name,
        node=chip.process_node,
        family=chip.family,
        clock_hz=chip.clock_hz,
        cores=chip.cores,
        macs_per_cycle={dtype: rate / 2 * units for dtype, rate in chip.core.matrix.ops_per_cycle.items()},
        vector_lanes=chip.core.vector.lanes * chip.cores,
        vector_ops_per_cycle=chip.core.vector.ops_per_cycle * chip.cores,
        sram_mib=chip.sram_bytes / MIB + accumulator_mib,
        sram_bytes_per_cycle=chip.core.sram.bytes_per_cycle * chip.cores,
        memory_generation=chip.hbm.generation,
        memory_interfaces=chip.hbm.stacks,
        memory_bytes_per_s=chip.hbm.bytes_per_s,
        memory_gb=chip.hbm.capacity_bytes / 1e9,
        link_count=chip.links.count,
        link_gb_s_per_direction=chip.links.gb_s_per_direction,
        compute_dies=chip.dies if compute_dies is None else compute_dies,
        io_dies=io_dies,
        io_node=io_node,
        described_die_area_mm2=chip.die_area_mm2,
    )
