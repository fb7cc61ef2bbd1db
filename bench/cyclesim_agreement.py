"""Analytical model against the cycle simulator on the agreement workloads, with the diagnosis.

Run: python bench/cyclesim_agreement.py [CHIP ...]   (default: fab1 and tests/cyclesim/chips/*)
Columns: the analytical estimate (fabless.perf), the cycle estimate of the compiled
program, and the cycle/analytical ratio; then the same ratio against the analytical
model given only one core, which shows what spreading over cores buys. The analytical
model prices what the compiled program waits on (fabless/perf/exchange.py: its start,
all-gathers between cores, the new keys' trip through the cache) and no per-op launch
overhead. The bar is a ratio within 0.9..1.1.
"""

import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fabless.chip import load_chip
from fabless.cyclesim import AGREEMENT_WORKLOADS, cycle_estimate_graph
from fabless.perf import estimate_graph

TOLERANCE = 0.10
TEST_CHIPS = sorted(str(p) for p in (Path(__file__).parents[1] / "tests" / "cyclesim" / "chips").glob("*.toml"))


def main() -> None:
    names = sys.argv[1:] or ["fab1", *TEST_CHIPS]
    table = Table(title="analytical vs cycle-level time (batch 1, one layer or one op)")
    for column in ("chip", "workload", "analytical us", "cycle us", "cycle/analytical", "within 10%",
                   "vs 1-core analytical", "sim s"):
        table.add_column(column, justify="left" if column in ("chip", "workload") else "right")
    for name in names:
        chip = load_chip(name)
        one_core = chip.model_copy(update={"cores": 1})
        for workload in AGREEMENT_WORKLOADS:
            config, graph = workload.build()
            started = time.perf_counter()
            cycle = cycle_estimate_graph(chip, graph, config=config).time_s
            elapsed = time.perf_counter() - started
            analytical = estimate_graph(chip, graph).time_s
            analytical_one_core = estimate_graph(one_core, graph).time_s
            ratio = cycle / analytical
            table.add_row(
                chip.name, workload.label, f"{analytical * 1e6:,.1f}", f"{cycle * 1e6:,.1f}", f"{ratio:.2f}",
                "yes" if abs(analytical / cycle - 1) <= TOLERANCE else "no",
                f"{cycle / analytical_one_core:.2f}", f"{elapsed:.2f}",
            )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
