"""PPA and cost: area, power, unit cost, programme cost, TCO and $/Mtoken of a chip.

Every outside-world number comes from `fabless/data/ppa/*.toml` (with a source each) or a
user override; `load_ppa_data` reads them, the models below turn a chip into mm2, watts
and dollars, and `cost_study` / `tco_study` wire them together for the CLI.
"""

from fabless.ppa.area import AreaBreakdown, check_reticle_limit, die_area
from fabless.ppa.blocks import Blocks, blocks_from_chip
from fabless.ppa.data import PpaData, data_leaves, load_ppa_data, per_node
from fabless.ppa.power import (
    PowerBreakdown,
    Utilisation,
    full_load,
    power_at,
    serving_utilisation,
    tdp_estimate,
)
from fabless.ppa.programme import ProgrammeCost, programme_cost
from fabless.ppa.report import CostStudy, TcoStudy, Workload, cost_study, tco_study
from fabless.ppa.tco import (
    ChipHour,
    TcoRow,
    break_even_volume,
    owned_chip_hour,
    rented_chip_hour,
    usd_per_mtoken,
)
from fabless.ppa.validation import PublishedChip, ValidationRow, published_chips, validate
from fabless.ppa.yield_cost import DieCost, UnitCost, die_cost, die_yield, gross_dies_per_wafer, unit_cost

__all__ = [
    # data
    "PpaData",
    "load_ppa_data",
    "per_node",
    "data_leaves",
    # blocks and area
    "Blocks",
    "blocks_from_chip",
    "AreaBreakdown",
    "die_area",
    "check_reticle_limit",
    # power
    "Utilisation",
    "PowerBreakdown",
    "power_at",
    "full_load",
    "serving_utilisation",
    "tdp_estimate",
    # unit and programme cost
    "gross_dies_per_wafer",
    "die_yield",
    "DieCost",
    "die_cost",
    "UnitCost",
    "unit_cost",
    "ProgrammeCost",
    "programme_cost",
    # TCO
    "ChipHour",
    "TcoRow",
    "owned_chip_hour",
    "rented_chip_hour",
    "usd_per_mtoken",
    "break_even_volume",
    # studies
    "CostStudy",
    "cost_study",
    "Workload",
    "TcoStudy",
    "tco_study",
    # validation
    "PublishedChip",
    "ValidationRow",
    "published_chips",
    "validate",
]
