"""The area and power models applied to published chips, against their public figures."""

import tomllib
from dataclasses import dataclass
from importlib import resources

from fabless.errors import FablessError
from fabless.ppa.area import die_area
from fabless.ppa.blocks import Blocks
from fabless.ppa.data import PpaData
from fabless.ppa.power import tdp_estimate

_FILE = resources.files("fabless") / "data" / "ppa" / "validation" / "published_chips.toml"


@dataclass(frozen=True, kw_only=True)
class PublishedChip:
    key: str
    display_name: str
    role: str
    blocks: Blocks
    published_die_area_mm2: float | None
    published_tdp_w: float
    miss: str
    sources: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class ValidationRow:
    chip: PublishedChip
    modelled_die_area_mm2: float
    modelled_tdp_w: float
    tdp_dtype: str

    @property
    def area_error(self) -> float | None:
        """(modelled - published) / published, for the total compute silicon."""
        published = self.chip.published_die_area_mm2
        return None if published is None else self.modelled_die_area_mm2 / published - 1

    @property
    def tdp_error(self) -> float:
        return self.modelled_tdp_w / self.chip.published_tdp_w - 1


def published_chips() -> list[PublishedChip]:
    """The published chips of the validation data file, in file order."""
    raw = tomllib.loads(_FILE.read_text())
    chips = []
    for key, entry in raw.items():
        try:
            blocks = Blocks(
                name=key, node=entry["node"], family=entry["family"], clock_hz=entry["clock_ghz"] * 1e9,
                cores=entry["cores"], macs_per_cycle=dict(entry["macs_per_cycle"]),
                vector_lanes=entry["vector_lanes"], vector_ops_per_cycle=entry["vector_ops_per_cycle"],
                sram_mib=entry["sram_mib"], sram_bytes_per_cycle=entry["sram_bytes_per_cycle"],
                memory_generation=entry["memory_generation"], memory_interfaces=entry["memory_interfaces"],
                memory_bytes_per_s=entry["memory_tb_s"] * 1e12, memory_gb=entry["memory_gb"],
                link_count=entry["link_count"], link_gb_s_per_direction=entry["link_gb_s_per_direction"],
                compute_dies=entry["compute_dies"],
            )
            chips.append(PublishedChip(
                key=key, display_name=entry["display_name"], role=entry["role"], blocks=blocks,
                published_die_area_mm2=entry.get("published_die_area_mm2"),
                published_tdp_w=entry["published_tdp_w"], miss=entry["miss"].strip(),
                sources=dict(entry["sources"]),
            ))
        except KeyError as missing:
            field = missing.args[0]
            raise FablessError(f"validation chip {key} is missing {field}: add it to published_chips.toml") from None
    return chips


def validate(data: PpaData) -> list[ValidationRow]:
    """Model every published chip's compute-die area and TDP with `data`."""
    rows = []
    for chip in published_chips():
        area = die_area(chip.blocks, data.area, check_reticle=False)
        dtype, power = tdp_estimate(chip.blocks, area, data.power)
        rows.append(ValidationRow(
            chip=chip, modelled_die_area_mm2=area.compute_die_mm2 * area.compute_dies,
            modelled_tdp_w=power.total_w, tdp_dtype=dtype,
        ))
    return rows
