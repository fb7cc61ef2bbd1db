"""How long the serving simulator takes for 10,000 requests (the bar: at most 10 s).

Run: python bench/serving_speed.py
Each row simulates 10,000 Poisson requests of llama-3-70b in fp8 on H100s priced by the
analytical performance model, from a cold step-time cache.
"""

import time

from rich.console import Console
from rich.table import Table

from fabless.chip import load_chip
from fabless.model import Precision, load_model_config
from fabless.multichip import ParallelPlan, ShardedStepTimer, chip_memory
from fabless.serving import Deployment, EngineConfig, MemoStepTimer, Slo, poisson_requests, simulate

REQUESTS = 10_000
BAR_S = 10.0
CASES = (
    # name, plan, rate per s, prompt, answer, max batch, KV tokens (None: what HBM leaves)
    ("8 chips TP2 x DP4, moderate load", ParallelPlan(tp=2, dp=4), 20.0, 2048, 256, 256, None),
    ("1 replica TP8, near saturation", ParallelPlan(tp=8), 14.0, 1024, 256, 512, None),
    ("1 replica TP8, KV-starved (preemption)", ParallelPlan(tp=8), 14.0, 1024, 256, 512, 60_000),
    ("1 chip, light load (many small steps)", ParallelPlan(tp=1), 1.0, 512, 128, 64, None),
)


def main() -> None:
    chip = load_chip("h100")
    model = load_model_config("llama-3-70b")
    precision = Precision.from_options("fp8")
    table = Table(title=f"Serving simulator speed: {REQUESTS:,} requests, {model.name} fp8 on {chip.name}")
    for column in ("case", "engine steps", "steps priced", "preemptions", "tokens/s", "wall s", f"<= {BAR_S:g} s"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for name, plan, rate, prompt, answer, batch, kv_tokens in CASES:
        memory = chip_memory(chip, model, precision, plan, 4096, batch)
        engine = EngineConfig(kv_capacity_tokens=kv_tokens or memory.kv_capacity_tokens, max_batch=batch,
                              max_step_tokens=4096)
        timer = MemoStepTimer(ShardedStepTimer(chip, model, precision, plan))
        requests = poisson_requests(rate, REQUESTS, prompt, answer, seed=1, length_spread=0.5)
        started = time.perf_counter()
        result = simulate(requests, Deployment(timer, engine, replicas=plan.dp), Slo(2.0, 0.05))
        wall = time.perf_counter() - started
        table.add_row(name, f"{result.steps:,}", f"{timer.evaluations:,}", f"{result.metrics.preemptions:,}",
                      f"{result.metrics.output_tokens_per_s:,.0f}", f"{wall:.2f}", "yes" if wall <= BAR_S else "NO")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
