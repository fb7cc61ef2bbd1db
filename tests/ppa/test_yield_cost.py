"""Dies per wafer, yield and unit cost against hand-computed cases."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabless.chip import load_chip
from fabless.errors import FablessError
from fabless.ppa import cost_study, die_cost, die_yield, gross_dies_per_wafer, load_ppa_data


def test_gross_dies_300mm_wafer_100mm2_die_by_the_standard_formula():
    # pi * 300^2 / (4 * 100) - pi * 300 / sqrt(2 * 100) = 706.86 - 66.64 = 640.2
    assert gross_dies_per_wafer(100.0, 300.0) == 640


def test_gross_dies_with_edge_exclusion_and_scribe():
    # usable 294 mm, site (10 + 0.1)^2 = 102.01 mm2: 665.49 - 64.66 = 600.8
    assert gross_dies_per_wafer(100.0, 300.0, edge_exclusion_mm=3.0, scribe_mm=0.1) == 600


def test_gross_dies_of_a_reticle_sized_die():
    # 858 mm2: 82.39 - 22.75 = 59.6
    assert gross_dies_per_wafer(858.0, 300.0) == 59


def test_negative_binomial_yield_of_1cm2_at_0p1_defects_alpha_3():
    assert die_yield(100.0, 0.1, "negative_binomial", 3.0) == pytest.approx((1 + 0.1 / 3) ** -3)
    assert die_yield(100.0, 0.1, "negative_binomial", 3.0) == pytest.approx(0.906314, abs=1e-6)


def test_murphy_and_poisson_yield_of_1cm2_at_0p1_defects():
    assert die_yield(100.0, 0.1, "murphy") == pytest.approx(0.905592, abs=1e-6)
    assert die_yield(100.0, 0.1, "poisson") == pytest.approx(math.exp(-0.1))


def test_yield_is_one_without_defects_and_unknown_model_is_refused():
    assert die_yield(600.0, 0.0) == 1.0
    with pytest.raises(FablessError, match="unknown yield model 'bose'"):
        die_yield(100.0, 0.1, "bose")


def test_die_cost_is_wafer_price_over_good_dies_plus_sort():
    data = load_ppa_data(["defect_density_per_cm2.N5=0.1", "clustering_alpha=3", "edge_exclusion_mm=0",
                          "scribe_mm=0", "wafer_price_usd.N5=16000", "wafer_sort_usd_per_die=20"]).cost
    die = die_cost("compute", "N5", 1, 100.0, data)
    assert die.gross_per_wafer == 640
    assert die.usd_per_good_die == pytest.approx(16000 / (640 * 0.906314) + 20, rel=1e-5)


@given(st.floats(20.0, 800.0), st.floats(1.0, 50.0))
def test_cost_per_good_die_grows_with_area(area_mm2: float, extra_mm2: float):
    data = load_ppa_data().cost
    smaller = die_cost("compute", "N3", 1, area_mm2, data).usd_per_good_die
    larger = die_cost("compute", "N3", 1, area_mm2 + extra_mm2, data).usd_per_good_die
    assert larger > smaller


@given(st.floats(1.0, 3.0))
def test_unit_cost_grows_with_sram(scale: float):
    chip = load_chip("fab1")
    data = load_ppa_data()
    bigger = chip.model_copy(update={"core": chip.core.model_copy(
        update={"sram": chip.core.sram.model_copy(update={"mib": chip.core.sram.mib * scale + 1})})})
    base = cost_study(chip, data, 100_000)
    grown = cost_study(bigger, data, 100_000)
    assert grown.area.compute_die_mm2 > base.area.compute_die_mm2
    assert grown.unit.total_usd > base.unit.total_usd


def test_nre_per_unit_is_programme_over_volume():
    study = cost_study(load_chip("fab1"), load_ppa_data(), 50_000)
    assert study.unit.nre_per_unit_usd == pytest.approx(study.programme.total_usd / 50_000)
    assert study.unit.total_usd == pytest.approx(study.unit.manufacturing_usd + study.unit.nre_per_unit_usd)


def test_zero_volume_is_a_one_line_error():
    with pytest.raises(FablessError, match=r"^volume must be at least 1 chip \(got 0\)"):
        cost_study(load_chip("fab1"), load_ppa_data(), 0)


def test_unit_cost_falls_with_volume_as_nre_spreads():
    study = cost_study(load_chip("fab1"), load_ppa_data(), 100_000)
    points = study.volume_points()
    assert points == [10_000, 100_000, 1_000_000]
    costs = [study.unit_cost_at(volume) for volume in points]
    assert costs[0] > costs[1] > costs[2] > study.unit.manufacturing_usd
    assert costs[1] == pytest.approx(study.unit.total_usd)


@pytest.mark.parametrize("overrides", [
    ["defect_density_per_cm2.N3=100", "yield_model=poisson"],
    ["defect_density_per_cm2.N3=100", "clustering_alpha=1000"],
])
def test_a_die_with_no_good_dies_is_an_error_not_an_infinite_price(overrides: list[str]):
    with pytest.raises(FablessError, match=r"^a [\d,]+ mm2 compute die at N3 yields .* good dies per wafer "
                                           r"\(100 defects/cm2, .*\), too few to price: lower "
                                           r"defect_density_per_cm2.N3 or split the die \(--compute-dies\)$"):
        cost_study(load_chip("fab1"), load_ppa_data(overrides), volume=1000)


def test_a_die_larger_than_the_wafer_is_an_error():
    with pytest.raises(FablessError, match=r"a [\d,]+ mm2 die does not fit on a 20 mm wafer"):
        cost_study(load_chip("fab1"), load_ppa_data(["wafer_diameter_mm=20", "edge_exclusion_mm=0"]), volume=1000)
