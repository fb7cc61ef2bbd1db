"""Die area from block counts at a process node, with a reticle check and a chiplet option.

Logic (MAC arrays, vector lanes, per-core control) is counted in transistors and divided
by the node's logic density times a layout efficiency. The matrix datapath is sized by its
most area-hungry input dtype, plus a fraction for each further dtype it must also decode.
SRAM uses the node's array density times a macro efficiency. Memory and SerDes PHYs are
fixed areas per stack and per lane. With I/O dies, the PHYs and host I/O move off the
compute dies, and every die gains a die-to-die interface.
"""

import math
from dataclasses import asdict, dataclass

from fabless.errors import FablessError
from fabless.ppa.blocks import Blocks
from fabless.ppa.data import AreaData, per_node

_MBIT_PER_MIB = 8 * 2**20 / 1e6


@dataclass(frozen=True, kw_only=True)
class AreaBreakdown:
    """Silicon area by block, summed over the package, and the size of each die."""

    matrix_mm2: float
    vector_mm2: float
    sram_mm2: float
    control_mm2: float
    noc_mm2: float
    memory_phy_mm2: float
    link_phy_mm2: float
    host_io_mm2: float
    d2d_mm2: float
    compute_dies: int
    compute_die_mm2: float
    io_dies: int
    io_die_mm2: float

    @property
    def total_silicon_mm2(self) -> float:
        return self.compute_dies * self.compute_die_mm2 + self.io_dies * self.io_die_mm2

    def blocks_mm2(self) -> dict[str, float]:
        """The package's area by block, for tables and plots."""
        fields = asdict(self)
        return {key.removesuffix("_mm2"): value for key, value in fields.items()
                if key.endswith("_mm2") and not key.endswith("die_mm2")}


def die_area(blocks: Blocks, data: AreaData, check_reticle: bool = True) -> AreaBreakdown:
    """Area of every block and die of `blocks`; over-reticle dies raise unless told not to."""
    logic_mm2_per_mtr = 1.0 / (per_node(data.logic_mtr_per_mm2, blocks.node, "logic_mtr_per_mm2")
                               * data.logic_layout_efficiency)
    matrix_mtr = _matrix_mtr(blocks, data)
    vector_mtr = blocks.vector_lanes * data.vector_lane_ktr / 1e3
    control_mtr = blocks.cores * per_node(data.core_overhead_mtr, blocks.family, "core_overhead_mtr", "chip family")
    sram_density = per_node(data.sram_mbit_per_mm2, blocks.node, "sram_mbit_per_mm2") * data.sram_macro_efficiency
    matrix = matrix_mtr * logic_mm2_per_mtr
    vector = vector_mtr * logic_mm2_per_mtr
    control = control_mtr * logic_mm2_per_mtr
    sram = blocks.sram_mib * _MBIT_PER_MIB / sram_density
    noc = data.noc_control_fraction * (matrix + vector + control + sram)

    io_node = blocks.io_node if blocks.io_dies else blocks.node
    assert io_node is not None  # Blocks guarantees an io_node whenever io_dies > 0
    memory_phy = blocks.memory_interfaces * _memory_phy_mm2(blocks, data) if blocks.memory_interfaces else 0.0
    lanes = math.ceil(blocks.link_count * blocks.link_gb_s_per_direction * 8
                      / per_node(data.serdes_lane_gbps, io_node, "serdes_lane_gbps"))
    link_phy = lanes * per_node(data.serdes_lane_mm2, io_node, "serdes_lane_mm2")
    io_blocks = memory_phy + link_phy + data.host_io_mm2

    core_per_die = (matrix + vector + control + sram + noc) / blocks.compute_dies
    split = blocks.compute_dies > 1 or blocks.io_dies > 0
    d2d_compute = per_node(data.d2d_mm2_per_die, blocks.node, "d2d_mm2_per_die") if split else 0.0
    if blocks.io_dies:
        d2d_io = per_node(data.d2d_mm2_per_die, io_node, "d2d_mm2_per_die")
        compute_die = core_per_die + d2d_compute
        io_die = io_blocks / blocks.io_dies + d2d_io
    else:
        d2d_io = 0.0
        compute_die = core_per_die + io_blocks / blocks.compute_dies + d2d_compute
        io_die = 0.0
    area = AreaBreakdown(
        matrix_mm2=matrix, vector_mm2=vector, sram_mm2=sram, control_mm2=control, noc_mm2=noc,
        memory_phy_mm2=memory_phy, link_phy_mm2=link_phy, host_io_mm2=data.host_io_mm2,
        d2d_mm2=d2d_compute * blocks.compute_dies + d2d_io * blocks.io_dies,
        compute_dies=blocks.compute_dies, compute_die_mm2=compute_die,
        io_dies=blocks.io_dies, io_die_mm2=io_die,
    )
    if check_reticle:
        check_reticle_limit(blocks, area, data)
    return area


def check_reticle_limit(blocks: Blocks, area: AreaBreakdown, data: AreaData) -> None:
    """One-line error when any die exceeds what one lithography exposure can print."""
    limit = data.reticle_limit_mm2
    if area.compute_die_mm2 > limit:
        dies_needed = math.ceil(area.compute_die_mm2 * blocks.compute_dies / limit)
        raise FablessError(
            f"{blocks.name}: compute die is {area.compute_die_mm2:,.0f} mm2, over the {limit:,.0f} mm2 "
            f"reticle limit: split it over {max(dies_needed, blocks.compute_dies + 1)} compute dies "
            "(--compute-dies), move PHYs to I/O dies (--io-dies) or shrink the SRAM or matrix units"
        )
    if area.io_die_mm2 > limit:
        raise FablessError(
            f"{blocks.name}: I/O die is {area.io_die_mm2:,.0f} mm2, over the {limit:,.0f} mm2 reticle limit: "
            "use more I/O dies (--io-dies)"
        )


def _matrix_mtr(blocks: Blocks, data: AreaData) -> float:
    """Millions of transistors in the MAC arrays: the widest dtype's datapath plus decode for the rest."""
    if not blocks.macs_per_cycle:
        return 0.0
    per_dtype = {dtype: macs * per_node(data.mac_ktr, dtype, "mac_ktr", "dtype") / 1e3
                 for dtype, macs in blocks.macs_per_cycle.items()}
    return max(per_dtype.values()) * (1 + data.dtype_extra_fraction * (len(per_dtype) - 1))


def _memory_phy_mm2(blocks: Blocks, data: AreaData) -> float:
    area = data.memory_phy_mm2.get(blocks.memory_generation)
    if area is None:
        known = ", ".join(sorted(data.memory_phy_mm2))
        raise FablessError(
            f"{blocks.name}: memory {blocks.memory_generation} has no PHY area data (known: {known}): "
            f"add it with --set memory_phy_mm2.{blocks.memory_generation}=MM2"
        )
    return area
