"""`fabless compare`: one model and request shape on several chips, side by side."""

import json
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from fabless.cli import options
from fabless.cli.app import app
from fabless.cli.console import console, print_table

if TYPE_CHECKING:
    from fabless.perf import ServingEstimate


@app.command("compare")
def compare(
    model: str = options.MODEL,
    chips: str = typer.Option("fab1,h100,h200,b200,mi300x,tpu-v6e,tpu7x", "--chips", help="Comma-separated chips."),
    batch: str = typer.Option("1,32", "--batch", help="Comma-separated batch sizes."),
    input_len: int = options.count(2048, "--input", "Prompt tokens per request."),
    output_len: int = options.count(256, "--output", "Generated tokens per request."),
    weights: str = options.WEIGHTS,
    activations: str = options.ACTIVATIONS,
    kv_cache: str = options.KV_CACHE,
    as_json: bool = options.JSON,
) -> None:
    """TTFT, TPOT, throughput, chips needed, tokens per rented dollar and per joule."""
    from fabless.chip import load_chips
    from fabless.model import Precision, load_model_config
    from fabless.perf import estimate_serving

    config = load_model_config(model)
    precision = Precision.from_options(weights, activations, kv_cache)
    batches = options.int_list(batch, "--batch")
    specs = load_chips(chips)
    rows = []
    for name, chip in zip([c.strip() for c in chips.split(",") if c.strip()], specs, strict=True):
        for b in batches:
            estimate = estimate_serving(chip, config, precision, b, input_len, output_len)
            rows.append(_record(name, model, estimate, chip.rental_usd_per_hour, chip.tdp_w))
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(
        title=f"{config.name}: {input_len} in / {output_len} out, weights {precision.weights}, "
        f"activations {precision.activations}, KV {precision.kv_cache}; per deployment of the chips needed"
    )
    for column in ("chip", "batch", "chips", "TTFT ms", "TPOT ms", "tokens/s", "tok/s per $/h", "tokens/J"):
        table.add_column(column, justify="left" if column == "chip" else "right")
    for row in rows:
        per_dollar = row["tokens_per_s_per_usd_hour"]
        table.add_row(
            row["chip"],
            str(row["batch"]),
            str(row["chips"]),
            f"{row['ttft_s'] * 1e3:,.1f}",
            f"{row['tpot_s'] * 1e3:,.2f}",
            f"{row['tokens_per_s']:,.0f}",
            "-" if per_dollar is None else f"{per_dollar:,.0f}",
            f"{row['tokens_per_joule']:,.2f}",
        )
    out = console()
    print_table(out, table)
    out.print("tokens/s counts output tokens over whole requests; tokens/J at TDP of every chip used.")


def _record(chip: str, model: str, e: "ServingEstimate", rental: float | None, tdp_w: float) -> dict:
    return {
        "chip": chip,
        "model": model,
        "batch": e.batch,
        "input": e.input_len,
        "output": e.output_len,
        "chips": e.chips,
        "ttft_s": e.ttft_s,
        "tpot_s": e.tpot_s,
        "tokens_per_s": e.tokens_per_s,
        "max_batch": e.max_batch,
        "tokens_per_s_per_usd_hour": e.tokens_per_s / (e.chips * rental) if rental else None,
        "tokens_per_joule": e.tokens_per_s / (e.chips * tdp_w),
    }
