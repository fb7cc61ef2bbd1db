"""Watts from activity: energy per op and per bit at a node, times rates, plus leakage.

Power at a workload is the chip's peak rates times the utilisation of each resource (the
performance model gives matrix and HBM utilisation); the TDP estimate is the same sum at
the "full load" utilisations of the data file, in the chip's most power-hungry dtype.
"""

from dataclasses import asdict, dataclass

from fabless.errors import FablessError
from fabless.ppa.area import AreaBreakdown
from fabless.ppa.blocks import Blocks
from fabless.ppa.data import PowerData, per_node

_PJ = 1e-12


@dataclass(frozen=True, kw_only=True)
class Utilisation:
    """Fraction of peak rate each resource runs at, and the dtype the matrix units run."""

    dtype: str
    matrix: float
    vector: float = 0.0
    sram: float = 0.0
    memory: float = 0.0
    links: float = 0.0

    def __post_init__(self) -> None:
        for name in ("matrix", "vector", "sram", "memory", "links"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise FablessError(f"{name} utilisation must be between 0 and 1 (got {value})")


@dataclass(frozen=True, kw_only=True)
class PowerBreakdown:
    """Watts by consumer; `total_w` is what the package draws."""

    matrix_w: float
    vector_w: float
    sram_w: float
    memory_w: float
    links_w: float
    uncore_w: float
    leakage_w: float

    @property
    def total_w(self) -> float:
        return sum(asdict(self).values())

    def blocks_w(self) -> dict[str, float]:
        return {key.removesuffix("_w"): value for key, value in asdict(self).items()}


def power_at(blocks: Blocks, area: AreaBreakdown, data: PowerData, use: Utilisation) -> PowerBreakdown:
    """Package power with each resource at the given fraction of its peak rate."""
    node = blocks.node
    io_node = blocks.io_node if blocks.io_dies and blocks.io_node else node
    energies = per_node(data.energy_pj_per_op, node, "energy_pj_per_op")
    macs = blocks.macs_per_cycle.get(use.dtype)
    if macs is None or use.dtype not in energies:
        have = ", ".join(sorted(set(blocks.macs_per_cycle) & set(energies)))
        raise FablessError(f"{blocks.name}: no {use.dtype} matrix energy or rate (have {have}): pick another dtype")
    factor = per_node(data.matrix_energy_factor, blocks.family, "matrix_energy_factor", "chip family")
    matrix = macs * 2 * blocks.clock_hz * use.matrix * energies[use.dtype] * factor * _PJ
    vector = (blocks.vector_ops_per_cycle * blocks.clock_hz * use.vector
              * per_node(data.vector_pj_per_op, node, "vector_pj_per_op") * _PJ)
    sram = (blocks.sram_bytes_per_cycle * 8 * blocks.clock_hz * use.sram
            * per_node(data.sram_pj_per_bit, node, "sram_pj_per_bit") * _PJ)
    memory = 0.0
    if blocks.memory_interfaces:
        pj_per_bit = per_node(data.memory_pj_per_bit, blocks.memory_generation, "memory_pj_per_bit", "memory")
        memory = blocks.memory_bytes_per_s * 8 * use.memory * pj_per_bit * _PJ
    links = blocks.link_bits_per_s * use.links * per_node(data.link_pj_per_bit, io_node, "link_pj_per_bit") * _PJ
    leakage = (area.compute_dies * area.compute_die_mm2 * per_node(data.leakage_w_per_mm2, node, "leakage_w_per_mm2")
               + area.io_dies * area.io_die_mm2 * per_node(data.leakage_w_per_mm2, io_node, "leakage_w_per_mm2"))
    return PowerBreakdown(
        matrix_w=matrix, vector_w=vector, sram_w=sram, memory_w=memory, links_w=links,
        uncore_w=data.uncore_fraction * (matrix + vector + sram), leakage_w=leakage,
    )


def serving_utilisation(dtype: str, matrix: float, memory: float, data: PowerData) -> Utilisation:
    """A serving step's utilisation from the performance model's matrix and HBM figures.

    SRAM and vector traffic follow the matrix work in their full-load proportions; the
    links are left idle, as the performance model times one chip's step.
    """
    busy = min(max(matrix, 0.0), 1.0)
    return Utilisation(dtype=dtype, matrix=busy, vector=data.full_load["vector"] * busy,
                       sram=data.full_load["sram"] * busy, memory=min(max(memory, 0.0), 1.0), links=0.0)


def full_load(data: PowerData, dtype: str) -> Utilisation:
    """The TDP workload's utilisations from the data file, in `dtype`."""
    return Utilisation(dtype=dtype, **data.full_load)


def tdp_estimate(blocks: Blocks, area: AreaBreakdown, data: PowerData) -> tuple[str, PowerBreakdown]:
    """Power at full load in whichever supported dtype draws the most, and that dtype."""
    energies = per_node(data.energy_pj_per_op, blocks.node, "energy_pj_per_op")
    dtypes = [dtype for dtype in blocks.macs_per_cycle if dtype in energies]
    if not dtypes:
        raise FablessError(f"{blocks.name}: no matrix dtype with energy data at {blocks.node}")
    options = {dtype: power_at(blocks, area, data, full_load(data, dtype)) for dtype in dtypes}
    worst = max(options, key=lambda dtype: options[dtype].total_w)
    return worst, options[worst]
