"""`fabless chip list|show`: the chip descriptions."""

import json

import typer
from rich.table import Table

from fabless.cli.app import app
from fabless.cli.console import console, print_table

chip_app = typer.Typer(help="List and show chip descriptions.", no_args_is_help=True)
app.add_typer(chip_app, name="chip")


@chip_app.command("list")
def list_chips(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the chip presets with their headline numbers."""
    from fabless.chip import load_chip, preset_names

    chips = [load_chip(name) for name in preset_names()]
    if as_json:
        rows = [
            {
                "name": c.name,
                "display_name": c.display_name,
                "family": c.family,
                "bf16_flops_per_s": c.peak_matrix_ops_per_s("bf16"),
                "hbm_bytes": c.hbm.capacity_bytes,
                "hbm_bytes_per_s": c.hbm.bytes_per_s,
                "tdp_w": c.tdp_w,
            }
            for c in chips
        ]
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="Chip presets (peak dense matrix rates per chip)")
    for column in ("name", "chip", "family", "node", "bf16 TFLOPS", "fp8 TFLOPS", "HBM GiB", "HBM TB/s", "TDP W"):
        table.add_column(column, justify="left" if column in ("name", "chip", "family", "node") else "right")
    for c in chips:
        fp8 = f"{c.peak_matrix_ops_per_s('fp8') / 1e12:,.0f}" if c.supports("fp8") else "-"
        table.add_row(
            c.name,
            c.display_name,
            c.family,
            c.process_node,
            f"{c.peak_matrix_ops_per_s('bf16') / 1e12:,.0f}",
            fp8,
            f"{c.hbm.capacity_gib:g}",
            f"{c.hbm.bandwidth_tb_s:g}",
            f"{c.tdp_w:g}",
        )
    print_table(console(), table)


@chip_app.command("show")
def show_chip(
    name: str = typer.Argument(..., help="Preset name or path to a chip .toml."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show every field of a chip description with its source."""
    from fabless.chip import load_chip

    chip = load_chip(name)
    if as_json:
        print(chip.model_dump_json(indent=2))
        return
    table = Table(title=f"{chip.display_name} ({chip.name}): every field, per chip")
    table.add_column("field")
    table.add_column("value", justify="right")
    table.add_column("source")
    for path, value in _leaves(chip.model_dump(exclude={"sources", "notes"})):
        table.add_row(path, str(value), chip.sources.get(path, chip.sources.get(path.rsplit(".", 1)[0], "")))
    out = console()
    print_table(out, table)
    if chip.notes:
        out.print(chip.notes.strip(), markup=False)


def _leaves(tree: dict, prefix: str = "") -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and key != "ops_per_cycle":
            out.extend(_leaves(value, path + "."))
        else:
            out.append((path, value))
    return out
