"""Collective costs in the latency-bandwidth (alpha-beta) model, per algorithm and topology.

A collective of `nbytes` (the full buffer on each chip) over a group of n chips costs
steps x alpha + bytes on the busiest port / its bandwidth:

- ring reduce-scatter or all-gather: (n-1) alpha + (n-1)/n M / B; all-reduce is both;
- tree (recursive doubling for all-reduce, halving/doubling for the others):
  log2(n) (alpha + M / B) for all-reduce, log2(n) alpha + (n-1)/n M / B otherwise;
  it needs a switch or a full mesh, where every partner is one hop away;
- torus, dimension-ordered: a ring reduce-scatter along each dimension in turn on the
  shrinking buffer (M, M/d1, M/(d1 d2), ...), each dimension using its share of the ports,
  then the all-gathers in reverse;
- all-to-all: the slower of the injection bound ((n-1)/n M / B) and the bisection bound
  (half of each chip's data crosses the cut), plus n-1 steps (pairwise exchange) on a
  switch, one on a full mesh, and the distance to the farthest chip on a ring or torus.

Groups larger than the scale-up domain are hierarchical: reduce-scatter inside each
domain, the collective across domains on the scale-out network over 1/domain of the
buffer (with the best algorithm there), all-gather inside the domain. `algorithm` picks
the one used inside the domain; "auto" takes the cheapest that the topology runs. Ring
and torus all-reduces use both directions of every port (bidirectional rings).
"""

import math
from typing import Literal

from fabless.errors import FablessError
from fabless.multichip.network import Fabric, Network, torus_dims

Algorithm = Literal["auto", "ring", "tree", "torus"]
ALGORITHMS: tuple[Algorithm, ...] = ("auto", "ring", "tree", "torus")


def all_reduce_s(network: Network, chips: int, nbytes: float, algorithm: Algorithm = "auto") -> float:
    local, domains = network.levels(chips)
    if domains == 1:
        return _on_fabric(network.scale_up, local, nbytes, "all_reduce", algorithm)
    assert network.scale_out is not None
    across = _on_fabric(network.scale_out, domains, nbytes / local, "all_reduce", "auto")
    return (_on_fabric(network.scale_up, local, nbytes, "reduce_scatter", algorithm)
            + across + _on_fabric(network.scale_up, local, nbytes, "all_gather", algorithm))


def reduce_scatter_s(network: Network, chips: int, nbytes: float, algorithm: Algorithm = "auto") -> float:
    return _two_level(network, chips, nbytes, "reduce_scatter", algorithm)


def all_gather_s(network: Network, chips: int, nbytes: float, algorithm: Algorithm = "auto") -> float:
    return _two_level(network, chips, nbytes, "all_gather", algorithm)


def all_to_all_s(network: Network, chips: int, nbytes: float) -> float:
    """Each chip holds `nbytes` and sends 1/n of it to every other chip of the group."""
    local, domains = network.levels(chips)
    if chips == 1 or nbytes == 0:
        return 0.0
    inside = _all_to_all_fabric(network.scale_up, local, nbytes * local / chips)
    if domains == 1:
        return inside
    assert network.scale_out is not None
    out = network.scale_out
    leaving = nbytes * (chips - local) / chips
    return inside + (domains - 1) * out.hop_latency_s + leaving / out.injection_bytes_per_s


def send_s(network: Network, nbytes: float, across_domains: bool = False) -> float:
    """A point-to-point transfer to a neighbour (pipeline stages), or to another domain."""
    if nbytes == 0:
        return 0.0
    if across_domains:
        if network.scale_out is None:
            raise FablessError("a transfer across domains needs a scale-out network")
        return network.scale_out.hop_latency_s + nbytes / network.scale_out.injection_bytes_per_s
    fabric = network.scale_up
    return fabric.hop_latency_s + nbytes / fabric.neighbour_bytes_per_s()


def _two_level(network: Network, chips: int, nbytes: float, kind: str, algorithm: Algorithm) -> float:
    local, domains = network.levels(chips)
    inside = _on_fabric(network.scale_up, local, nbytes, kind, algorithm)
    if domains == 1:
        return inside
    assert network.scale_out is not None
    return inside + _on_fabric(network.scale_out, domains, nbytes / local, kind, "auto")


def _on_fabric(fabric: Fabric, chips: int, nbytes: float, kind: str, algorithm: Algorithm) -> float:
    if chips == 1 or nbytes == 0:
        return 0.0
    costs = {
        "ring": _ring,
        "tree": _tree if fabric.topology in ("switched", "full-mesh") else None,
        "torus": _torus if fabric.ndims >= 2 else None,
    }
    if algorithm == "auto":
        return min(cost(fabric, chips, nbytes, kind) for cost in costs.values() if cost is not None)
    if algorithm not in costs:
        raise FablessError(f"unknown collective algorithm {algorithm!r}: use one of {', '.join(ALGORITHMS)}")
    cost = costs[algorithm]
    if cost is None:
        raise FablessError(f"the {algorithm} algorithm does not run on a {fabric.topology} network: use auto or ring")
    return cost(fabric, chips, nbytes, kind)


def _ring(fabric: Fabric, n: int, nbytes: float, kind: str) -> float:
    # A flat ring on a torus follows one dimension's ports; elsewhere it gets all of them.
    bandwidth = fabric.group_injection_bytes_per_s(n) / max(fabric.ndims, 1)
    one_way = (n - 1) * fabric.hop_latency_s + (n - 1) / n * nbytes / bandwidth
    return 2 * one_way if kind == "all_reduce" else one_way


def _tree(fabric: Fabric, n: int, nbytes: float, kind: str) -> float:
    bandwidth = fabric.group_injection_bytes_per_s(n)
    if fabric.topology == "full-mesh":
        bandwidth /= n - 1  # each step talks to one partner over the links to it
    steps = math.ceil(math.log2(n))
    if kind == "all_reduce":
        return steps * (fabric.hop_latency_s + nbytes / bandwidth)
    return steps * fabric.hop_latency_s + (n - 1) / n * nbytes / bandwidth


def _torus(fabric: Fabric, n: int, nbytes: float, kind: str) -> float:
    bandwidth = fabric.injection_bytes_per_s / fabric.ndims
    total, size = 0.0, nbytes
    for d in torus_dims(n, fabric.ndims):
        if d > 1:
            total += (d - 1) * fabric.hop_latency_s + (d - 1) / d * size / bandwidth
        size /= d
    return 2 * total if kind == "all_reduce" else total


def _all_to_all_fabric(fabric: Fabric, n: int, nbytes: float) -> float:
    """Steps x alpha plus the slower of the injection bound and the bisection bound."""
    if n == 1:
        return 0.0
    if fabric.topology == "switched":
        steps = n - 1  # pairwise exchange, one peer per step
    elif fabric.topology == "full-mesh":
        steps = 1  # every peer over its own links at once
    else:
        steps = sum(d // 2 for d in torus_dims(n, max(fabric.ndims, 1)))  # to the farthest chip
    sent = (n - 1) / n * nbytes
    crossing = n * nbytes / 4  # half the chips each send half their data across the cut
    bandwidth_s = max(sent / fabric.group_injection_bytes_per_s(n), crossing / fabric.bisection_bytes_per_s(n))
    return steps * fabric.hop_latency_s + bandwidth_s
