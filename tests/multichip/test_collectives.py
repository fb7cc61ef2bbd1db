"""Collective costs against the alpha-beta formulas worked by hand."""

import pytest

from fabless.chip import load_chip
from fabless.errors import FablessError
from fabless.multichip import (
    Fabric,
    Network,
    all_gather_s,
    all_reduce_s,
    all_to_all_s,
    network_for,
    reduce_scatter_s,
    send_s,
    torus_dims,
)

US = 1e-6


def _network(fabric: Fabric, scale_out: Fabric | None = None, domain: int | None = None) -> Network:
    return Network(scale_up=fabric, scale_out=scale_out, domain_chips=domain or fabric.chips)


RING = Fabric(topology="ring", chips=8, links=2, link_bytes_per_s=100e9, hop_latency_s=1 * US, ndims=1)
TORUS = Fabric(topology="torus-2d", chips=16, links=4, link_bytes_per_s=100e9, hop_latency_s=1 * US, ndims=2)
SWITCH = Fabric(topology="switched", chips=8, links=4, link_bytes_per_s=100e9, hop_latency_s=2 * US)


def test_ring_all_reduce_is_two_passes_of_n_minus_1_steps():
    # 2 (n-1) alpha + 2 (n-1)/n M / B with B = 2 links x 100 GB/s = 200 GB/s:
    # 14 us + 2 x 7/8 x 8 MB / 200 GB/s = 14 us + 70 us.
    assert all_reduce_s(_network(RING), 8, 8e6, "ring") == pytest.approx(84 * US)


def test_ring_reduce_scatter_and_all_gather_are_one_pass_each():
    one_pass = 7 * US + 7 / 8 * 8e6 / 200e9
    assert reduce_scatter_s(_network(RING), 8, 8e6, "ring") == pytest.approx(one_pass)
    assert all_gather_s(_network(RING), 8, 8e6, "ring") == pytest.approx(one_pass)


def test_torus_2d_all_reduce_goes_dimension_by_dimension():
    # 4 x 4 torus, 4 ports at 100 GB/s: each dimension gets 200 GB/s. Reduce-scatter along x
    # on 16 MB: 3 us + 3/4 x 16 MB / 200 GB/s = 63 us; along y on 4 MB: 3 us + 15 us = 18 us.
    # All-reduce = reduce-scatter + all-gather = 2 x 81 us.
    assert all_reduce_s(_network(TORUS), 16, 16e6, "torus") == pytest.approx(162 * US)
    assert reduce_scatter_s(_network(TORUS), 16, 16e6, "torus") == pytest.approx(81 * US)


def test_flat_ring_on_a_torus_uses_one_dimension_of_ports():
    # 15 steps each way and 200 GB/s: 2 x (15 us + 15/16 x 16 MB / 200 GB/s) = 2 x 90 us.
    assert all_reduce_s(_network(TORUS), 16, 16e6, "ring") == pytest.approx(180 * US)


def test_tree_all_reduce_is_log2_rounds_of_the_whole_buffer():
    # Recursive doubling on a switch: 3 rounds of (2 us + 1 MB / 400 GB/s) = 3 x 4.5 us.
    assert all_reduce_s(_network(SWITCH), 8, 1e6, "tree") == pytest.approx(13.5 * US)


def test_auto_takes_the_cheapest_algorithm():
    network = _network(SWITCH)
    for size in (1e3, 1e6, 1e9):
        best = min(all_reduce_s(network, 8, size, a) for a in ("ring", "tree"))
        assert all_reduce_s(network, 8, size) == pytest.approx(best)
    # Small buffers favour the tree's 3 steps over the ring's 14; large ones the ring's bandwidth.
    assert all_reduce_s(network, 8, 1e3, "tree") < all_reduce_s(network, 8, 1e3, "ring")
    assert all_reduce_s(network, 8, 1e9, "ring") < all_reduce_s(network, 8, 1e9, "tree")


def test_two_level_all_reduce_is_scatter_inside_reduce_across_gather_inside():
    nic = Fabric(topology="switched", chips=2, links=1, link_bytes_per_s=50e9, hop_latency_s=5 * US)
    network = _network(SWITCH, nic, domain=8)
    inside = 7 * 2 * US + 7 / 8 * 8e6 / 400e9  # ring reduce-scatter on 8 MB in the domain
    across = 1 * (5 * US + 1e6 / 50e9)  # tree over 2 domains on the 1 MB shard: 1 round
    assert all_reduce_s(network, 16, 8e6, "ring") == pytest.approx(2 * inside + across)


def test_all_to_all_on_a_switch_is_pairwise_exchange():
    # (n-1) alpha + (n-1)/n M / B = 14 us + 7/8 x 8 MB / 400 GB/s = 14 us + 17.5 us.
    assert all_to_all_s(_network(SWITCH), 8, 8e6) == pytest.approx(31.5 * US)


def test_all_to_all_on_a_ring_is_bisection_bound():
    # Bisection 200 GB/s one way; n M / 4 = 16 MB crosses it: 80 us, over the 35 us injection bound,
    # plus 4 hops of 1 us to the far side.
    assert all_to_all_s(_network(RING), 8, 8e6) == pytest.approx(84 * US)


def test_all_to_all_on_a_full_mesh_uses_every_link_at_once():
    # 8 chips, one 64 GB/s link to each of 7 peers: one step, 7/8 x 8 MB / 448 GB/s = 15.625 us.
    mesh = Fabric(topology="full-mesh", chips=8, links=7, link_bytes_per_s=64e9, hop_latency_s=1.5 * US)
    assert all_to_all_s(_network(mesh), 8, 8e6) == pytest.approx(1.5 * US + 15.625 * US)
    # Half the mesh reaches only 3 of its 7 links: 3/4 x 8 MB / 192 GB/s = 31.25 us.
    assert all_to_all_s(_network(mesh), 4, 8e6) == pytest.approx(1.5 * US + 31.25 * US)


def test_send_uses_the_links_to_one_neighbour():
    # A ring's neighbour gets half the ports: 1 us + 1 MB / 100 GB/s.
    assert send_s(_network(RING), 1e6) == pytest.approx(11 * US)


def test_one_chip_or_empty_buffer_costs_nothing():
    assert all_reduce_s(_network(SWITCH), 1, 1e9) == 0.0
    assert all_to_all_s(_network(SWITCH), 8, 0.0) == 0.0


def test_unsupported_algorithm_names_the_topology():
    with pytest.raises(FablessError, match="torus algorithm does not run on a switched network"):
        all_reduce_s(_network(SWITCH), 8, 1e6, "torus")


def test_torus_shapes_are_as_cubic_as_possible():
    assert torus_dims(64, 3) == (4, 4, 4)
    assert torus_dims(16, 2) == (4, 4)
    assert torus_dims(8, 3) == (2, 2, 2)
    assert torus_dims(12, 2) == (4, 3)


def test_networks_from_chip_presets_have_two_levels_beyond_a_domain():
    h100 = network_for(load_chip("h100"), 16)
    assert h100.scale_up.topology == "switched" and h100.domain_chips == 8
    assert h100.levels(16) == (8, 2) and h100.scale_out is not None
    assert network_for(load_chip("h100"), 8).scale_out is None
    fab1 = network_for(load_chip("fab1"), 64)
    assert fab1.scale_up.ndims == 3 and fab1.scale_out is None
