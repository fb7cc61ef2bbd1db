"""What one chip costs to make: dies per wafer, yield, memory, packaging, test, and NRE per unit.

Gross dies per wafer use the standard formula
    DPW = pi * d^2 / (4 * S) - pi * d / sqrt(2 * S)
with d the usable wafer diameter (wafer minus twice the edge exclusion) and S the die area
plus its scribe lane. Die yield follows the model named in the data:
    negative binomial  Y = (1 + A * D0 / alpha) ^ -alpha   (clustered defects, Stapper)
    Murphy             Y = ((1 - exp(-A * D0)) / (A * D0)) ^ 2
    Poisson            Y = exp(-A * D0)
with A in cm2 and D0 defects per cm2.
"""

import math
from dataclasses import asdict, dataclass

from fabless.errors import FablessError
from fabless.ppa.area import AreaBreakdown
from fabless.ppa.blocks import Blocks
from fabless.ppa.data import CostData, per_node

MIN_GOOD_DIES_PER_WAFER = 1e-6
"""Below one good die in a million wafers a die is no product, and its price would be
meaningless or, once the yield underflows to 0, infinite."""


def gross_dies_per_wafer(die_area_mm2: float, wafer_diameter_mm: float = 300.0,
                         edge_exclusion_mm: float = 0.0, scribe_mm: float = 0.0) -> int:
    """Whole dies that fit on a wafer by the standard formula (edge loss included)."""
    if die_area_mm2 <= 0:
        raise FablessError(f"die area must be positive (got {die_area_mm2} mm2)")
    usable_mm = wafer_diameter_mm - 2 * edge_exclusion_mm
    if usable_mm <= 0:
        raise FablessError(f"edge exclusion {edge_exclusion_mm} mm leaves no usable {wafer_diameter_mm} mm wafer")
    site_mm2 = (math.sqrt(die_area_mm2) + scribe_mm) ** 2
    dies = math.pi * usable_mm**2 / (4 * site_mm2) - math.pi * usable_mm / math.sqrt(2 * site_mm2)
    return max(int(dies), 0)


def die_yield(die_area_mm2: float, defects_per_cm2: float, model: str = "negative_binomial",
              alpha: float = 3.0) -> float:
    """Fraction of dies with no killer defect under the named yield model."""
    faults = die_area_mm2 / 100 * defects_per_cm2
    if faults < 0:
        raise FablessError(f"die area and defect density must not be negative (got {die_area_mm2}, {defects_per_cm2})")
    if faults == 0:
        return 1.0
    if model == "negative_binomial":
        return (1 + faults / alpha) ** -alpha
    if model == "murphy":
        return ((1 - math.exp(-faults)) / faults) ** 2
    if model == "poisson":
        return math.exp(-faults)
    raise FablessError(f"unknown yield model {model!r}: use negative_binomial, murphy or poisson")


@dataclass(frozen=True, kw_only=True)
class DieCost:
    """One kind of die on the package and what a good one costs."""

    kind: str
    node: str
    count: int
    area_mm2: float
    gross_per_wafer: int
    defects_per_cm2: float
    yield_model: str
    yield_fraction: float
    wafer_usd: float
    usd_per_good_die: float

    @property
    def good_per_wafer(self) -> float:
        return self.gross_per_wafer * self.yield_fraction


@dataclass(frozen=True, kw_only=True)
class UnitCost:
    """Cost of one packaged chip, by part, at a production volume."""

    dies: tuple[DieCost, ...]
    silicon_usd: float
    memory_usd: float
    packaging_usd: float
    test_usd: float
    assembly_loss_usd: float
    nre_per_unit_usd: float
    volume: int

    @property
    def manufacturing_usd(self) -> float:
        """What each further chip costs, NRE excluded."""
        return self.silicon_usd + self.memory_usd + self.packaging_usd + self.test_usd + self.assembly_loss_usd

    @property
    def total_usd(self) -> float:
        return self.manufacturing_usd + self.nre_per_unit_usd

    def parts_usd(self) -> dict[str, float]:
        parts = asdict(self)
        return {key.removesuffix("_usd"): value for key, value in parts.items()
                if key.endswith("_usd") and key != "total_usd"}


def die_cost(kind: str, node: str, count: int, area_mm2: float, data: CostData) -> DieCost:
    """Cost of one good die of `area_mm2` at `node` (wafer price over good dies, plus wafer sort)."""
    gross = gross_dies_per_wafer(area_mm2, data.wafer_diameter_mm, data.edge_exclusion_mm, data.scribe_mm)
    if gross == 0:
        raise FablessError(f"a {area_mm2:,.0f} mm2 die does not fit on a {data.wafer_diameter_mm:g} mm wafer")
    defects = per_node(data.defect_density_per_cm2, node, "defect_density_per_cm2")
    yield_fraction = die_yield(area_mm2, defects, data.yield_model, data.clustering_alpha)
    clustered = data.yield_model == "negative_binomial"
    model = data.yield_model + (f" (alpha {data.clustering_alpha:g})" if clustered else "")
    if gross * yield_fraction < MIN_GOOD_DIES_PER_WAFER:
        split = "--compute-dies" if kind == "compute" else "--io-dies"
        raise FablessError(
            f"a {area_mm2:,.0f} mm2 {kind} die at {node} yields {gross * yield_fraction:.2g} good dies per wafer "
            f"({defects:g} defects/cm2, {model}), too few to price: lower defect_density_per_cm2.{node} "
            f"or split the die ({split})"
        )
    wafer_usd = per_node(data.wafer_price_usd, node, "wafer_price_usd")
    return DieCost(
        kind=kind, node=node, count=count, area_mm2=area_mm2, gross_per_wafer=gross,
        defects_per_cm2=defects, yield_model=model, yield_fraction=yield_fraction, wafer_usd=wafer_usd,
        usd_per_good_die=wafer_usd / (gross * yield_fraction) + data.wafer_sort_usd_per_die,
    )


def unit_cost(blocks: Blocks, area: AreaBreakdown, data: CostData, volume: int,
              programme_usd: float, memory_stack_footprint_mm2: float) -> UnitCost:
    """Unit cost at `volume` chips, the programme (NRE) cost spread evenly over them."""
    if volume < 1:
        raise FablessError(f"volume must be at least 1 chip (got {volume}): pass --volume, e.g. 100000")
    dies = [die_cost("compute", blocks.node, area.compute_dies, area.compute_die_mm2, data)]
    if area.io_dies:
        dies.append(die_cost("io", blocks.io_node or data.io_die_node, area.io_dies, area.io_die_mm2, data))
    silicon = sum(die.count * die.usd_per_good_die for die in dies)
    memory = 0.0
    if blocks.memory_interfaces:
        memory = blocks.memory_gb * per_node(data.memory_usd_per_gb, blocks.memory_generation,
                                             "memory_usd_per_gb", "memory")
    # Only HBM stacks sit on the interposer; LPDDR is on the board.
    stacks = blocks.memory_interfaces if blocks.memory_generation.startswith("HBM") else 0
    interposer_mm2 = data.interposer_area_factor * (area.total_silicon_mm2 + stacks * memory_stack_footprint_mm2)
    packaging = data.package_base_usd + data.interposer_usd_per_mm2 * interposer_mm2
    built = silicon + memory + packaging + data.final_test_usd
    return UnitCost(
        dies=tuple(dies), silicon_usd=silicon, memory_usd=memory, packaging_usd=packaging,
        test_usd=data.final_test_usd, assembly_loss_usd=built * (1 / data.assembly_yield - 1),
        nre_per_unit_usd=programme_usd / volume, volume=volume,
    )
