"""Cycle simulator speed: simulated instructions per second on compiled model steps.

Run: python bench/cyclesim_speed.py [--chip fab1] [--context 1024]
The bar: one llama-3-8b decode step at batch 1 on fab1 simulates in at most 30 s.
Compilation is timed separately; it is the compiler's cost, not the simulator's.
"""

import argparse
import time

from rich.console import Console
from rich.table import Table

from fabless.chip import load_chip
from fabless.cyclesim import compile_for_timing, simulate
from fabless.graph import decode_graph, prefill_graph
from fabless.model import Precision, load_model_config

BAR_S = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chip", default="fab1")
    parser.add_argument("--context", type=int, default=1024, help="tokens already in the KV cache for decode")
    args = parser.parse_args()
    chip = load_chip(args.chip)
    precision = Precision()
    llama, smol = load_model_config("llama-3-8b"), load_model_config("smollm2-135m")
    steps = [
        ("llama-3-8b decode, batch 1", llama, decode_graph(llama, precision, 1, args.context)),
        ("smollm2-135m prefill, 512 tokens", smol, prefill_graph(smol, precision, 1, 512)),
        ("smollm2-135m decode, batch 1", smol, decode_graph(smol, precision, 1, args.context)),
    ]
    table = Table(title=f"cycle simulator speed on {chip.display_name}")
    for column in ("step", "instructions", "compile s", "timeline", "simulate s", "instructions/s",
                   "simulated time", "within 30 s"):
        table.add_column(column, justify="left" if column in ("step", "timeline") else "right")
    for label, config, graph in steps:
        started = time.perf_counter()
        program = compile_for_timing(chip, graph, config)
        compiled_s = time.perf_counter() - started
        for record in (False, True):
            started = time.perf_counter()
            report = simulate(chip, program, record=record)
            elapsed = time.perf_counter() - started
            table.add_row(
                label, f"{program.instruction_count:,}", f"{compiled_s:.1f}", "kept" if record else "off",
                f"{elapsed:.2f}", f"{program.instruction_count / elapsed:,.0f}", f"{report.time_s * 1e3:.3f} ms",
                "yes" if elapsed <= BAR_S else "NO",
            )
    Console().print(table)


if __name__ == "__main__":
    main()
