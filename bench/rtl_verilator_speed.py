"""Verilator simulation speed of the RTL core: simulated cycles per wall second.

Runs a random 64-instruction MXU program (gemms, matmuls, stores) on each array size,
repeated until the run lasts about a second, and prints a table. The bar is 100k
cycles/s for 32x32. Usage: python bench/rtl_verilator_speed.py [--sizes 8,16,32,64]
"""

import argparse
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fabless.chip import load_chip
from fabless.rtl.config import RtlConfig, with_array
from fabless.rtl.program import core_stream, encode_stream
from fabless.rtl.randprog import numpy_draw, random_image, random_program
from fabless.rtl.verilator import build_verilator, verilator_missing

BAR_CYCLES_PER_S = 100_000


def measure(size: int, cache: Path) -> tuple[float, int, float, float]:
    """(build seconds, cycles, run seconds, cycles per second) for a size x size core."""
    chip = with_array(load_chip("small-test"), size, size, spad_bytes=64 * size * size, acc_rows=128)
    config = RtlConfig.from_chip(chip)
    started = time.perf_counter()
    model = build_verilator(config, cache, chip.name)
    built = time.perf_counter() - started
    words = encode_stream(core_stream(random_program(config, numpy_draw(size), 64, max_m=128)))
    image = random_image(config, size)
    probe, seconds = model.timed_run(words, image)
    repeat = max(1, int(1.0 / max(seconds, 1e-6)))
    run, seconds = model.timed_run(words, image, repeat)
    return built, run.cycles, seconds, run.cycles / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="8,16,32", help="comma-separated square array sizes")
    parser.add_argument("--cache", type=Path, default=None, help="keep Verilator builds here")
    args = parser.parse_args()
    problem = verilator_missing()
    if problem:
        raise SystemExit(problem)
    table = Table(title="RTL core under Verilator (one thread)")
    for column in ("array", "build s", "cycles", "run s", "cycles/s", "PE-cycles/s", "bar"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as scratch:
        cache = args.cache or Path(scratch)
        for size in (int(s) for s in args.sizes.split(",")):
            built, cycles, seconds, rate = measure(size, cache)
            bar = ("pass" if rate >= BAR_CYCLES_PER_S else "FAIL") if size == 32 else ""
            table.add_row(f"{size}x{size}", f"{built:.1f}", f"{cycles:,}", f"{seconds:.2f}",
                          f"{rate:,.0f}", f"{rate * size * size:,.0f}", bar)
    Console().print(table)


if __name__ == "__main__":
    main()
