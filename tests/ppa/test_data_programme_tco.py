"""PPA data sources and overrides, programme cost and TCO arithmetic by hand."""

import pytest

from fabless.errors import FablessError
from fabless.ppa import (
    break_even_volume,
    data_leaves,
    load_ppa_data,
    owned_chip_hour,
    programme_cost,
    rented_chip_hour,
    usd_per_mtoken,
)


def test_every_shipped_number_has_a_dated_source():
    data = load_ppa_data()
    for path, _ in data_leaves(data):
        source = data.source(path)
        assert len(source) > 20, path
        assert any(year in source for year in ("19", "20")), f"{path}: {source}"


def test_set_override_changes_the_value_and_its_source():
    data = load_ppa_data(["wafer_price_usd.N3=20000", "yield_model=murphy"])
    assert data.cost.wafer_price_usd["N3"] == 20000.0
    assert data.cost.yield_model == "murphy"
    assert data.source("wafer_price_usd.N3") == "user override --set wafer_price_usd.N3=20000"
    assert "CSET" in data.source("wafer_price_usd.N5")


def test_override_file_is_merged(tmp_path):
    file = tmp_path / "mine.toml"
    file.write_text("pue = 1.1\n[mask_set_usd]\nN3 = 1.0e7\n")
    data = load_ppa_data(override_files=[file])
    assert data.tco.pue == 1.1 and data.programme.mask_set_usd["N3"] == 1e7
    assert data.programme.mask_set_usd["N5"] == 30e6
    assert data.source("pue") == f"override file {file}"


@pytest.mark.parametrize(("item", "message"), [
    ("wafer_price=1", r"unknown PPA data key 'wafer_price'"),
    ("wafer_price_usd", r"is not KEY=VALUE"),
    ("pue=0.5", r"PPA data pue: Input should be greater than or equal to 1"),
    ("wafer_price_usd=3", r"wafer_price_usd is a table: set one of its entries"),
])
def test_bad_overrides_are_one_line_errors(item: str, message: str):
    with pytest.raises(FablessError, match=message):
        load_ppa_data([item])


def test_programme_cost_by_hand():
    data = load_ppa_data(["design_engineers=100", "design_years=2", "engineer_usd_per_year=300000",
                          "software_engineers=50", "software_years=2", "respin_probability=0.5",
                          "respin_engineering_usd=1e7", "respin_delay_months=4",
                          "delay_cost_usd_per_month=5e6", "mask_set_usd.N3=4e7"]).programme
    cost = programme_cost(["N3"], data)
    assert cost.mask_set_usd == 4e7
    assert cost.design_team_usd == 100 * 2 * 300_000
    assert cost.software_usd == 50 * 2 * 300_000
    assert cost.respin_risk_usd == 0.5 * (4e7 + 1e7 + 4 * 5e6)
    assert cost.ip_licences_usd == sum(data.ip_licence_usd.values())
    assert cost.total_usd == pytest.approx(sum(cost.parts_usd().values()))


def test_chiplets_pay_a_mask_set_per_node():
    data = load_ppa_data().programme
    assert programme_cost(["N3", "N7"], data).mask_set_usd == data.mask_set_usd["N3"] + data.mask_set_usd["N7"]


def test_owned_chip_hour_by_hand():
    data = load_ppa_data(["lifetime_years=4", "host_system_usd_per_chip=6000", "average_power_fraction=0.5",
                          "pue=1.2", "usd_per_kwh=0.1", "hosting_usd_per_kw_month=100"]).tco
    hour = owned_chip_hour(29_040.0, 1000.0, data)
    assert hour.capex_usd == pytest.approx(35_040 / (4 * 8760))
    assert hour.power_usd == pytest.approx(0.5 * 1.2 * 0.1)
    assert hour.hosting_usd == pytest.approx(1.0 * 100 * 12 / 8760)
    assert rented_chip_hour(2.5).total_usd == 2.5


def test_usd_per_mtoken_by_hand():
    # 2 chips at $3/h serving 1000 tokens/s: $6 per 3.6M tokens
    assert usd_per_mtoken(3.0, 2, 1000.0) == pytest.approx(6 / 3.6)
    with pytest.raises(FablessError, match="tokens per second must be positive"):
        usd_per_mtoken(3.0, 1, 0.0)


def test_break_even_volume_makes_build_and_rival_cost_the_same():
    data = load_ppa_data().tco
    nre, manufacturing, tdp, tokens_per_s = 4e8, 5000.0, 800.0, 2000.0
    rival = 0.5  # $/Mtoken
    volume = break_even_volume(nre, manufacturing, tdp, 1, tokens_per_s, rival, data)
    assert volume is not None
    built = owned_chip_hour(manufacturing + nre / volume, tdp, data).total_usd
    assert usd_per_mtoken(built, 1, tokens_per_s) == pytest.approx(rival)
    assert break_even_volume(nre, manufacturing, tdp, 1, tokens_per_s, 0.01, data) is None


@pytest.mark.parametrize(("item", "message"), [
    ("wafer_price_usd.N3=-1", "PPA data wafer_price_usd.N3: Input should be greater than 0 (got -1), "
                              "from user override --set wafer_price_usd.N3=-1"),
    ("wafer_price_usd.N3=nan", "PPA data wafer_price_usd.N3: Input should be a finite number (got nan)"),
    ("pue=inf", "PPA data pue: Input should be a finite number (got inf)"),
    ("assembly_yield=1.5", "PPA data assembly_yield: Input should be less than or equal to 1 (got 1.5)"),
    ("respin_probability=-0.1", "PPA data respin_probability: Input should be greater than or equal to 0"),
    ("defect_density_per_cm2.N3=1e300",
     "PPA data defect_density_per_cm2.N3: Input should be less than or equal to 100 (got 1e+300)"),
    ("logic_mtr_per_mm2.N3=0", "PPA data logic_mtr_per_mm2.N3: Input should be greater than 0 (got 0)"),
    ("full_load.matrix=2", "PPA data full_load.matrix: Input should be less than or equal to 1 (got 2)"),
    ("pue=\"1.2\"", "PPA data pue: Input should be a valid number (got '1.2')"),
    ("pue=true", "--set pue=true: pue must be a number or a word (got True)"),
    ("io_die_node=7", "PPA data io_die_node: Input should be a valid string (got 7)"),
    ("edge_exclusion_mm=150", "PPA data edge_exclusion_mm: leaves nothing of a 300 mm wafer: keep it under half "
                              "wafer_diameter_mm (got 150), from user override --set edge_exclusion_mm=150"),
    ("pue=1\nlifetime_years=0", "holds control characters: write one KEY=VALUE on one line"),
])
def test_impossible_overrides_are_refused_naming_the_key(item: str, message: str):
    with pytest.raises(FablessError) as raised:
        load_ppa_data([item])
    assert message in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize("value", ["9" * 5000, "[" * 5000, "1" + "0" * 400])
def test_a_huge_override_is_a_short_one_line_error(value: str):
    with pytest.raises(FablessError) as raised:
        load_ppa_data([f"pue={value}"])
    message = str(raised.value)
    assert "pue" in message and "\n" not in message and len(message) < 400


@pytest.mark.parametrize(("content", "message"), [
    (b"pue = nan\n", "PPA data pue: Input should be a finite number (got nan), from override file"),
    (b"[wafer_price_usd]\nN3 = -5.0\n", "PPA data wafer_price_usd.N3: Input should be greater than 0"),
    (b'[pue]\n"x\\ny" = 1\n', r"key 'pue.x\ny' holds control characters"),
    (b"\xff\xfe", "not UTF-8 text (byte 0 is 0xff)"),
    (b"x = " + b"[" * 5000, "nested too deeply to be a real file"),
    (b"#" * (2**20 + 1), "is larger than 1 MiB, too large for a TOML file of PPA values"),
])
def test_a_bad_override_file_is_a_one_line_error_naming_it(tmp_path, content: bytes, message: str):
    file = tmp_path / "mine.toml"
    file.write_bytes(content)
    with pytest.raises(FablessError) as raised:
        load_ppa_data(override_files=[file])
    assert message in str(raised.value) and str(file) in str(raised.value) and "\n" not in str(raised.value)


def test_a_missing_override_file_says_so(tmp_path):
    with pytest.raises(FablessError, match=r"nope.toml does not exist: pass the path of a TOML file of PPA values"):
        load_ppa_data(override_files=[tmp_path / "nope.toml"])
