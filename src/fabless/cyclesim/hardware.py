"""The timing parameters of one chip, in cycles, read from its description.

Everything the simulator needs comes from the chip description except the memory-system
numbers no datasheet-style description carries (HBM access latency, DMA descriptors in
flight), which `fabless.chip.memory_system` reads with their sources.
"""

from dataclasses import dataclass

from fabless.chip.memory_system import memory_system
from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError


@dataclass(frozen=True, kw_only=True)
class Hardware:
    """Per-cycle rates of one chip; bandwidths are bytes per clock cycle."""

    name: str
    clock_hz: float
    cores: int
    mxus_per_core: int
    mxu_rows: int
    mxu_cols: int
    mxu_ops_per_cycle: dict[str, float]
    vpu_lanes: int
    vpu_ops_per_cycle: float
    sram_bytes_per_cycle: float
    hbm_bytes_per_cycle: float
    hbm_latency_cycles: float
    dma_outstanding: int

    @classmethod
    def from_chip(cls, chip: ChipSpec) -> "Hardware":
        if chip.family != "systolic":
            raise FablessError(
                f"chip {chip.name} is family {chip.family!r}: the cycle simulator times systolic chips; "
                "use the analytical model (fidelity analytical) for it"
            )
        memory = memory_system()
        matrix = chip.core.matrix
        return cls(
            name=chip.name,
            clock_hz=chip.clock_hz,
            cores=chip.cores,
            mxus_per_core=matrix.count,
            mxu_rows=matrix.rows,
            mxu_cols=matrix.cols,
            mxu_ops_per_cycle={str(dtype): rate for dtype, rate in matrix.ops_per_cycle.items()},
            vpu_lanes=chip.core.vector.lanes,
            vpu_ops_per_cycle=chip.core.vector.ops_per_cycle,
            sram_bytes_per_cycle=chip.core.sram.bytes_per_cycle,
            hbm_bytes_per_cycle=chip.hbm.bytes_per_s / chip.clock_hz,
            hbm_latency_cycles=memory.hbm_latency_s * chip.clock_hz,
            dma_outstanding=memory.dma_outstanding,
        )

    def rows_per_cycle(self, dtype: str) -> float:
        """Activation rows an MXU takes per cycle: 1 where a PE does one MAC per cycle."""
        compute = "int8" if dtype == "int4" else dtype
        rate = self.mxu_ops_per_cycle.get(compute)
        if rate is None:
            supported = ", ".join(self.mxu_ops_per_cycle)
            raise FablessError(f"chip {self.name} has no {dtype} matrix math: compile for one of {supported}")
        return rate / (2.0 * self.mxu_rows * self.mxu_cols)
