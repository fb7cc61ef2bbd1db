"""Every shipped chip preset loads, cites a dated source for every number, and
recomputes the vendor's headline peaks from its fields."""

import re

import pytest

from fabless.chip import ChipSpec, load_chip, preset_names

PRESETS = preset_names()

# Self-evident identity fields; every other field is a number or claim that needs a source.
UNSOURCED = {"name", "display_name", "vendor", "family", "sources", "notes"}

# Hand-copied datasheet headlines per chip: dense bf16 TFLOPS, dense 8-bit (dtype, T(FL)OPS),
# HBM TB/s and HBM capacity as the vendor states it (GB or GiB). Sparse figures halved.
HEADLINES: dict[str, tuple[float, tuple[str, float], float, float]] = {
    "h100": (989.4, ("fp8", 1979), 3.35, 80),  # NVIDIA H100 datasheet, 2023
    "h200": (989.4, ("fp8", 1979), 4.8, 141),  # NVIDIA H200 datasheet, 2024
    "b200": (2250, ("fp8", 4500), 8.0, 180),  # NVIDIA HGX/DGX B200 datasheets, 2025
    "mi300x": (1307.4, ("fp8", 2614.9), 5.3, 192),  # AMD MI300X datasheet, 2023
    "mi325x": (1307.4, ("fp8", 2614.9), 6.0, 256),  # AMD MI325X datasheet, 2024
    "tpu-v5e": (197, ("int8", 394), 0.819, 16),  # Cloud TPU v5e docs, 2025
    "tpu-v5p": (459, ("int8", 918), 2.765, 95),  # Cloud TPU v5p docs, How to Scale Your Model, 2025
    "tpu-v6e": (918, ("int8", 1836), 1.64, 32),  # Cloud TPU v6e docs, 2025
    "tpu7x": (2307, ("fp8", 4614), 7.38, 192),  # Cloud TPU7x docs, 2025
    "trainium2": (667, ("fp8", 1299), 2.9, 96),  # AWS Neuron Trainium2 docs, 2025
    "gaudi3": (1835, ("fp8", 1835), 3.7, 128),  # Intel Gaudi 3 white paper, 2024
    "maia100": (800, ("int8", 1500), 1.8, 64),  # Microsoft, Inside Maia 100, Hot Chips 2024
}


def leaf_paths(tree: dict, prefix: str = "") -> list[str]:
    """Dotted paths of every non-empty leaf of a dumped spec."""
    paths: list[str] = []
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            paths.extend(leaf_paths(value, path + "."))
        elif value is not None:
            paths.append(path)
    return paths


def source_for(chip: ChipSpec, path: str) -> str | None:
    """The source of `path`: its own entry or that of the nearest enclosing table."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        source = chip.sources.get(".".join(parts[:end]))
        if source is not None:
            return source
    return None


def test_the_issue_s_presets_all_ship():
    expected = {"h100", "h200", "b200", "mi300x", "mi325x", "tpu-v5e", "tpu-v5p", "tpu-v6e",
                "tpu7x", "trainium2", "gaudi3", "maia100", "fab1"}
    assert expected <= set(PRESETS)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_under_its_file_name(name: str):
    assert load_chip(name).name == name


@pytest.mark.parametrize("name", PRESETS)
def test_every_number_has_a_dated_source(name: str):
    chip = load_chip(name)
    missing, undated = [], []
    for path in leaf_paths(chip.model_dump(exclude=UNSOURCED)):
        source = source_for(chip, path)
        if source is None:
            missing.append(path)
        elif not re.search(r"\b20\d\d\b", source):
            undated.append(path)
    assert not missing, f"{name}: no [sources] entry for {missing}"
    assert not undated, f"{name}: sources without a year for {undated}"


@pytest.mark.parametrize("name", PRESETS)
def test_every_source_key_names_a_real_field(name: str):
    chip = load_chip(name)
    dumped = chip.model_dump(exclude=UNSOURCED)
    for key in chip.sources:
        node: object = dumped
        for part in key.split("."):
            assert isinstance(node, dict) and part in node, f"{name}: [sources] key {key!r} is no field"
            node = node[part]


@pytest.mark.parametrize("name", sorted(HEADLINES))
def test_peaks_from_the_fields_match_the_datasheet(name: str):
    chip = load_chip(name)
    bf16_tflops, (dtype8, tops8), hbm_tb_s, hbm_capacity = HEADLINES[name]
    assert chip.peak_matrix_ops_per_s("bf16") / 1e12 == pytest.approx(bf16_tflops, rel=0.02)
    assert chip.peak_matrix_ops_per_s(dtype8) / 1e12 == pytest.approx(tops8, rel=0.02)
    assert chip.hbm.bytes_per_s / 1e12 == pytest.approx(hbm_tb_s, rel=0.02)
    assert chip.hbm.capacity_gib == pytest.approx(hbm_capacity, rel=0.02)


@pytest.mark.parametrize("name", [n for n in PRESETS if load_chip(n).family == "systolic"])
def test_systolic_units_do_one_bf16_mac_per_pe_per_cycle(name: str):
    matrix = load_chip(name).core.matrix
    assert matrix.ops_per_cycle["bf16"] == 2 * matrix.rows * matrix.cols
    assert matrix.accumulator_kib is not None


@pytest.mark.parametrize(
    ("name", "dtype", "supported"),
    [("tpu-v5e", "int8", True), ("tpu-v5e", "fp8", False), ("tpu7x", "fp8", True),
     ("tpu-v6e", "int4", True), ("trainium2", "int8", False), ("b200", "fp8", True)],
)
def test_dtype_support_follows_the_datasheets(name: str, dtype: str, supported: bool):
    assert load_chip(name).supports(dtype) is supported


@pytest.mark.parametrize(
    ("name", "gb_s_each_way"),
    # NVLink 4: 900 GB/s bidirectional; NVLink 5: 1.8 TB/s; Infinity Fabric 7 x 128 GB/s bidi;
    # ICI v5e 400 GB/s bidi, v5p 1200, v6e 800 (Google docs).
    [("h100", 450), ("h200", 450), ("b200", 900), ("mi300x", 448),
     ("tpu-v5e", 200), ("tpu-v5p", 600), ("tpu-v6e", 400)],
)
def test_link_bandwidth_matches_the_published_per_chip_total(name: str, gb_s_each_way: float):
    assert load_chip(name).links.bytes_per_s_per_direction / 1e9 == pytest.approx(gb_s_each_way, rel=0.02)
