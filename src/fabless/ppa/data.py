"""The PPA and cost numbers from the outside world, with their sources and the user's overrides.

The shipped TOML files under `fabless/data/ppa` hold every density, energy, price and
yield figure, each with a source. A user overrides any of them with `--set key.path=value`
or an override TOML file; the override becomes the value's source, so every number the
models use can be traced back to a file or a flag.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from fabless.checks import clip
from fabless.chip.registry import first_problem
from fabless.chip.spec import Label
from fabless.errors import FablessError
from fabless.files import MIB, parse_toml, read_text

_DATA = resources.files("fabless") / "data" / "ppa"
DATA_FILES = ("area", "power", "cost", "programme", "tco")
OVERRIDE_FILE_LIMIT_BYTES = MIB
"""The shipped data files together are under 20 KiB; an override past 1 MiB is not one."""
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


class _Data(BaseModel):
    # Strict: `true` or "3" is not a price; nan and inf are never a measurement.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


# Upper bounds are generous (far past any published figure, so a bold override still
# fits) yet physical, so a unit slip or a 1e300 is refused with its key before any model
# multiplies it. Densities, rates and yields that a model divides by are strictly positive.
Fraction = Annotated[float, Field(ge=0, le=10)]
"""An overhead as a fraction of what it adds to: 10x is already absurd."""
Usd = Annotated[float, Field(ge=0, le=1e12)]
"""A price or cost: a trillion dollars is past any chip programme."""
UsdTable = dict[Label, Usd]
DivisorTable = dict[Label, Annotated[float, Field(gt=0, le=10_000)]]
"""Logic MTr/mm2, SRAM Mb/mm2, kTr per MAC, Gb/s per SerDes lane: 40x today's best, and
positive because the area model divides by them."""
AreaTable = dict[Label, Annotated[float, Field(ge=0, le=10_000)]]
"""mm2 per PHY, lane or die-to-die interface, MTr per core: 100x a reticle-sized block."""
EnergyTable = dict[Label, Annotated[float, Field(ge=0, le=1000)]]
"""pJ per op or bit, W/mm2 of leakage, energy factors: 100x a 16 nm fp32 op or an HBM bit."""


class AreaData(_Data):
    # 100,000 mm2 is past a whole 300 mm wafer (70,686 mm2), for wafer-scale studies.
    reticle_limit_mm2: float = Field(gt=0, le=100_000)
    logic_layout_efficiency: float = Field(gt=0, le=1)
    sram_macro_efficiency: float = Field(gt=0, le=1)
    dtype_extra_fraction: Fraction
    vector_lane_ktr: float = Field(gt=0, le=10_000)
    noc_control_fraction: Fraction
    host_io_mm2: float = Field(ge=0, le=10_000)
    hbm_stack_footprint_mm2: float = Field(gt=0, le=10_000)
    logic_mtr_per_mm2: DivisorTable
    sram_mbit_per_mm2: DivisorTable
    mac_ktr: DivisorTable
    core_overhead_mtr: AreaTable
    memory_phy_mm2: AreaTable
    serdes_lane_gbps: DivisorTable
    serdes_lane_mm2: AreaTable
    d2d_mm2_per_die: AreaTable


class PowerData(_Data):
    uncore_fraction: Fraction
    matrix_energy_factor: EnergyTable
    energy_pj_per_op: dict[Label, EnergyTable]
    vector_pj_per_op: EnergyTable
    sram_pj_per_bit: EnergyTable
    leakage_w_per_mm2: EnergyTable
    memory_pj_per_bit: EnergyTable
    link_pj_per_bit: EnergyTable
    full_load: dict[Literal["matrix", "vector", "sram", "memory", "links"], Annotated[float, Field(ge=0, le=1)]]


class CostData(_Data):
    # 1 m is twice the 450 mm wafer the industry planned and dropped.
    wafer_diameter_mm: float = Field(gt=0, le=1000)
    edge_exclusion_mm: float = Field(ge=0, le=500)
    scribe_mm: float = Field(ge=0, le=100)
    yield_model: Literal["negative_binomial", "murphy", "poisson"]
    clustering_alpha: float = Field(gt=0, le=1000)
    wafer_sort_usd_per_die: Usd
    package_base_usd: Usd
    interposer_usd_per_mm2: Usd
    interposer_area_factor: float = Field(ge=1, le=100)
    assembly_yield: float = Field(gt=0, le=1)
    final_test_usd: Usd
    io_die_node: Label
    # A wafer at $10M is 400x N2's; 100 defects per cm2 kills every die of any size.
    wafer_price_usd: dict[Label, Annotated[float, Field(gt=0, le=1e7)]]
    defect_density_per_cm2: dict[Label, Annotated[float, Field(ge=0, le=100)]]
    memory_usd_per_gb: UsdTable

    @field_validator("edge_exclusion_mm")
    @classmethod
    def _wafer_left_usable(cls, edge_mm: float, info: ValidationInfo) -> float:
        diameter_mm = info.data.get("wafer_diameter_mm")
        if diameter_mm is not None and 2 * edge_mm >= diameter_mm:
            raise ValueError(f"leaves nothing of a {diameter_mm:g} mm wafer: keep it under half wafer_diameter_mm")
        return edge_mm


class ProgrammeData(_Data):
    # A million engineers for a century is past any programme; costs as `Usd`.
    design_engineers: float = Field(ge=0, le=1e6)
    design_years: float = Field(ge=0, le=100)
    engineer_usd_per_year: Usd
    software_engineers: float = Field(ge=0, le=1e6)
    software_years: float = Field(ge=0, le=100)
    respin_probability: float = Field(ge=0, le=1)
    respin_engineering_usd: Usd
    respin_delay_months: float = Field(ge=0, le=1200)
    delay_cost_usd_per_month: Usd
    mask_set_usd: UsdTable
    ip_licence_usd: UsdTable


class TcoData(_Data):
    # A century of service, $100/kWh and a PUE of 10 are all far past real data centres.
    lifetime_years: float = Field(gt=0, le=100)
    usd_per_kwh: float = Field(ge=0, le=100)
    pue: float = Field(ge=1, le=10)
    hosting_usd_per_kw_month: Usd
    average_power_fraction: float = Field(gt=0, le=1)
    host_system_usd_per_chip: Usd


@dataclass(frozen=True)
class PpaData:
    """All PPA inputs, validated, with the source of every value by dotted path."""

    area: AreaData
    power: PowerData
    cost: CostData
    programme: ProgrammeData
    tco: TcoData
    sources: Mapping[str, str]

    def source(self, path: str) -> str:
        """The source of the value at dotted `path` (a table's source covers its entries)."""
        found = _source_of(self.sources, path)
        if found is None:
            raise FablessError(f"PPA data value {path} has no source: add one under [sources] in its data file")
        return found


def _source_of(sources: Mapping[str, str], path: str) -> str | None:
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        found = sources.get(".".join(parts[:end]))
        if found is not None:
            return found
    return None


def per_node(table: Mapping[str, Any], node: str, name: str, kind: str = "process node") -> Any:
    """`table[node]`, or an error naming the missing key, the table and how to add it."""
    value = table.get(node)
    if value is None:
        known = ", ".join(sorted(table))
        raise FablessError(
            f"{kind} {node} has no {name} data (known: {known}): "
            f"add it with --set {name}.{node}=VALUE or an override file"
        )
    return value


def load_ppa_data(overrides: Sequence[str] = (), override_files: Sequence[str | Path] = ()) -> PpaData:
    """The shipped data, then each override file, then each `key.path=value` override."""
    raw: dict[str, Any] = {}
    sources: dict[str, str] = {}
    owner: dict[str, str] = {}
    for name in DATA_FILES:
        table = parse_toml(_DATA.joinpath(f"{name}.toml").read_text(), f"data file ppa/{name}.toml")
        for key, value in table.pop("sources", {}).items():
            sources[key] = value
        for key in table:
            owner[key] = name
        raw.update(table)
    for path in override_files:
        file = Path(path)
        text = read_text(file, "a TOML file of PPA values", OVERRIDE_FILE_LIMIT_BYTES)
        table = parse_toml(text, f"override file {file}")
        table.pop("sources", None)
        for dotted, value in _leaves(table):
            _assign(raw, dotted, value, origin=f"override file {file}")
            sources[dotted] = f"override file {file}"
    for item in overrides:
        dotted, value = _parse_assignment(item)
        _assign(raw, dotted, value, origin=f"--set {clip(item)}")
        sources[dotted] = f"user override --set {clip(item)}"
    groups: dict[str, dict[str, Any]] = {name: {} for name in DATA_FILES}
    for key, value in raw.items():
        groups[owner[key]][key] = value
    try:
        return PpaData(
            area=AreaData.model_validate(groups["area"]),
            power=PowerData.model_validate(groups["power"]),
            cost=CostData.model_validate(groups["cost"]),
            programme=ProgrammeData.model_validate(groups["programme"]),
            tco=TcoData.model_validate(groups["tco"]),
            sources=sources,
        )
    except ValidationError as error:
        raise FablessError(f"PPA data {_with_source(first_problem(error), error, sources)}") from None


def _with_source(problem: str, error: ValidationError, sources: Mapping[str, str]) -> str:
    """`problem`, saying which override set the value when one did (the shipped data is trusted)."""
    field = ".".join(str(part) for part in error.errors()[0]["loc"])
    origin = _source_of(sources, field) or ""
    overridden = origin.startswith(("user override", "override file"))
    return f"{problem}, from {origin}" if overridden else problem


def _parse_assignment(item: str) -> tuple[str, Any]:
    dotted, sep, text = item.partition("=")
    dotted, text = dotted.strip(), text.strip()
    if not sep or not dotted or not text:
        raise FablessError(f"--set {clip(repr(item))} is not KEY=VALUE: write e.g. --set wafer_price_usd.N3=20000")
    if not item.isprintable():
        raise FablessError(f"--set {clip(repr(item))} holds control characters: write one KEY=VALUE on one line")
    if _WORD.fullmatch(text) and text not in ("nan", "inf", "true", "false"):
        return dotted, text  # a bare word such as `murphy` is a string
    return dotted, parse_toml(f"v = {text}", f"--set {clip(item)}")["v"]


def _assign(raw: dict[str, Any], dotted: str, value: Any, origin: str) -> None:
    """Set `raw[a][b][c] = value` for `a.b.c`; the top key must exist so typos fail loudly."""
    shown = clip(dotted if dotted.isprintable() else repr(dotted))
    if not dotted.isprintable():
        raise FablessError(f"{origin}: key {shown} holds control characters: name a key of src/fabless/data/ppa/*.toml")
    parts = dotted.split(".")
    if parts[0] not in raw:
        raise FablessError(
            f"{origin}: unknown PPA data key {clip(parts[0])!r}: see src/fabless/data/ppa/*.toml for the keys"
        )
    node = raw
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise FablessError(f"{origin}: {shown} goes inside a number: set {clip(part)} itself")
        node = child
    old = node.get(parts[-1])
    if isinstance(old, dict):
        raise FablessError(f"{origin}: {shown} is a table: set one of its entries, e.g. {shown}.{next(iter(old))}")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FablessError(f"{origin}: {shown} must be a number or a word (got {clip(repr(value))})")
    node[parts[-1]] = value


def _leaves(tree: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in tree.items():
        if isinstance(value, Mapping):
            out.extend(_leaves(value, f"{prefix}{key}."))
        else:
            out.append((f"{prefix}{key}", value))
    return out


def data_leaves(data: PpaData) -> list[tuple[str, Any]]:
    """Every (dotted path, value) of the data, for listing and source checks."""
    out: list[tuple[str, Any]] = []
    for group in (data.area, data.power, data.cost, data.programme, data.tco):
        out.extend(_leaves(group.model_dump()))
    return out
