"""The network between chips, built from the chip description's links.

Two levels: a scale-up domain of `links.domain_chips` chips joined by the chip's own
links in its topology (NVSwitch, a torus of ICI links, an Infinity Fabric mesh), and,
for more chips than one domain holds, a switched scale-out network in which every chip
has one NIC. NIC bandwidth and the per-hop latencies come from data/network/fabrics.csv;
every bandwidth is scaled by the performance model's calibrated link efficiency (the
share of peak that a large collective reaches).
"""

import csv
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fabless.checks import MAX_CHIPS, whole
from fabless.chip.spec import ChipSpec, Topology
from fabless.errors import FablessError
from fabless.perf import efficiency_for

_FABRICS = resources.files("fabless") / "data" / "network" / "fabrics.csv"


@dataclass(frozen=True)
class Fabric:
    """One level of network: `chips` chips in a topology, each with `links` ports.

    `ndims` is 1 for a ring, 2 or 3 for a torus and 0 for switched or mesh; a group of
    chips in a torus is taken as the most nearly cubic block of that many chips.
    """

    topology: Topology
    chips: int
    links: int
    link_bytes_per_s: float
    hop_latency_s: float
    ndims: int = 0

    @property
    def injection_bytes_per_s(self) -> float:
        """All of a chip's ports, one way."""
        return self.links * self.link_bytes_per_s

    def group_injection_bytes_per_s(self, chips: int) -> float:
        """What a chip can send at once to the others of a group of `chips` chips."""
        if self.topology == "full-mesh":
            return self.injection_bytes_per_s * (chips - 1) / max(self.chips - 1, 1)
        return self.injection_bytes_per_s

    def bisection_bytes_per_s(self, chips: int) -> float:
        """One way across the worst cut that halves a group of `chips` chips."""
        inject = self.injection_bytes_per_s
        if self.topology == "switched":
            return chips / 2 * inject  # a non-blocking switch: every chip can send at once
        if self.topology == "full-mesh":
            per_peer = inject / max(self.chips - 1, 1)
            return (chips / 2) ** 2 * per_peer
        if self.topology == "ring":
            return inject  # two cut places, half the ports lead each way
        # A cut across the longest dimension severs 2 x (chips / k) neighbour pairs, each
        # joined by that dimension's share of the ports in each direction.
        longest = max(torus_dims(chips, self.ndims))
        return 2 * (chips / longest) * inject / (2 * self.ndims)

    def neighbour_bytes_per_s(self) -> float:
        """What one chip can send to one neighbour (pipeline point-to-point)."""
        inject = self.injection_bytes_per_s
        if self.topology == "switched":
            return inject
        if self.topology == "full-mesh":
            return inject / max(self.chips - 1, 1)
        if self.topology == "ring":
            return inject / 2
        return inject / (2 * self.ndims)


@dataclass(frozen=True)
class Network:
    """A scale-up fabric of `domain_chips` chips and, beyond it, a switched scale-out fabric."""

    scale_up: Fabric
    scale_out: Fabric | None
    domain_chips: int

    def levels(self, chips: int) -> tuple[int, int]:
        """A group of `chips` chips as (chips per domain, domains), filling domains first."""
        if chips <= self.domain_chips:
            return chips, 1
        if self.scale_out is None:
            raise FablessError(f"a group of {chips} chips spans domains but the network has no scale-out level")
        return self.domain_chips, math.ceil(chips / self.domain_chips)


def network_for(chip: ChipSpec, chips: int) -> Network:
    """The network `chips` chips of this kind are wired into."""
    whole("chips", chips, 1, MAX_CHIPS)
    links = chip.links
    link_efficiency = efficiency_for(chip).link
    row = _fabric_rows().get(chip.name, _fabric_rows()["default"])
    domain = links.domain_chips
    if links.count == 0 or links.gb_s_per_direction == 0:
        if chips > 1 and domain > 1:
            raise FablessError(f"{chip.name} has no chip-to-chip links: give links.count and gb_s_per_direction")
    ndims = {"torus-2d": 2, "torus-3d": 3, "ring": 1}.get(links.topology, 0)
    scale_up = Fabric(
        topology=links.topology,
        chips=domain,
        links=links.count,
        link_bytes_per_s=links.gb_s_per_direction * 1e9 * link_efficiency,
        hop_latency_s=row["scale_up_hop_latency_s"],
        ndims=ndims,
    )
    scale_out = None
    if chips > domain:
        scale_out = Fabric(
            topology="switched",
            chips=math.ceil(chips / domain),
            links=1,
            link_bytes_per_s=row["scale_out_bytes_per_s"] * link_efficiency,
            hop_latency_s=row["scale_out_latency_s"],
        )
    return Network(scale_up=scale_up, scale_out=scale_out, domain_chips=domain)


def torus_dims(chips: int, ndims: int) -> tuple[int, ...]:
    """The most nearly cubic shape of `ndims` dimensions with `chips` chips (largest first)."""
    if ndims <= 1:
        return (chips,)
    best: tuple[int, ...] = ()
    for first in range(1, chips + 1):
        if chips % first:
            continue
        rest = torus_dims(chips // first, ndims - 1)
        shape = tuple(sorted((first, *rest), reverse=True))
        if not best or max(shape) < max(best):
            best = shape
    return best


@cache
def _fabric_rows() -> dict[str, dict[str, float]]:
    with _FABRICS.open() as handle:
        return {
            row["chip"]: {key: float(row[key]) for key in
                          ("scale_up_hop_latency_s", "scale_out_bytes_per_s", "scale_out_latency_s")}
            for row in csv.DictReader(handle)
        }
