"""`fabless serve` and `fabless plan`: a model served on many chips, under traffic and SLOs."""

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from fabless.checks import shown
from fabless.cli import options
from fabless.cli.app import app
from fabless.cli.console import console, print_table
from fabless.cli.paths import prepare_output
from fabless.cli.progress import progress
from fabless.errors import FablessError
from fabless.files import output_file

if TYPE_CHECKING:
    from fabless.chip.spec import ChipSpec
    from fabless.model import ModelConfig, Precision
    from fabless.multichip import ParallelPlan, PlanChoice
    from fabless.serving import Deployment, Request, ServingMetrics, Slo

MAX_RATE_PER_S = 1e6
MAX_REQUESTS = 10**6
MAX_SLO_S = 3600.0
NO_SLO_TPOT_S = 3600.0
"""Plan choice without a TPOT SLO: any step time is acceptable, so throughput decides."""


@app.command("serve")
def serve(
    model: str = options.MODEL,
    chip: str = options.CHIP,
    chips: int = options.num_chips(8, "Chips in the deployment."),
    chips_alias: int | None = options.hidden_alias("--chips"),
    rate: str = typer.Option(
        "auto", "--rate",
        help=f"Requests per second in (0, {MAX_RATE_PER_S:g}], or auto: the highest rate meeting the SLOs.",
    ),
    requests: int = options.count(2000, "--requests", "Requests to simulate (Poisson arrivals).", high=MAX_REQUESTS),
    input_len: int = options.count(2048, "--input", "Mean prompt tokens per request."),
    output_len: int = options.count(256, "--output", "Mean generated tokens per request."),
    spread: float = options.number(0.0, "--length-spread", "Lengths uniform within mean x (1 +- spread).", 0.0, 1.0,
                                   low_open=False, high_open=True),
    trace: Annotated[
        Path | None, typer.Option("--trace", help="CSV or JSONL of arrival_s, input_tokens, output_tokens.")
    ] = None,
    slo_ttft: float = options.number(2.0, "--slo-ttft", "TTFT SLO in seconds.", 0.0, MAX_SLO_S),
    slo_tpot: float = options.number(0.05, "--slo-tpot", "TPOT SLO in seconds.", 0.0, MAX_SLO_S),
    weights: str = typer.Option("fp8", "--weights", help="Weight dtype: bf16, fp8, int8 or int4."),
    tp: int | None = options.count(None, "--tp", "Tensor-parallel degree (default: searched).", high=options.MAX_CHIPS),
    pp: int = options.count(1, "--pp", "Pipeline stages, with --tp.", high=options.MAX_CHIPS),
    ep: int = options.count(1, "--ep", "Expert-parallel degree inside the TP group, with --tp.",
                            high=options.MAX_CHIPS),
    prefill_chips: int = options.count(0, "--prefill-chips", "Chips of a separate prefill pool (0: none).", low=0,
                                       high=options.MAX_CHIPS),
    max_batch: int = options.count(256, "--max-batch", "Sequences per replica at once.", high=options.MAX_BATCH),
    step_tokens: int = options.count(4096, "--step-tokens", "Token budget per engine step."),
    block_tokens: int = options.count(16, "--block-tokens", "Tokens per KV-cache block.", high=options.MAX_BATCH),
    seed: int = options.count(0, "--seed", "Seed of the arrival process.", low=0, high=options.MAX_SEED),
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a latency-throughput curve (PNG).")] = None,
    as_json: bool = options.JSON,
) -> None:
    """Simulate serving: continuous batching, paged KV cache, TTFT/TPOT percentiles and goodput."""
    from fabless.chip import load_chip
    from fabless.model import Precision, load_model_config
    from fabless.serving import GOODPUT_FRACTION, Slo, load_trace, max_rate, poisson_requests, simulate

    chips = options.alias(chips, chips_alias)
    offered = None if rate == "auto" else _rate(rate)
    if plot is not None:
        if trace is not None:
            raise FablessError("--plot sweeps Poisson rates: drop --trace to plot a latency-throughput curve")
        prepare_output(plot, "the latency-throughput curve", "--plot")
    if trace is not None and offered is not None:
        raise FablessError("--trace sets the arrivals: drop --rate, or drop --trace to use Poisson arrivals")
    if prefill_chips >= chips:
        raise FablessError(
            f"--prefill-chips {prefill_chips} leaves no chips to decode: use fewer than --num-chips {chips}"
        )
    spec = load_chip(chip)
    config = load_model_config(model)
    precision = Precision.from_options(weights)
    slo = Slo(ttft_s=slo_ttft, tpot_s=slo_tpot)
    decode_chips = chips - prefill_chips
    plan = _plan(spec, config, precision, decode_chips, tp, pp, ep, input_len, output_len, slo_tpot, max_batch,
                 step_tokens)
    deployment = _deployment(spec, config, precision, plan, chips, prefill_chips, max_batch, step_tokens,
                             block_tokens)
    traced = load_trace(trace) if trace is not None else None

    def workload(per_s: float) -> Sequence["Request"]:
        return poisson_requests(per_s, requests, input_len, output_len, seed, spread)

    if traced is not None:
        offered = len(traced) / max(traced[-1].arrival_s - traced[0].arrival_s, 1e-9)
        with progress(f"simulating {len(traced):,} traced requests"):
            metrics = simulate(traced, deployment, slo).metrics
        rule = "trace"
    elif offered is None:
        with progress("searching for the highest rate meeting the SLOs") as advance:
            point = max_rate(_counted(workload, advance), deployment, slo)
        offered, metrics = point.rate_per_s, point.metrics
        rule = f"highest rate with >= {GOODPUT_FRACTION:.0%} of requests meeting both SLOs"
    else:
        with progress(f"simulating {requests:,} requests at {offered:g} req/s"):
            metrics = simulate(workload(offered), deployment, slo).metrics
        rule = "fixed rate"
    if plot is not None:
        _plot_curve(plot, workload, deployment, slo, offered)
    record = {"chip": spec.name, "model": config.name, "weights": precision.weights, "chips": chips,
              "plan": plan.describe(),
              "prefill_chips": prefill_chips, "rate_per_s": offered, "rate_rule": rule,
              "slo_ttft_s": slo_ttft, "slo_tpot_s": slo_tpot, **metrics.as_dict()}
    if as_json:
        print(json.dumps(record, indent=2))
        return
    _print_metrics(spec, config, record, metrics)


def _counted(
    workload: Callable[[float], Sequence["Request"]], advance: Callable[..., None]
) -> Callable[[float], Sequence["Request"]]:
    """The workload, ticking the progress once per simulated rate (each rate asks for its requests once)."""
    def counted(per_s: float) -> Sequence["Request"]:
        advance(note=f"trying {per_s:.3g} req/s")
        return workload(per_s)

    return counted


@app.command("plan")
def plan_command(
    model: str = options.MODEL,
    chip: str = options.CHIP,
    slo_tpot: float = options.number(0.05, "--slo-tpot", "TPOT SLO in seconds.", 0.0, MAX_SLO_S),
    slo_ttft: float | None = options.number(None, "--slo-ttft", "Optional TTFT SLO for one idle prefill.", 0.0,
                                            MAX_SLO_S),
    input_len: int = options.count(2048, "--input", "Prompt tokens per request."),
    output_len: int = options.count(256, "--output", "Generated tokens per request."),
    weights: str = typer.Option("fp8", "--weights", help="Weight dtype: bf16, fp8, int8 or int4."),
    max_chips: int = options.count(4096, "--max-chips", "Largest chip count to try.", high=options.MAX_CHIPS),
    max_batch: int = options.count(1024, "--max-batch", "Sequences per replica at most.", high=options.MAX_BATCH),
    top: int = options.count(5, "--top", "Plans to list.", high=1000),
    as_json: bool = options.JSON,
) -> None:
    """The fewest chips, and the best parallelism plan on them, that meet a TPOT SLO."""
    from fabless.chip import load_chip
    from fabless.chip.spec import GIB
    from fabless.model import Precision, load_model_config
    from fabless.multichip import search_plans

    spec = load_chip(chip)
    config = load_model_config(model)
    precision = Precision.from_options(weights)
    counts = [1 << i for i in range(max_chips.bit_length()) if 1 << i <= max_chips]
    with progress(f"searching plans on up to {max_chips:,} chips"):
        choices = search_plans(spec, config, precision, input_len, output_len, slo_tpot, counts, max_batch,
                               slo_ttft_s=slo_ttft)[:top]
    records = [_choice_record(c) for c in choices]
    if as_json:
        print(json.dumps({"chip": spec.name, "model": config.name, "slo_tpot_s": slo_tpot, "plans": records},
                         indent=2))
        return
    chips = choices[0].plan.chips
    table = Table(title=f"{config.name} on {chips} x {spec.display_name}, weights {precision.weights}, "
                  f"TPOT <= {slo_tpot * 1e3:g} ms; GiB and KV tokens per chip and replica")
    for column in ("plan", "batch", "TPOT ms", "TTFT ms", "tok/s", "tok/s/chip", "GiB/chip", "KV tokens"):
        table.add_column(column, justify="left" if column == "plan" else "right")
    for c in choices:
        table.add_row(c.plan.describe(), str(c.batch), f"{c.tpot_s * 1e3:.1f}", f"{c.ttft_s * 1e3:.0f}",
                      f"{c.output_tokens_per_s:,.0f}", f"{c.tokens_per_s_per_chip:,.0f}",
                      f"{c.memory.weight_bytes / GIB:.1f}", f"{c.memory.kv_capacity_tokens:,}")
    print_table(console(), table)


def _plan(
    spec: "ChipSpec", config: "ModelConfig", precision: "Precision", chips: int, tp: int | None, pp: int, ep: int,
    input_len: int, output_len: int, slo_tpot: float, max_batch: int, step_tokens: int,
) -> "ParallelPlan":
    from fabless.multichip import ParallelPlan, search_plans

    if tp is None:
        return search_plans(spec, config, precision, input_len, output_len, slo_tpot, [chips], max_batch,
                            step_tokens)[0].plan
    if chips % (tp * pp):
        raise FablessError(f"--tp {tp} x --pp {pp} does not divide {chips} chips: pick degrees whose product does")
    return ParallelPlan(tp=tp, pp=pp, dp=chips // (tp * pp), ep=ep)


def _deployment(
    spec: "ChipSpec", config: "ModelConfig", precision: "Precision", plan: "ParallelPlan", chips: int,
    prefill_chips: int, max_batch: int, step_tokens: int, block_tokens: int,
) -> "Deployment":
    from fabless.chip.spec import GIB
    from fabless.multichip import ShardedStepTimer, chip_memory, kv_transfer_time
    from fabless.serving import Deployment, Disaggregation, EngineConfig, MemoStepTimer

    memory = chip_memory(spec, config, precision, plan, step_tokens, max_batch)
    if not memory.fits:
        raise FablessError(
            f"{config.name} does not fit {plan.describe()} on {spec.name}: weights and activations need "
            f"{(memory.weight_bytes + memory.activation_bytes) / GIB:.1f} GiB of {memory.capacity_bytes / GIB:.1f} "
            "GiB usable per chip; use more chips per replica or a smaller --weights dtype"
        )
    engine = EngineConfig(kv_capacity_tokens=memory.kv_capacity_tokens, max_batch=max_batch,
                          max_step_tokens=step_tokens, block_tokens=block_tokens)
    # One memo for every run of a rate search or a curve: the runs price the same steps.
    timer = MemoStepTimer(ShardedStepTimer(spec, config, precision, plan))
    disaggregation = None
    if prefill_chips:
        per_replica = plan.chips_per_replica
        if prefill_chips % per_replica:
            raise FablessError(
                f"--prefill-chips {prefill_chips} is not a whole number of {per_replica}-chip replicas of "
                f"{plan.describe()}"
            )
        disaggregation = Disaggregation(timer=timer, engine=engine, replicas=prefill_chips // per_replica,
                                        kv_transfer_s=kv_transfer_time(spec, config, precision, plan, chips))
    return Deployment(timer, engine, replicas=plan.dp, disaggregation=disaggregation)


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FablessError(f"--rate takes requests per second or auto (got {shown(text)})") from None
    # A number echoes as typed (nan, -3); only a page of digits is cut short.
    echo = text if len(text) <= 40 else shown(text)
    if not (math.isfinite(value) and 0 < value <= MAX_RATE_PER_S):
        raise FablessError(f"--rate must be auto or a number of requests per second in (0, {MAX_RATE_PER_S:g}] "
                           f"(got {echo})")
    return value


def _plot_curve(
    path: Path, workload: Callable[[float], Sequence["Request"]], deployment: "Deployment", slo: "Slo", rate: float
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fabless.serving import latency_curve

    rates = [rate * f for f in (0.2, 0.4, 0.6, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5)]
    with progress("simulating the latency-throughput curve", total=len(rates)) as advance:
        curve = latency_curve(_counted(workload, advance), deployment, rates, slo)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    throughput = [p.metrics.output_tokens_per_s for p in curve]
    for axis, (name, p50, p99, limit) in zip(axes, (
        ("TTFT s", [p.metrics.ttft_p50_s for p in curve], [p.metrics.ttft_p99_s for p in curve], slo.ttft_s),
        ("TPOT s", [p.metrics.tpot_p50_s for p in curve], [p.metrics.tpot_p99_s for p in curve], slo.tpot_s),
    ), strict=True):
        axis.plot(throughput, p50, marker="o", label="p50")
        axis.plot(throughput, p99, marker="o", label="p99")
        axis.axhline(limit, color="grey", linestyle="--", label="SLO")
        axis.set_xlabel("output tokens/s")
        axis.set_ylabel(name)
        axis.set_yscale("log")
        axis.legend()
    figure.tight_layout()
    try:
        # The format is passed, not left to savefig: the temporary file's name ends `.partial`.
        with output_file(path, "the latency-throughput curve") as staged:
            figure.savefig(staged, format="png")
    finally:
        plt.close(figure)


def _choice_record(c: "PlanChoice") -> dict:
    return {"plan": c.plan.describe(), "tp": c.plan.tp, "pp": c.plan.pp, "dp": c.plan.dp, "ep": c.plan.ep,
            "chips": c.plan.chips, "batch_per_replica": c.batch, "tpot_s": c.tpot_s, "ttft_s": c.ttft_s,
            "output_tokens_per_s": c.output_tokens_per_s, "weight_bytes_per_chip": c.memory.weight_bytes,
            "kv_capacity_tokens_per_replica": c.memory.kv_capacity_tokens}


def _print_metrics(spec: "ChipSpec", config: "ModelConfig", record: dict, metrics: "ServingMetrics") -> None:
    table = Table(title=f"{config.name} on {record['chips']} x {spec.display_name} ({record['plan']}), "
                  f"weights {record['weights']}; rates and throughput for the whole deployment")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = {
        "offered rate": f"{record['rate_per_s']:.2f} req/s ({record['rate_rule']})",
        "TTFT p50 / p90 / p99": " / ".join(f"{v * 1e3:,.0f} ms" for v in
                                          (metrics.ttft_p50_s, metrics.ttft_p90_s, metrics.ttft_p99_s)),
        "TPOT p50 / p90 / p99": " / ".join(f"{v * 1e3:,.1f} ms" for v in
                                          (metrics.tpot_p50_s, metrics.tpot_p90_s, metrics.tpot_p99_s)),
        "throughput": f"{metrics.output_tokens_per_s:,.0f} tokens/s, {metrics.requests_per_s:.2f} req/s",
        "goodput": f"{metrics.goodput_requests_per_s:.2f} req/s ({metrics.slo_fraction:.1%} meet both SLOs)",
        "mean batch / preemptions": f"{metrics.mean_batch:.1f} / {metrics.preemptions}",
        "simulated": f"{metrics.requests} requests over {metrics.duration_s:,.1f} s",
    }
    for name, value in rows.items():
        table.add_row(name, value)
    print_table(console(), table)
