"""Total cost of ownership: $/chip-hour, $/Mtoken, and the volume at which building pays.

An owned chip costs its capex (chip plus its share of host systems) spread over its
lifetime, electricity at its average draw times PUE, and hosting per kW of TDP. A rented
chip costs its rental. $/Mtoken = $/chip-hour x chips / (tokens/s x 3600) x 1e6.

Building a chip costs NRE once and a manufacturing cost per unit, so its $/token falls with
volume V; it breaks even with a rival at
    V = NRE / (lifetime_h x (rival_usd_per_token x tokens_per_chip_hour - own_usd_per_chip_hour_without_nre))
and never does when the bracket is not positive.
"""

from dataclasses import dataclass

from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError
from fabless.ppa.data import TcoData

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True, kw_only=True)
class ChipHour:
    """Dollars per chip-hour, by part."""

    capex_usd: float
    power_usd: float
    hosting_usd: float
    rental_usd: float

    @property
    def total_usd(self) -> float:
        return self.capex_usd + self.power_usd + self.hosting_usd + self.rental_usd


@dataclass(frozen=True, kw_only=True)
class TcoRow:
    """One way to get a chip (build, buy or rent) serving one workload."""

    chip: str
    option: str
    chips: int
    tokens_per_s: float
    chip_hour: ChipHour
    capex_usd: float | None
    break_even_volume: float | None = None

    @property
    def usd_per_mtoken(self) -> float:
        return usd_per_mtoken(self.chip_hour.total_usd, self.chips, self.tokens_per_s)


def lifetime_hours(data: TcoData) -> float:
    return data.lifetime_years * HOURS_PER_YEAR


def owned_chip_hour(capex_usd: float, tdp_w: float, data: TcoData) -> ChipHour:
    """$/chip-hour of an owned chip bought or built for `capex_usd`."""
    average_kw = tdp_w * data.average_power_fraction / 1e3
    return ChipHour(
        capex_usd=(capex_usd + data.host_system_usd_per_chip) / lifetime_hours(data),
        power_usd=average_kw * data.pue * data.usd_per_kwh,
        hosting_usd=tdp_w / 1e3 * data.hosting_usd_per_kw_month * 12 / HOURS_PER_YEAR,
        rental_usd=0.0,
    )


def rented_chip_hour(rental_usd_per_hour: float) -> ChipHour:
    return ChipHour(capex_usd=0.0, power_usd=0.0, hosting_usd=0.0, rental_usd=rental_usd_per_hour)


def usd_per_mtoken(usd_per_chip_hour: float, chips: int, tokens_per_s: float) -> float:
    """Dollars per million tokens for `chips` chips that together serve `tokens_per_s`."""
    if tokens_per_s <= 0:
        raise FablessError(f"tokens per second must be positive to price a token (got {tokens_per_s})")
    return usd_per_chip_hour * chips / (tokens_per_s * 3600) * 1e6


def market_rows(chip: ChipSpec, chips: int, tokens_per_s: float, data: TcoData) -> list[TcoRow]:
    """Buy and rent rows for a chip, from the prices in its description (where public)."""
    rows = []
    if chip.price_usd is not None:
        rows.append(TcoRow(chip=chip.name, option="buy", chips=chips, tokens_per_s=tokens_per_s,
                           chip_hour=owned_chip_hour(chip.price_usd, chip.tdp_w, data), capex_usd=chip.price_usd))
    if chip.rental_usd_per_hour is not None:
        rows.append(TcoRow(chip=chip.name, option="rent", chips=chips, tokens_per_s=tokens_per_s,
                           chip_hour=rented_chip_hour(chip.rental_usd_per_hour), capex_usd=None))
    return rows


def build_row(chip: ChipSpec, chips: int, tokens_per_s: float, unit_cost_usd: float, data: TcoData) -> TcoRow:
    """The row for building `chip` at a unit cost that already includes NRE per unit."""
    return TcoRow(chip=chip.name, option="build", chips=chips, tokens_per_s=tokens_per_s,
                  chip_hour=owned_chip_hour(unit_cost_usd, chip.tdp_w, data), capex_usd=unit_cost_usd)


def break_even_volume(nre_usd: float, manufacturing_usd: float, tdp_w: float, chips: int,
                      tokens_per_s: float, rival_usd_per_mtoken: float, data: TcoData) -> float | None:
    """Chips to build before the built chip's $/token matches a rival's; None if it never does."""
    hours = lifetime_hours(data)
    without_nre = owned_chip_hour(manufacturing_usd, tdp_w, data).total_usd
    tokens_per_chip_hour = tokens_per_s * 3600 / chips
    margin_usd_per_h = rival_usd_per_mtoken / 1e6 * tokens_per_chip_hour - without_nre
    if margin_usd_per_h <= 0:
        return None
    return nre_usd / (hours * margin_usd_per_h)
