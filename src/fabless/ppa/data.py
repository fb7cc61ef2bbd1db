"""The PPA and cost numbers from the outside world, with their sources and the user's overrides.

The shipped TOML files under `fabless/data/ppa` hold every density, energy, price and
yield figure, each with a source. A user overrides any of them with `--set key.path=value`
or an override TOML file; the override becomes the value's source, so every number the
models use can be traced back to a file or a flag.
"""

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fabless.errors import FablessError

_DATA = resources.files("fabless") / "data" / "ppa"
DATA_FILES = ("area", "power", "cost", "programme", "tco")


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AreaData(_Data):
    reticle_limit_mm2: float = Field(gt=0)
    logic_layout_efficiency: float = Field(gt=0, le=1)
    sram_macro_efficiency: float = Field(gt=0, le=1)
    dtype_extra_fraction: float = Field(ge=0)
    vector_lane_ktr: float = Field(gt=0)
    noc_control_fraction: float = Field(ge=0)
    host_io_mm2: float = Field(ge=0)
    hbm_stack_footprint_mm2: float = Field(gt=0)
    logic_mtr_per_mm2: dict[str, float]
    sram_mbit_per_mm2: dict[str, float]
    mac_ktr: dict[str, float]
    core_overhead_mtr: dict[str, float]
    memory_phy_mm2: dict[str, float]
    serdes_lane_gbps: dict[str, float]
    serdes_lane_mm2: dict[str, float]
    d2d_mm2_per_die: dict[str, float]


class PowerData(_Data):
    uncore_fraction: float = Field(ge=0)
    matrix_energy_factor: dict[str, float]
    energy_pj_per_op: dict[str, dict[str, float]]
    vector_pj_per_op: dict[str, float]
    sram_pj_per_bit: dict[str, float]
    leakage_w_per_mm2: dict[str, float]
    memory_pj_per_bit: dict[str, float]
    link_pj_per_bit: dict[str, float]
    full_load: dict[Literal["matrix", "vector", "sram", "memory", "links"], float]


class CostData(_Data):
    wafer_diameter_mm: float = Field(gt=0)
    edge_exclusion_mm: float = Field(ge=0)
    scribe_mm: float = Field(ge=0)
    yield_model: Literal["negative_binomial", "murphy", "poisson"]
    clustering_alpha: float = Field(gt=0)
    wafer_sort_usd_per_die: float = Field(ge=0)
    package_base_usd: float = Field(ge=0)
    interposer_usd_per_mm2: float = Field(ge=0)
    interposer_area_factor: float = Field(ge=1)
    assembly_yield: float = Field(gt=0, le=1)
    final_test_usd: float = Field(ge=0)
    io_die_node: str
    wafer_price_usd: dict[str, float]
    defect_density_per_cm2: dict[str, float]
    memory_usd_per_gb: dict[str, float]


class ProgrammeData(_Data):
    design_engineers: float = Field(ge=0)
    design_years: float = Field(ge=0)
    engineer_usd_per_year: float = Field(ge=0)
    software_engineers: float = Field(ge=0)
    software_years: float = Field(ge=0)
    respin_probability: float = Field(ge=0, le=1)
    respin_engineering_usd: float = Field(ge=0)
    respin_delay_months: float = Field(ge=0)
    delay_cost_usd_per_month: float = Field(ge=0)
    mask_set_usd: dict[str, float]
    ip_licence_usd: dict[str, float]


class TcoData(_Data):
    lifetime_years: float = Field(gt=0)
    usd_per_kwh: float = Field(ge=0)
    pue: float = Field(ge=1)
    hosting_usd_per_kw_month: float = Field(ge=0)
    average_power_fraction: float = Field(gt=0, le=1)
    host_system_usd_per_chip: float = Field(ge=0)


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
        parts = path.split(".")
        for end in range(len(parts), 0, -1):
            found = self.sources.get(".".join(parts[:end]))
            if found is not None:
                return found
        raise FablessError(f"PPA data value {path} has no source: add one under [sources] in its data file")


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
        table = _parse(_DATA.joinpath(f"{name}.toml").read_text(), f"data file ppa/{name}.toml")
        for key, value in table.pop("sources", {}).items():
            sources[key] = value
        for key in table:
            owner[key] = name
        raw.update(table)
    for path in override_files:
        file = Path(path)
        if not file.is_file():
            raise FablessError(f"override file {file} does not exist: pass a TOML file of PPA values")
        table = _parse(file.read_text(), f"override file {file}")
        table.pop("sources", None)
        for dotted, value in _leaves(table):
            _assign(raw, dotted, value, origin=f"override file {file}")
            sources[dotted] = f"override file {file}"
    for item in overrides:
        dotted, value = _parse_assignment(item)
        _assign(raw, dotted, value, origin=f"--set {item}")
        sources[dotted] = f"user override --set {item}"
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
        problem = error.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        raise FablessError(f"PPA data {field}: {message} (got {problem.get('input')!r})") from None


def _parse(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FablessError(f"{origin}: not valid TOML ({error})") from None


def _parse_assignment(item: str) -> tuple[str, Any]:
    dotted, sep, text = item.partition("=")
    dotted = dotted.strip()
    if not sep or not dotted or not text.strip():
        raise FablessError(f"--set {item!r} is not KEY=VALUE: write e.g. --set wafer_price_usd.N3=20000")
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()  # a bare word such as `murphy` is a string
    return dotted, value


def _assign(raw: dict[str, Any], dotted: str, value: Any, origin: str) -> None:
    """Set `raw[a][b][c] = value` for `a.b.c`; the top key must exist so typos fail loudly."""
    parts = dotted.split(".")
    if parts[0] not in raw:
        raise FablessError(f"{origin}: unknown PPA data key {parts[0]!r}: see src/fabless/data/ppa/*.toml for the keys")
    node = raw
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise FablessError(f"{origin}: {dotted} goes inside a number: set {part} itself")
        node = child
    old = node.get(parts[-1])
    if isinstance(old, dict):
        raise FablessError(f"{origin}: {dotted} is a table: set one of its entries, e.g. {dotted}.{next(iter(old))}")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FablessError(f"{origin}: {dotted} must be a number or a word (got {value!r})")
    node[parts[-1]] = float(value) if isinstance(value, int) else value


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
