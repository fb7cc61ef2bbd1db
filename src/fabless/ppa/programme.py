"""What it costs to get a chip to production once: masks, people, IP, software, respin risk.

The respin term is an expected cost: probability x (a new mask set + respin engineering +
months of delay x the value lost per month).
"""

from dataclasses import asdict, dataclass

from fabless.ppa.data import ProgrammeData, per_node


@dataclass(frozen=True, kw_only=True)
class ProgrammeCost:
    """Non-recurring cost of the chip programme, by part."""

    mask_set_usd: float
    design_team_usd: float
    ip_licences_usd: float
    software_usd: float
    respin_risk_usd: float

    @property
    def total_usd(self) -> float:
        return sum(asdict(self).values())

    def parts_usd(self) -> dict[str, float]:
        return {key.removesuffix("_usd"): value for key, value in asdict(self).items()}


def programme_cost(nodes: list[str], data: ProgrammeData) -> ProgrammeCost:
    """NRE for a package whose distinct dies are made at `nodes` (one mask set per die design)."""
    masks = sum(per_node(data.mask_set_usd, node, "mask_set_usd") for node in nodes)
    respin = data.respin_probability * (
        masks + data.respin_engineering_usd + data.respin_delay_months * data.delay_cost_usd_per_month
    )
    return ProgrammeCost(
        mask_set_usd=masks,
        design_team_usd=data.design_engineers * data.design_years * data.engineer_usd_per_year,
        ip_licences_usd=sum(data.ip_licence_usd.values()),
        software_usd=data.software_engineers * data.software_years * data.engineer_usd_per_year,
        respin_risk_usd=respin,
    )
