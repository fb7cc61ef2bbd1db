"""`fabless cost` and `fabless tco`: what a chip costs to build, and what a token costs on it."""

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from fabless.cli import options
from fabless.cli.app import app
from fabless.cli.console import console, print_table
from fabless.cli.paths import prepare_output
from fabless.cli.progress import progress

if TYPE_CHECKING:
    from fabless.ppa import CostStudy, TcoStudy

MAX_VOLUME = 10**10

SET = typer.Option([], "--set", help="Override a PPA data value, e.g. --set wafer_price_usd.N3=20000 (repeatable).")
DATA = typer.Option([], "--data", help="TOML file of PPA data overrides (repeatable).")
VOLUME = options.count(100_000, "--volume", "Chips built, over which the programme cost is spread.", high=MAX_VOLUME)
PLOT = typer.Option(None, "--plot", help="Write a breakdown chart to this .png (or .svg/.pdf).")


@app.command("cost")
def cost(
    chip: str = options.CHIP,
    volume: int = VOLUME,
    compute_dies: int | None = options.count(None, "--compute-dies", "Split the compute over this many dies.", high=64),
    io_dies: int = options.count(0, "--io-dies", "Move memory and link PHYs onto this many I/O dies.", low=0, high=64),
    overrides: list[str] = SET,
    data_files: list[Path] = DATA,
    as_json: bool = options.JSON,
    plot: Path | None = PLOT,
) -> None:
    """Die area, yield, unit cost and programme cost of building a chip, with breakdowns."""
    from fabless.chip import load_chip
    from fabless.ppa import cost_study, load_ppa_data

    if plot is not None:
        prepare_output(plot, "the cost chart", "--plot")
    data = load_ppa_data(overrides, data_files)
    with progress("pricing area, yield and the volume curve"):
        study = cost_study(load_chip(chip), data, volume, compute_dies=compute_dies, io_dies=io_dies)
    if plot is not None:
        from fabless.ppa.plot import plot_cost

        with progress(f"drawing {plot}"):
            plot_cost(study, plot)
    if as_json:
        print(json.dumps(study.to_dict(), indent=2))
        return
    _print_cost(study)


@app.command("tco")
def tco(
    model: str = options.MODEL,
    chips: str = typer.Option(
        ..., "--chips", help="Comma-separated chips: the first is built, the rest bought or rented."
    ),
    weights: str = options.WEIGHTS,
    batch: int = options.count(64, "--batch", "Requests decoded together.", high=options.MAX_BATCH),
    input_len: int = options.count(1024, "--input", "Prompt tokens per request."),
    output_len: int = options.count(256, "--output", "Generated tokens per request."),
    input_alias: int | None = options.hidden_alias("--input-len", high=options.MAX_TOKENS),
    output_alias: int | None = options.hidden_alias("--output-len", high=options.MAX_TOKENS),
    volume: int = VOLUME,
    overrides: list[str] = SET,
    data_files: list[Path] = DATA,
    as_json: bool = options.JSON,
    plot: Path | None = PLOT,
) -> None:
    """$/Mtoken of building the first chip versus buying or renting the others, and break-even volume."""
    from fabless.chip import load_chips
    from fabless.model import Precision, load_model_config
    from fabless.ppa import Workload, load_ppa_data, tco_study

    if plot is not None:
        prepare_output(plot, "the TCO chart", "--plot")
    data = load_ppa_data(overrides, data_files)
    specs = load_chips(chips)
    workload = Workload(config=load_model_config(model), precision=Precision.from_options(weights),
                        batch=batch, input_len=options.alias(input_len, input_alias),
                        output_len=options.alias(output_len, output_alias))
    with progress(f"pricing {len(specs)} chips over their lifetime"):
        study = tco_study(specs[0], specs[1:], workload, data, volume)
    if plot is not None:
        from fabless.ppa.plot import plot_tco

        with progress(f"drawing {plot}"):
            plot_tco(study, plot)
    if as_json:
        print(json.dumps(study.to_dict(), indent=2))
        return
    _print_tco(study)


def _print_cost(study: "CostStudy") -> None:
    out = console()
    area, unit, programme = study.area, study.unit, study.programme
    out.print(f"{study.chip.display_name}: {study.blocks.node}, {unit.volume:,} chips; per chip unless stated",
              style="bold", markup=False)
    table = Table(title=f"Silicon area of one {study.chip.name}")
    table.add_column("block")
    table.add_column("mm2", justify="right")
    for block, mm2 in area.blocks_mm2().items():
        table.add_row(block, f"{mm2:,.1f}")
    table.add_row("compute die", f"{area.compute_die_mm2:,.1f} x {area.compute_dies}")
    if area.io_dies:
        table.add_row("I/O die", f"{area.io_die_mm2:,.1f} x {area.io_dies}")
    table.add_row("described die", f"{study.chip.die_area_mm2:,.1f} x {study.chip.dies}")
    print_table(out, table)

    dies = Table(title=f"Dies and yield ({unit.dies[0].yield_model} yield model)")
    for column in ("die", "node", "mm2", "gross/wafer", "D0/cm2", "yield", "good/wafer", "wafer USD",
                   "USD/good die"):
        dies.add_column(column, justify="left" if column in ("die", "node") else "right")
    for die in unit.dies:
        dies.add_row(die.kind, die.node, f"{die.area_mm2:,.1f}", f"{die.gross_per_wafer:,}",
                     f"{die.defects_per_cm2:g}", f"{die.yield_fraction:.1%}", f"{die.good_per_wafer:,.1f}",
                     f"{die.wafer_usd:,.0f}", f"{die.usd_per_good_die:,.0f}")
    print_table(out, dies)

    money = Table(title="Unit cost and programme cost (USD)")
    money.add_column("unit cost part")
    money.add_column("USD/chip", justify="right")
    money.add_column("programme part")
    money.add_column("USD", justify="right")
    unit_parts = list(unit.parts_usd().items()) + [("manufacturing", unit.manufacturing_usd), ("total", unit.total_usd)]
    prog_parts = list(programme.parts_usd().items()) + [("total", programme.total_usd)]
    for index in range(max(len(unit_parts), len(prog_parts))):
        left = unit_parts[index] if index < len(unit_parts) else ("", None)
        right = prog_parts[index] if index < len(prog_parts) else ("", None)
        money.add_row(left[0], "" if left[1] is None else f"{left[1]:,.0f}",
                      right[0], "" if right[1] is None else f"{right[1]:,.0f}")
    print_table(out, money)

    curve = Table(title="Unit cost vs volume (NRE amortised)")
    curve.add_column("chips built", justify="right")
    curve.add_column("USD/chip", justify="right")
    for volume in study.volume_points():
        curve.add_row(f"{volume:,}", f"{study.unit_cost_at(volume):,.0f}")
    print_table(out, curve)

    power = Table(title=f"TDP at full load ({study.tdp_dtype})")
    power.add_column("consumer")
    power.add_column("W", justify="right")
    for consumer, watts in study.tdp.blocks_w().items():
        power.add_row(consumer, f"{watts:,.1f}")
    power.add_row("total", f"{study.tdp.total_w:,.1f}")
    power.add_row("described TDP", f"{study.chip.tdp_w:,.1f}")
    print_table(out, power)


def _print_tco(study: "TcoStudy") -> None:
    work = study.workload
    out = console()
    table = Table(title=f"{work.config.name}, weights {work.precision.weights}, batch {work.batch}, "
                  f"{work.input_len} in / {work.output_len} out; building {study.build.chip.name} "
                  f"at {study.build.unit.volume:,} chips; break-even = {study.build.chip.name} chips to build; "
                  "tokens/s per deployment of the chips listed")
    for column in ("chip", "option", "chips", "tokens/s", "capex USD", "USD/chip-h", "USD/Mtoken", "break-even"):
        table.add_column(column, justify="left" if column in ("chip", "option") else "right")
    for row in study.rows:
        if row.option == "build":
            even = "-"
        elif row.break_even_volume is None:
            even = "never"
        else:
            even = f"{row.break_even_volume:,.0f}"
        table.add_row(row.chip, row.option, str(row.chips), f"{row.tokens_per_s:,.0f}",
                      "-" if row.capex_usd is None else f"{row.capex_usd:,.0f}",
                      f"{row.chip_hour.total_usd:,.2f}", f"{row.usd_per_mtoken:,.3f}", even)
    print_table(out, table)
    use, power = study.decode_use, study.decode_power
    out.print(f"{study.build.chip.name} decode step at mean context: matrix {use.matrix:.0%} and HBM "
                  f"{use.memory:.0%} of peak -> {power.total_w:,.0f} W modelled; {study.build.tdp.total_w:,.0f} W "
                  f"at full load; electricity is charged on each chip's described TDP "
                  f"({study.build.chip.tdp_w:,.0f} W for {study.build.chip.name})")
    if study.unpriced:
        out.print(f"no purchase or rental price in the description of: {', '.join(study.unpriced)}")
