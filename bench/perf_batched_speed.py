"""How many design x workload serving estimates a second the scalar and the batched model price.

A design-space search (issue #14) needs 300,000 estimates a minute on 2 cores, 2,500 a second
per core; the bar for the batched path is that and 10x the scalar path. Designs are drawn
around fab1 (every field a search varies); the batched time includes building the arrays
(`SystolicDesigns.from_chips`), once per run of all workloads.
"""

import time

import numpy as np
from rich.console import Console
from rich.table import Table

from fabless.chip import ChipSpec, load_chip
from fabless.model import Precision, load_model_config
from fabless.perf import SystolicDesigns, estimate_serving, serving_estimates

DESIGNS = 1000
SCALAR_DESIGNS = 100
BAR_PER_CORE = 300_000 / 60 / 2
BAR_RATIO = 10.0
WORKLOADS = (
    ("llama-3-70b", "fp8", 32, 2048, 256),
    ("llama-3-8b", "bf16", 8, 1024, 128),
    ("mixtral-8x7b", "fp8", 64, 512, 512),
    ("qwen2.5-7b", "int4", None, 2048, 256),  # a batch per design, as a batch search asks
)


def random_designs(count: int, seed: int = 0) -> list[ChipSpec]:
    rng = np.random.default_rng(seed)
    base = load_chip("fab1").model_dump()
    chips = []
    for _ in range(count):
        rows, cols = (int(x) for x in rng.choice([64, 96, 128, 192, 256], 2))
        macs = rows * cols
        spec = dict(base, clock_ghz=float(rng.uniform(1.0, 2.5)), cores=int(rng.integers(2, 33)))
        spec["core"] = {
            "matrix": {
                "count": int(rng.integers(1, 9)),
                "rows": rows,
                "cols": cols,
                "ops_per_cycle": {"int8": 4 * macs, "fp8": 4 * macs, "bf16": 2 * macs, "fp32": macs // 2},
                "weight_buffers": int(rng.integers(1, 3)),
                "accumulator_kib": float(rng.choice([512, 1024, 2048, 4096])),
            },
            "vector": {
                "lanes": int(rng.choice([512, 1024, 2048, 4096])),
                "ops_per_cycle": float(rng.choice([2048, 4096, 8192])),
            },
            "sram": {
                "mib": float(rng.choice([8, 16, 24, 48])),
                "bytes_per_cycle": float(rng.choice([1024, 2048, 4096])),
            },
        }
        stacks = int(rng.integers(4, 13))
        spec["hbm"] = dict(
            base["hbm"], stacks=stacks, capacity_gib=24.0 * stacks, bandwidth_tb_s=float(rng.uniform(0.8, 1.4)) * stacks
        )
        spec["links"] = dict(
            base["links"], count=int(rng.integers(4, 33)), gb_s_per_direction=float(rng.choice([50, 100, 200]))
        )
        chips.append(ChipSpec.model_validate(spec))
    return chips


def main() -> None:
    chips = random_designs(DESIGNS)
    rng = np.random.default_rng(1)
    per_design_batch = rng.integers(1, 257, DESIGNS)
    workloads = [
        (load_model_config(model), Precision.from_options(weights), batch, input_len, output_len)
        for model, weights, batch, input_len, output_len in WORKLOADS
    ]

    start = time.perf_counter()
    for config, precision, batch, input_len, output_len in workloads:
        for i, chip in enumerate(chips[:SCALAR_DESIGNS]):
            estimate_serving(chip, config, precision, batch or int(per_design_batch[i]), input_len, output_len)
    scalar = SCALAR_DESIGNS * len(workloads) / (time.perf_counter() - start)

    rates = []
    for _ in range(3):  # the first run builds each graph; later ones find them cached
        start = time.perf_counter()
        designs = SystolicDesigns.from_chips(chips)
        for config, precision, batch, input_len, output_len in workloads:
            serving_estimates(
                designs, config, precision, per_design_batch if batch is None else batch, input_len, output_len
            )
        rates.append(DESIGNS * len(workloads) / (time.perf_counter() - start))
    cold, batched = rates[0], max(rates[1:])
    table = Table(title=f"estimate_serving: {len(WORKLOADS)} workloads x designs around fab1, one core")
    for column in ("path", "designs", "estimates/s", "bar estimates/s"):
        table.add_column(column, justify="right")
    table.add_row("scalar estimate_serving", f"{SCALAR_DESIGNS:,}", f"{scalar:,.0f}", "")
    bar = f"{max(BAR_PER_CORE, BAR_RATIO * scalar):,.0f}"
    table.add_row("batched, graphs built", f"{DESIGNS:,}", f"{cold:,.0f}", bar)
    table.add_row("batched, graphs cached", f"{DESIGNS:,}", f"{batched:,.0f}", bar)
    table.add_row("ratio (built, cached)", "", f"{cold / scalar:,.1f}x, {batched / scalar:,.1f}x", f"{BAR_RATIO:.0f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
