"""MLPerf Inference Llama-2-70B: published tokens/s against the serving simulator's prediction.

Run: python bench/mlperf_llama2_70b.py [--input TOKENS] [--requests N]
Prints one row per published result (src/fabless/data/mlperf/llama2_70b.csv): the
predicted tokens/s on the submission's own plan and batch limit, and the error (the bar
is +-10%, issue #16); with --search, on the plan our search picks instead.
"""

import argparse
import time

from rich.console import Console
from rich.table import Table

from fabless.chip import load_chip
from fabless.multichip.mlperf import SERVER_DURATION_S, predict, published_results, workload

BAR = 0.10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=int, default=None, help="mean prompt tokens (default: the data file's)")
    parser.add_argument("--requests", type=int, default=None, help="offline samples (default: the data set's)")
    parser.add_argument("--duration", type=float, default=SERVER_DURATION_S, help="seconds of arrivals per server run")
    parser.add_argument("--search", action="store_true", help="use the searched plan, not the submission's")
    args = parser.parse_args()
    load = workload(args.input)
    table = Table(title=f"MLPerf Inference Llama-2-70B, prompts {load.input_tokens} / answers "
                        f"{load.output_tokens} tokens (mean), {load.precision.weights}")
    for column in ("round", "system", "chips", "scenario", "published tok/s", "predicted tok/s", "error",
                   "within 10%", "plan", "p99 TTFT s", "p99 TPOT s", "sim s"):
        table.add_column(column, justify="left" if column in ("round", "system", "scenario", "plan") else "right")
    errors = []
    for result in published_results():
        started = time.perf_counter()
        chip = load_chip(result.chip)
        plan = None if args.search else result.plan
        prediction = predict(chip, result.accelerators, result.scenario, load, plan=plan,
                             max_batch=None if args.search else result.max_batch, requests=args.requests,
                             server_duration_s=args.duration)
        error = prediction.tokens_per_s / result.tokens_per_s - 1.0
        errors.append(abs(error))
        metrics = prediction.metrics
        table.add_row(
            result.round, result.system, str(result.accelerators), result.scenario,
            f"{result.tokens_per_s:,.0f}", f"{prediction.tokens_per_s:,.0f}", f"{error:+.1%}",
            "yes" if abs(error) <= BAR else "NO", prediction.plan.describe(),
            f"{metrics.ttft_p99_s:.2f}", f"{metrics.tpot_p99_s:.3f}", f"{time.perf_counter() - started:.1f}",
        )
    console = Console(width=200)
    console.print(table)
    inside = sum(e <= BAR for e in errors)
    console.print(f"{inside}/{len(errors)} within +-{BAR:.0%}; mean |error| {sum(errors) / len(errors):.1%}")


if __name__ == "__main__":
    main()
