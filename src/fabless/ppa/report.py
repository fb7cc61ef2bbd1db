"""The cost and TCO studies the CLI prints: the models above, wired together for one chip."""

from dataclasses import asdict, dataclass

from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError
from fabless.model import ModelConfig, Precision
from fabless.perf import ServingEstimate, decode_time, estimate_serving
from fabless.ppa.area import AreaBreakdown, die_area
from fabless.ppa.blocks import Blocks, blocks_from_chip
from fabless.ppa.data import PpaData
from fabless.ppa.power import PowerBreakdown, Utilisation, power_at, serving_utilisation, tdp_estimate
from fabless.ppa.programme import ProgrammeCost, programme_cost
from fabless.ppa.tco import TcoRow, break_even_volume, build_row, market_rows
from fabless.ppa.yield_cost import UnitCost, unit_cost


@dataclass(frozen=True, kw_only=True)
class CostStudy:
    """Area, TDP, unit cost and programme cost of building one chip at a volume."""

    chip: ChipSpec
    blocks: Blocks
    area: AreaBreakdown
    tdp_dtype: str
    tdp: PowerBreakdown
    unit: UnitCost
    programme: ProgrammeCost

    def unit_cost_at(self, volume: int) -> float:
        """Unit cost at another volume: the same manufacturing cost, the NRE spread over `volume`."""
        if volume < 1:
            raise FablessError(f"volume must be at least 1 chip (got {volume})")
        return self.unit.manufacturing_usd + self.programme.total_usd / volume

    def volume_points(self) -> list[int]:
        """A decade either side of the study's volume, for a unit-cost-versus-volume view."""
        return sorted({max(1, self.unit.volume // 10), self.unit.volume, self.unit.volume * 10})

    def to_dict(self) -> dict[str, object]:
        return {
            "chip": self.chip.name,
            "process_node": self.blocks.node,
            "volume": self.unit.volume,
            "area_mm2": {**self.area.blocks_mm2(), "compute_die": self.area.compute_die_mm2,
                         "io_die": self.area.io_die_mm2, "total_silicon": self.area.total_silicon_mm2},
            "compute_dies": self.area.compute_dies,
            "io_dies": self.area.io_dies,
            "described_die_area_mm2": self.chip.die_area_mm2,
            "dies": [asdict(die) for die in self.unit.dies],
            "tdp_w": {**self.tdp.blocks_w(), "total": self.tdp.total_w, "dtype": self.tdp_dtype},
            "described_tdp_w": self.chip.tdp_w,
            "unit_cost_usd": {**self.unit.parts_usd(), "manufacturing": self.unit.manufacturing_usd,
                              "total": self.unit.total_usd},
            "programme_cost_usd": {**self.programme.parts_usd(), "total": self.programme.total_usd},
            "unit_cost_vs_volume_usd": {str(v): self.unit_cost_at(v) for v in self.volume_points()},
        }


def cost_study(chip: ChipSpec, data: PpaData, volume: int, compute_dies: int | None = None,
               io_dies: int = 0, check_reticle: bool = True) -> CostStudy:
    """Build-cost study of `chip`; `compute_dies`/`io_dies` re-partition it into chiplets.

    Without `check_reticle` a die past the reticle is priced (a search scores it as a
    constraint) instead of refused."""
    if volume < 1:
        raise FablessError(f"volume must be at least 1 chip (got {volume}): pass --volume, e.g. 100000")
    blocks = blocks_from_chip(chip, compute_dies=compute_dies, io_dies=io_dies,
                              io_node=data.cost.io_die_node if io_dies else None)
    area = die_area(blocks, data.area, check_reticle=check_reticle)
    dtype, tdp = tdp_estimate(blocks, area, data.power)
    nodes = [blocks.node] + ([blocks.io_node] if blocks.io_node else [])
    programme = programme_cost(nodes, data.programme)
    unit = unit_cost(blocks, area, data.cost, volume, programme.total_usd, data.area.hbm_stack_footprint_mm2)
    return CostStudy(chip=chip, blocks=blocks, area=area, tdp_dtype=dtype, tdp=tdp, unit=unit, programme=programme)


@dataclass(frozen=True, kw_only=True)
class Workload:
    config: ModelConfig
    precision: Precision
    batch: int
    input_len: int
    output_len: int


@dataclass(frozen=True, kw_only=True)
class TcoStudy:
    """$/Mtoken of building one chip against buying or renting the others, on one workload."""

    workload: Workload
    build: CostStudy
    decode_use: Utilisation
    decode_power: PowerBreakdown
    rows: tuple[TcoRow, ...]
    unpriced: tuple[str, ...]
    """Rivals whose descriptions give neither a purchase nor a rental price."""

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.workload.config.name,
            "weights": self.workload.precision.weights,
            "batch": self.workload.batch,
            "input_len": self.workload.input_len,
            "output_len": self.workload.output_len,
            "build": self.build.chip.name,
            "volume": self.build.unit.volume,
            "build_decode_utilisation": asdict(self.decode_use),
            "build_decode_power_w": {**self.decode_power.blocks_w(), "total": self.decode_power.total_w},
            "rows": [
                {"chip": row.chip, "option": row.option, "chips": row.chips, "tokens_per_s": row.tokens_per_s,
                 "usd_per_chip_hour": asdict(row.chip_hour) | {"total": row.chip_hour.total_usd},
                 "capex_usd": row.capex_usd, "usd_per_mtoken": row.usd_per_mtoken,
                 "break_even_volume": row.break_even_volume}
                for row in self.rows
            ],
            "unpriced": list(self.unpriced),
        }


def tco_study(build_chip: ChipSpec, rivals: list[ChipSpec], workload: Workload, data: PpaData,
              volume: int) -> TcoStudy:
    """Price the workload on `build_chip` built at `volume` and on each rival bought or rented."""
    build = cost_study(build_chip, data, volume)
    own = _serve(build_chip, workload)
    own_row = build_row(build_chip, own.chips, own.tokens_per_s, build.unit.total_usd, data.tco)
    rows = [own_row]
    unpriced = tuple(rival.name for rival in rivals if rival.price_usd is None and rival.rental_usd_per_hour is None)
    for rival in rivals:
        served = _serve(rival, workload)
        for row in market_rows(rival, served.chips, served.tokens_per_s, data.tco):
            volume_needed = break_even_volume(
                build.programme.total_usd, build.unit.manufacturing_usd, build_chip.tdp_w, own.chips,
                own.tokens_per_s, row.usd_per_mtoken, data.tco,
            )
            rows.append(TcoRow(chip=row.chip, option=row.option, chips=row.chips, tokens_per_s=row.tokens_per_s,
                               chip_hour=row.chip_hour, capex_usd=row.capex_usd, break_even_volume=volume_needed))
    step = decode_time(build_chip, workload.config, workload.precision, workload.batch,
                       workload.input_len + workload.output_len // 2)
    use = serving_utilisation(workload.precision.matmul_dtype, step.mxu_utilization, step.hbm_utilization,
                              data.power)
    return TcoStudy(workload=workload, build=build, decode_use=use,
                    decode_power=power_at(build.blocks, build.area, data.power, use), rows=tuple(rows),
                    unpriced=unpriced)


def _serve(chip: ChipSpec, workload: Workload) -> ServingEstimate:
    estimate = estimate_serving(chip, workload.config, workload.precision, workload.batch,
                                workload.input_len, workload.output_len)
    if not estimate.fits:
        raise FablessError(
            f"{workload.config.name} at batch {workload.batch} does not fit on {estimate.chips} x {chip.name}: "
            "lower --batch or the context lengths"
        )
    return estimate
