"""Area and power of hand-sized blocks, the reticle limit, chiplets and unknown nodes."""

import pytest

from fabless.chip import load_chip
from fabless.errors import FablessError
from fabless.ppa import (
    Blocks,
    Utilisation,
    blocks_from_chip,
    die_area,
    load_ppa_data,
    power_at,
    serving_utilisation,
    tdp_estimate,
)

_MBIT_PER_MIB = 8 * 2**20 / 1e6


def small_chip(**changes: object) -> Blocks:
    fields = dict(
        name="small", node="N5", family="systolic", clock_hz=1e9, cores=2,
        macs_per_cycle={"bf16": 10_000.0, "int8": 20_000.0}, vector_lanes=100, vector_ops_per_cycle=200.0,
        sram_mib=10.0, sram_bytes_per_cycle=1000.0, memory_generation="HBM3", memory_interfaces=2,
        memory_bytes_per_s=1e12, memory_gb=32.0, link_count=4, link_gb_s_per_direction=56.0,
    )
    fields.update(changes)
    return Blocks(**fields)  # type: ignore[arg-type]


def test_area_of_each_block_by_hand():
    data = load_ppa_data(["logic_mtr_per_mm2.N5=100", "logic_layout_efficiency=0.5", "mac_ktr.bf16=20",
                          "mac_ktr.int8=5", "dtype_extra_fraction=0.1", "vector_lane_ktr=50",
                          "core_overhead_mtr.systolic=100", "sram_mbit_per_mm2.N5=30",
                          "sram_macro_efficiency=0.5", "noc_control_fraction=0.2", "memory_phy_mm2.HBM3=10",
                          "serdes_lane_gbps.N5=112", "serdes_lane_mm2.N5=0.5", "host_io_mm2=20"]).area
    area = die_area(small_chip(), data)
    # logic at 100 MTr/mm2 x 0.5 = 50 MTr per mm2
    assert area.matrix_mm2 == pytest.approx(10_000 * 20e3 / 1e6 * 1.1 / 50)  # bf16 dominates: 200 MTr x 1.1
    assert area.vector_mm2 == pytest.approx(100 * 50e3 / 1e6 / 50)
    assert area.control_mm2 == pytest.approx(2 * 100 / 50)
    assert area.sram_mm2 == pytest.approx(10 * _MBIT_PER_MIB / 15)
    core = area.matrix_mm2 + area.vector_mm2 + area.control_mm2 + area.sram_mm2
    assert area.noc_mm2 == pytest.approx(0.2 * core)
    assert area.memory_phy_mm2 == 20.0
    assert area.link_phy_mm2 == pytest.approx(16 * 0.5)  # 4 x 448 Gb/s = 1792 Gb/s = 16 lanes of 112G
    assert area.compute_die_mm2 == pytest.approx(1.2 * core + 20 + 8 + 20)


def test_power_of_each_consumer_by_hand():
    data = load_ppa_data(["energy_pj_per_op.N5.bf16=0.2", "vector_pj_per_op.N5=1", "sram_pj_per_bit.N5=0.1",
                          "memory_pj_per_bit.HBM3=5", "link_pj_per_bit.N5=5", "leakage_w_per_mm2.N5=0.05",
                          "uncore_fraction=0.1"])
    blocks = small_chip()
    area = die_area(blocks, data.area)
    use = Utilisation(dtype="bf16", matrix=0.5, vector=1.0, sram=1.0, memory=0.5, links=0.25)
    power = power_at(blocks, area, data.power, use)
    assert power.matrix_w == pytest.approx(10_000 * 2 * 1e9 * 0.5 * 0.2e-12)
    assert power.vector_w == pytest.approx(200 * 1e9 * 1e-12)
    assert power.sram_w == pytest.approx(1000 * 8 * 1e9 * 0.1e-12)
    assert power.memory_w == pytest.approx(1e12 * 8 * 0.5 * 5e-12)
    assert power.links_w == pytest.approx(4 * 56e9 * 8 * 2 * 0.25 * 5e-12)
    assert power.uncore_w == pytest.approx(0.1 * (power.matrix_w + power.vector_w + power.sram_w))
    assert power.leakage_w == pytest.approx(0.05 * area.compute_die_mm2)
    assert power.total_w == pytest.approx(sum(power.blocks_w().values()))


def test_tdp_takes_the_hungriest_dtype():
    data = load_ppa_data(["energy_pj_per_op.N5.bf16=0.2", "energy_pj_per_op.N5.int8=0.05"])
    blocks = small_chip()
    dtype, power = tdp_estimate(blocks, die_area(blocks, data.area), data.power)
    assert dtype == "bf16"  # 10k MACs x 0.2 pJ beats 20k MACs x 0.05 pJ


def test_utilisation_outside_zero_to_one_is_refused():
    with pytest.raises(FablessError, match="matrix utilisation must be between 0 and 1"):
        Utilisation(dtype="bf16", matrix=1.5)


def test_over_reticle_design_is_a_one_line_error_naming_the_fix():
    chip = load_chip("fab1")
    huge = chip.model_copy(update={"cores": chip.cores * 3})
    with pytest.raises(FablessError, match=r"over the 858 mm2 reticle limit: split it over \d+ compute dies"):
        die_area(blocks_from_chip(huge), load_ppa_data().area)


def test_chiplets_bring_an_over_reticle_design_under_the_limit():
    chip = load_chip("fab1")
    huge = chip.model_copy(update={"cores": chip.cores * 3})
    data = load_ppa_data()
    split = die_area(blocks_from_chip(huge, compute_dies=2, io_dies=2, io_node="N7"), data.area)
    assert split.compute_die_mm2 < 858 and split.io_die_mm2 < 858
    mono = die_area(blocks_from_chip(huge), data.area, check_reticle=False)
    assert split.d2d_mm2 > 0 and mono.d2d_mm2 == 0
    # the core logic is the same silicon, split two ways; the PHYs moved to the I/O dies
    assert split.sram_mm2 == pytest.approx(mono.sram_mm2)
    assert split.compute_die_mm2 < mono.compute_die_mm2 / 2


def test_unknown_process_node_is_a_one_line_error_naming_the_fix():
    chip = load_chip("fab1").model_copy(update={"process_node": "N1"})
    with pytest.raises(FablessError, match=r"^process node N1 has no logic_mtr_per_mm2 data \(known: .*N3.*\): "
                                           r"add it with --set logic_mtr_per_mm2.N1="):
        die_area(blocks_from_chip(chip), load_ppa_data().area)


def test_serving_power_follows_the_perf_models_utilisation():
    data = load_ppa_data(["full_load.sram=0.5", "full_load.vector=0.2"])
    use = serving_utilisation("bf16", 0.4, 1.3, data.power)
    assert (use.matrix, use.sram, use.vector, use.memory, use.links) == pytest.approx((0.4, 0.2, 0.08, 1.0, 0.0))
    blocks = small_chip()
    area = die_area(blocks, data.area)
    idle = power_at(blocks, area, data.power, serving_utilisation("bf16", 0.0, 0.0, data.power))
    assert idle.total_w == pytest.approx(idle.leakage_w)
