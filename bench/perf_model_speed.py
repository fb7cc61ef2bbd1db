"""How fast the analytical model prices a whole model: the bar is 1 ms for prefill + decode
of llama-3-70b on one chip, so that design-space search can try thousands of chips."""

import statistics
import time

from rich.console import Console
from rich.table import Table

from fabless.chip import load_chip
from fabless.model import Precision, load_model_config
from fabless.perf import decode_time, prefill_time


def median_ms(fn, repeats: int = 300) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def main() -> None:
    config = load_model_config("llama-3-70b")
    precision = Precision.from_options("fp8")
    table = Table(title="Analytical model: one whole-model estimate (prefill 2048 + one decode step at 2048)")
    for column in ("chip", "median ms", "bar ms"):
        table.add_column(column, justify="right")
    for name in ("h100", "fab1", "tpu-v6e", "mi300x"):
        try:
            chip = load_chip(name)
        except Exception:  # a preset that has not landed yet is simply not in the table
            continue
        ms = median_ms(
            lambda chip=chip: (
                prefill_time(chip, config, precision, 1, 2048),
                decode_time(chip, config, precision, 1, 2048),
            )
        )
        table.add_row(name, f"{ms:.3f}", "1.000")
    Console().print(table)


if __name__ == "__main__":
    main()
