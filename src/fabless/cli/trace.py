"""`fabless trace`: time a program cycle by cycle and write its Perfetto timeline."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fabless.chip import load_chip
from fabless.cli import options
from fabless.cli.app import app
from fabless.cyclesim import STALL_REASONS, CycleReport, simulate, write_trace
from fabless.errors import FablessError
from fabless.isa import Program, assemble, decode_program


@app.command("trace")
def trace(
    chip: str = options.CHIP,
    out: Annotated[Path, typer.Option("--out", help="Perfetto / Chrome trace JSON to write.")] = Path("trace.json"),
    program: Annotated[
        Path | None, typer.Option("--program", help="A program to time: assembler text (.s) or binary (.bin).")
    ] = None,
    weight_buffers: Annotated[int, typer.Option(
        "--weight-buffers", min=1, max=2,
        help="Weight tiles per MXU: 1 as the ISA defines, 2 to price a shadow tile loaded while the array streams.",
    )] = 1,
    per_unit: Annotated[bool, typer.Option("--per-unit", help="One row per unit instead of per kind.")] = False,
    as_json: bool = options.JSON,
) -> None:
    """Time a program on a chip cycle by cycle; write the timeline for ui.perfetto.dev."""
    if program is None:
        raise FablessError("nothing to trace: pass --program FILE (assembler .s or binary .bin)")
    spec = load_chip(chip)
    report = simulate(spec, _load_program(program), weight_buffers=weight_buffers)
    write_trace(report, out)
    if as_json:
        print(json.dumps(summary_record(report, str(out)), indent=2))
        return
    print_summary(report, f"{program.name} on {spec.display_name}", per_unit, Console())
    Console(stderr=True).print(f"wrote {out}: open it at https://ui.perfetto.dev")


def _load_program(path: Path) -> Program:
    if not path.is_file():
        raise FablessError(f"program {path} does not exist: pass an assembler (.s) or binary (.bin) file")
    data = path.read_bytes()
    if path.suffix == ".bin":
        return decode_program(data, origin=str(path))
    return assemble(data.decode(errors="replace"), origin=str(path))


def summary_record(report: CycleReport, trace_path: str | None = None) -> dict[str, object]:
    """The report as JSON-ready numbers (SI units), per unit kind."""
    return {
        "chip": report.chip,
        "trace": trace_path,
        "instructions": report.instructions,
        "cycles": report.cycles,
        "time_s": report.time_s,
        "matrix_flops": report.matrix_flops,
        "hbm_bytes": report.hbm_bytes,
        "flops_per_s": report.flops_per_s,
        "peak_flops_per_s": report.peak_flops_per_s,
        "hbm_bytes_per_s": report.hbm_bytes_per_s,
        "peak_hbm_bytes_per_s": report.peak_hbm_bytes_per_s,
        "roofline_time_s": report.roofline_time_s,
        "roofline_fraction": report.roofline_fraction,
        "bound": report.bound,
        "units": [
            {"name": u.name, "core": u.core, "unit": u.unit, "busy_cycles": u.busy_cycles,
             "stall_cycles": dict(u.stall_cycles), "idle_cycles": u.idle_cycles}
            for u in report.units
        ],
    }


def print_summary(report: CycleReport, title: str, per_unit: bool, console: Console) -> None:
    """Headline numbers, then where each unit's (or each kind of unit's) cycles went."""
    head = Table(title=title, show_header=False)
    head.add_column("what")
    head.add_column("value", justify="right")
    head.add_row("instructions", f"{report.instructions:,}")
    head.add_row("time", f"{report.cycles:,.0f} cycles = {report.time_s * 1e6:,.2f} us")
    if report.matrix_flops:
        head.add_row("matrix", f"{report.flops_per_s / 1e12:,.1f} TFLOP/s "
                               f"({report.mxu_utilization:.1%} of {report.peak_flops_per_s / 1e12:,.0f})")
    head.add_row("HBM", f"{report.hbm_bytes_per_s / 1e12:,.2f} TB/s "
                        f"({report.hbm_utilization:.1%} of {report.peak_hbm_bytes_per_s / 1e12:,.2f})")
    head.add_row("roofline", f"{report.roofline_fraction:.1%} of the {report.bound}-bound limit "
                             f"({report.roofline_time_s * 1e6:,.2f} us)")
    console.print(head)

    groups: dict[str, list] = {}
    for unit in report.units:
        groups.setdefault(unit.name if per_unit else unit.unit, []).append(unit)
    reasons = [r for r in STALL_REASONS if any(u.stall_cycles[r] for u in report.units)]
    table = Table(title="where the cycles went (share of the program's time, averaged over units)")
    for column in ("unit", "count", "busy", *reasons, "idle"):
        table.add_column(column, justify="left" if column == "unit" else "right", min_width=len(column))
    for name, units in groups.items():
        total = report.cycles * len(units) or 1.0

        def share(cycles: float, total: float = total) -> str:
            return f"{cycles / total:.1%}"

        table.add_row(
            name, str(len(units)), share(sum(u.busy_cycles for u in units)),
            *(share(sum(u.stall_cycles[r] for u in units)) for r in reasons),
            share(sum(u.idle_cycles for u in units)),
        )
    console.print(table)
