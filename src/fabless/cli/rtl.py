"""`fabless rtl generate|synth|sim`: the compute core's RTL, its synthesis and simulation."""

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from fabless.cli import options
from fabless.cli.app import app
from fabless.cli.console import console, print_table
from fabless.cli.paths import BUILD, naming
from fabless.cli.progress import progress
from fabless.errors import FablessError

if TYPE_CHECKING:
    from fabless.isa import Program
    from fabless.rtl.config import RtlConfig
    from fabless.rtl.image import CoreImage
    from fabless.rtl.pe import PeFault

_OUT = typer.Option(
    BUILD / "rtl", "--out", help="Folder for fabless_core.v (created if missing; its parent must exist)."
)
_PROGRAM = typer.Option(
    None, "--program", help="Program: assembler text (.s) or a binary FABLPRG1 file; one mxu0 stream."
)
_RANDOM = options.count(16, "--random", "Without --program: random instructions.", high=100_000)
_SEED = options.count(0, "--seed", "Seed of the random program and scratchpad.", low=0, high=options.MAX_SEED)
_SPAD = typer.Option(None, "--spad", help="Raw bytes loaded at scratchpad address 0 (the rest stays 0xFF).")
_ENGINE = typer.Option("verilator", "--engine", help="verilator, or pysim (Amaranth; small arrays).")
_FAULT = typer.Option(
    None, "--fault", help="row,col,bit: flip that bit of one PE's product, to see co-verification catch it."
)
_CACHE = typer.Option(None, "--cache", help="Verilator build cache (default ~/.cache/fabless/rtl).")

rtl_app = typer.Typer(help="Generate, synthesise and simulate the compute core's RTL.", no_args_is_help=True)
app.add_typer(rtl_app, name="rtl")


@rtl_app.command("generate")
def generate(
    chip: str = options.CHIP,
    out: Path = _OUT,
) -> None:
    """Write the Verilog of one core of the chip (MXU, accumulator, scratchpad, controller)."""
    from fabless.chip import load_chip
    from fabless.files import check_output_path, output_directory
    from fabless.rtl.config import RtlConfig, rate_note
    from fabless.rtl.verilog import TOP_MODULE, VERILOG, generate_verilog, save_verilog

    spec = load_chip(chip)
    what = VERILOG
    # Fail now on a file where the folder should be, a read-only folder or a missing parent;
    # the folder itself is made only once there is Verilog to put in it.
    with naming("--out"):
        if out.exists():
            output_directory(out, what)
            check_output_path(out / f"{TOP_MODULE}.v", what)
        else:
            check_output_path(out, what)
    started = time.perf_counter()
    with progress(f"generating the {spec.core.matrix.rows}x{spec.core.matrix.cols} core of {spec.name}"):
        text = generate_verilog(RtlConfig.from_chip(spec), spec.name)
    path = save_verilog(text, out)
    modules = text.count("\nmodule ") + text.startswith("module ")
    out_console = console()
    out_console.print(
        f"wrote {path} ({len(text) / 1e6:.1f} MB, {modules} modules) for {spec.name}: "
        f"{spec.core.matrix.rows}x{spec.core.matrix.cols} MXU in {time.perf_counter() - started:.1f} s",
        markup=False,
    )
    note = rate_note(spec)
    if note:
        out_console.print(note, markup=False)


@rtl_app.command("synth")
def synth(chip: str = options.CHIP, as_json: bool = options.JSON) -> None:
    """Synthesise the core with Yosys: cells, flip-flops and a per-PE breakdown."""
    from fabless.chip import load_chip
    from fabless.rtl.config import RtlConfig
    from fabless.rtl.synth import synthesize

    spec = load_chip(chip)
    with progress(f"synthesising the core of {spec.name} with Yosys"):
        report = synthesize(RtlConfig.from_chip(spec), spec.name)
    pe = report.pe
    if as_json:
        print(json.dumps({
            "chip": spec.name, "rows": report.rows, "cols": report.cols,
            "cells": report.cells, "flops": report.flops,
            "pe_cells": pe.cells, "pe_flops": pe.flops, "pes": pe.instances,
            "array_share": report.array_share, "sram_bits": report.sram_bits,
            "modules": [{"name": m.name, "instances": m.instances, "cells": m.cells, "flops": m.flops}
                        for m in report.modules if m.cells],
        }, indent=2))
        return
    table = Table(title=f"{spec.name}: one {report.rows}x{report.cols} int8 core, Yosys generic cells")
    for column in ("module", "instances", "cells each", "flops each", "cells total", "share"):
        table.add_column(column, justify="left" if column == "module" else "right")
    for module in report.modules:
        if module.cells:
            total = module.cells * module.instances
            name = module.name.removeprefix("fabless_core.").replace("fabless_core", "glue")
            table.add_row(name, str(module.instances), f"{module.cells:,}", f"{module.flops:,}",
                          f"{total:,}", f"{total / report.cells:.1%}")
    out = console()
    print_table(out, table)
    out.print(
        f"total {report.cells:,} cells, {report.flops:,} flip-flops; per PE {pe.cells:,} cells "
        f"({pe.flops} flip-flops), PEs {report.array_share:.1%} of the logic; SRAM macros: "
        + ", ".join(f"{name} {bits / 8192:g} KiB" for name, bits in report.sram_bits.items())
    )


@rtl_app.command("sim")
def sim(
    chip: str = options.CHIP,
    program: Path | None = _PROGRAM,
    random_length: int = _RANDOM,
    seed: int = _SEED,
    spad: Path | None = _SPAD,
    engine: str = _ENGINE,
    fault: str | None = _FAULT,
    cache: Path | None = _CACHE,
    as_json: bool = options.JSON,
) -> None:
    """Run a program on the RTL, check it bit for bit against the functional simulator, print cycles."""
    from fabless.chip import load_chip
    from fabless.rtl.config import RtlConfig
    from fabless.rtl.cosim import cosimulate, cyclesim_cycles
    from fabless.rtl.cycles import analytical_cycles, cyclesim_tolerance, overhead_bound
    from fabless.rtl.program import core_stream
    from fabless.rtl.randprog import numpy_draw, random_image, random_program

    spec = load_chip(chip)
    config = RtlConfig.from_chip(spec, fault=_fault(fault))
    code_program = _load_program(program) if program else random_program(config, numpy_draw(seed), random_length)
    image = _image(config, spad) if spad else random_image(config, seed)
    with progress(f"building the {engine} model of the core"):
        runner = _runner(config, engine, spec.name, cache)
    with progress("co-simulating the RTL against fabless.funcsim"):
        result = cosimulate(spec, code_program, image, runner)
    code = core_stream(code_program)
    model = analytical_cycles(config, code)
    timed = cyclesim_cycles(spec, code_program)
    record = {
        "chip": spec.name, "engine": engine, "instructions": len(code),
        "rtl_cycles": result.rtl.cycles, "analytical_cycles": model,
        "overhead_bound": overhead_bound(config, code),
        "cyclesim_cycles": timed, "cyclesim_tolerance": cyclesim_tolerance(config, code),
        "bit_exact": result.exact, "mismatches": list(result.mismatches),
    }
    if as_json:
        print(json.dumps(record, indent=2))
    else:
        out = console()
        out.print(
            f"{spec.name} {config.rows}x{config.cols} on {engine}: {len(code)} instructions, "
            f"{result.rtl.cycles:,} cycles (analytical {model:,}, RTL control overhead "
            f"{result.rtl.cycles - model:,}, bound {record['overhead_bound']:,})"
        )
        out.print(
            f"cycle simulator: {timed:,.0f} cycles (RTL - cyclesim {result.rtl.cycles - timed:+,.0f}, "
            f"tolerance +-{record['cyclesim_tolerance']:,})"
        )
        out.print("bit-exact against fabless.funcsim" if result.exact else "MISMATCH against fabless.funcsim:")
        for line in result.mismatches:
            out.print(f"  {line}", markup=False)
    if not result.exact:
        raise SystemExit(1)


def _fault(text: str | None) -> "PeFault | None":
    from fabless.rtl.pe import PeFault

    if text is None:
        return None
    parts = text.split(",")
    if len(parts) != 3 or not all(part.strip().isdigit() for part in parts):
        raise FablessError(f"--fault takes row,col,bit, e.g. 2,3,0 (got {text!r})")
    row, col, bit = (int(part) for part in parts)
    return PeFault(row, col, bit)


def _load_program(path: Path) -> "Program":
    from fabless.isa import assemble, decode_program

    if not path.is_file():
        raise FablessError(f"program file {path} does not exist")
    data = path.read_bytes()
    if data.startswith(b"FABLPRG1"):
        return decode_program(data, origin=str(path))
    try:
        return assemble(data.decode(), origin=str(path))
    except UnicodeDecodeError:
        raise FablessError(f"{path} is neither assembler text nor a FABLPRG1 program file") from None


def _image(config: "RtlConfig", path: Path) -> "CoreImage":
    import numpy as np

    from fabless.rtl.image import CoreImage

    if not path.is_file():
        raise FablessError(f"scratchpad file {path} does not exist")
    data = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    if data.size > config.spad_bytes:
        raise FablessError(f"{path} has {data.size} bytes, more than the {config.spad_bytes}-byte scratchpad")
    blank = CoreImage.blank(config)
    blank.spad[: data.size] = data
    return blank


def _runner(config: "RtlConfig", engine: str, chip_name: str, cache: Path | None):  # type: ignore[no-untyped-def]
    from fabless.rtl.pysim import run_pysim
    from fabless.rtl.verilator import build_verilator

    if engine == "pysim":
        return lambda words, image: run_pysim(config, words, image)
    if engine != "verilator":
        raise FablessError(f"--engine must be verilator or pysim (got {engine!r})")
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    model = build_verilator(config, cache or base / "fabless" / "rtl", chip_name)
    return model.run
