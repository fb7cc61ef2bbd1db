"""Space files: strict schema, one-line errors naming the field, derived fields consistent."""

import pytest

from fabless.chip import parse_chip
from fabless.errors import FablessError
from fabless.explore import build_design, default_ppa, hbm_stacks, load_space
from fabless.explore.chip_file import chip_toml

HEAD = 'base = "fab1"\nprefix = "t"\n[params]\n'


@pytest.mark.parametrize(("params", "message"), [
    ('cores = { low = 8, high = 4 }', "params.cores: empty range: low 8 is above high 4"),
    ('"core.matrix.depth" = { low = 1, high = 2 }', "params.core.matrix.depth: unknown field 'core.matrix.depth'"),
    ('die_area_mm2 = { low = 100, high = 200 }', "params.die_area_mm2: is derived (fabless.ppa's die area)"),
    ('"hbm.capacity_gib" = { low = 1, high = 2 }', "params.hbm.capacity_gib: is derived"),
    ('cores = { low = 1.5, high = 4 }', "params.cores: is a whole number"),
    ('cores = { low = 0, high = 4 }', "params.cores: value 0 gives no valid chip: cores: Input should be greater"),
    ('"hbm.generation" = { choices = ["HBM9"] }', "params.hbm.generation: value 'HBM9' gives no valid chip"),
    ('process_node = { low = 1, high = 2 }', "params.process_node: a text field takes choices"),
    ('cores = { low = 1, high = 4, extra = 1 }', "params.cores.extra: Extra inputs are not permitted"),
    ('clock_ghz = { low = 1.0, high = nan }', "params.clock_ghz.high"),
    ('clock_ghz = { low = 1.0, high = 2.0, step = 0.3 }', "is not a multiple of step"),
    ('"core.sram.mib" = { low = 16, high = 64, step = 1e300 }', "params.core.sram.mib: step 1e+300 is larger than"),
    ('"links.gb_s_per_direction" = { choices = [-1e-300, 100] }', "values must not be negative (got -1e-300)"),
    ('process_node = { choices = ["N3", "<script>x</script>"] }', "params.process_node: value '<script>x</script>'"),
])
def test_a_bad_space_is_one_line_naming_the_field(write, params, message):
    path = write("space.toml", HEAD + params + "\n")
    with pytest.raises(FablessError) as error:
        load_space(path)
    text = str(error.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text


def test_an_unknown_base_names_the_field(write):
    with pytest.raises(FablessError, match=r"space.toml: base: unknown chip 'fab9'"):
        load_space(write("space.toml", 'base = "fab9"\nprefix = "t"\n[params]\ncores = { choices = [4] }\n'))


def test_derived_fields_follow_the_searched_ones(shipped):
    space = load_space(shipped[0])
    params = {"hbm.generation": "HBM4", "hbm.stacks": 6, "core.matrix.rows": 256, "core.matrix.cols": 64,
              "core.vector.lanes": 4096, "dies": 2}
    design = build_design(space, params, "fab2-test", default_ppa())
    chip, cost = design.chip, design.cost
    stack = hbm_stacks()["HBM4"]
    assert chip.hbm.capacity_gib == pytest.approx(6 * stack.gib)
    assert chip.hbm.bandwidth_tb_s == pytest.approx(6 * stack.tb_s)
    # fab1: 128x128 PEs, bf16 32768 ops/cycle (one MAC per PE), int8 twice that, 16 KiB accumulator per column.
    assert chip.core.matrix.ops_per_cycle == {"int8": 65536, "fp8": 65536, "bf16": 32768, "fp32": 8192}
    assert chip.core.matrix.accumulator_kib == 64 * 16
    assert chip.core.vector.ops_per_cycle == 2 * 4096
    assert chip.die_area_mm2 == pytest.approx(cost.area.compute_die_mm2, rel=1e-5)
    assert chip.tdp_w == pytest.approx(cost.tdp.total_w, rel=1e-5)
    assert chip.price_usd == pytest.approx(cost.unit.total_usd, rel=1e-5)
    assert cost.area.compute_dies == chip.dies == 2


def test_a_generated_chip_file_parses_back_to_the_same_spec(shipped):
    design = build_design(load_space(shipped[0]), {"cores": 12, "clock_ghz": 1.7}, "fab2-t00001", default_ppa())
    assert parse_chip(chip_toml(design.chip), "generated") == design.chip


def test_a_base_file_that_is_not_there_names_the_space_and_field(write):
    with pytest.raises(FablessError, match=r"space.toml: base: .*nowhere/chip.toml does not exist"):
        load_space(write("space.toml", 'base = "nowhere/chip.toml"\nprefix = "t"\n[params]\ncores = { choices = [4] }'))
