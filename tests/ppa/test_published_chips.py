"""The area and power models land near published chips' die area and TDP (the issue's bar)."""

from fabless.ppa import load_ppa_data, published_chips, validate


def test_validation_file_describes_the_six_chips_with_sources():
    keys = [chip.key for chip in published_chips()]
    assert keys == ["h100", "tpu-v4", "mtia-v2", "maia-100", "gaudi-3", "groq-tsp"]
    for chip in published_chips():
        assert chip.sources and chip.miss and chip.role in ("calibration", "held-out")


def test_area_within_25_percent_and_tdp_within_30_percent_for_at_least_four():
    rows = validate(load_ppa_data())
    area_ok = [row.chip.key for row in rows if row.area_error is not None and abs(row.area_error) <= 0.25]
    tdp_ok = [row.chip.key for row in rows if abs(row.tdp_error) <= 0.30]
    assert len(area_ok) >= 4, area_ok
    assert len(tdp_ok) >= 4, tdp_ok


def test_validation_follows_the_data():
    base = {row.chip.key: row for row in validate(load_ppa_data())}
    denser = {row.chip.key: row for row in validate(load_ppa_data(["sram_macro_efficiency=0.9"]))}
    assert denser["groq-tsp"].modelled_die_area_mm2 < base["groq-tsp"].modelled_die_area_mm2
