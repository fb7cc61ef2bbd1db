"""`fabless estimate gemm|prefill|decode`: one shape on one chip (or a TP group)."""

import json
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from fabless.cli import options
from fabless.cli.app import app
from fabless.cli.console import console, print_table
from fabless.errors import FablessError

if TYPE_CHECKING:
    from fabless.chip.spec import ChipSpec
    from fabless.model import ModelConfig, Precision

MAX_GEMM_DIM = 2**24

FIDELITY = typer.Option(
    "analytical", "--fidelity", help="analytical (any chip, microseconds) or cycle (compiled, systolic chips)."
)

estimate_app = typer.Typer(help="Estimate the time of a GEMM, a prefill or a decode step.", no_args_is_help=True)
app.add_typer(estimate_app, name="estimate")


@estimate_app.command("gemm")
def gemm(
    chip: str = options.CHIP,
    m: int = options.count(..., "--m", "Rows of A and C.", high=MAX_GEMM_DIM),
    n: int = options.count(..., "--n", "Columns of B and C.", high=MAX_GEMM_DIM),
    k: int = options.count(..., "--k", "Contraction dimension.", high=MAX_GEMM_DIM),
    dtype: str = typer.Option("bf16", "--dtype", help="Input dtype: int8, fp8, bf16 or fp32."),
    as_json: bool = options.JSON,
) -> None:
    """Time C[m,n] = A[m,k] @ B[k,n] with operands in HBM."""
    from fabless.chip import load_chip
    from fabless.perf import estimate_gemm

    spec = load_chip(chip)
    result = estimate_gemm(spec, m, n, k, dtype)
    achieved = result.flops / result.time_s
    record = {
        "chip": chip,
        "m": m,
        "n": n,
        "k": k,
        "dtype": dtype,
        "time_s": result.time_s,
        "compute_s": result.compute_s,
        "memory_s": result.memory_s,
        "overhead_s": result.overhead_s,
        "flops": result.flops,
        "bytes": result.bytes,
        "achieved_flops_per_s": achieved,
        "bound": result.bound,
    }
    if as_json:
        print(json.dumps(record, indent=2))
        return
    _print_record(
        f"GEMM {m}x{n}x{k}, {dtype} inputs, on one {spec.display_name}",
        {
            "time": _us(result.time_s),
            "achieved": f"{achieved / 1e12:,.1f} TFLOP/s ({achieved / spec.peak_matrix_ops_per_s(dtype):.0%} of peak)",
            "compute / memory / overhead": " / ".join(
                _us(t) for t in (result.compute_s, result.memory_s, result.overhead_s)
            ),
            "bound": result.bound,
        },
    )


@estimate_app.command("prefill")
def prefill(
    chip: str = options.CHIP,
    model: str = options.MODEL,
    batch: int = options.count(1, "--batch", "Sequences processed together.", high=options.MAX_BATCH),
    seq: int = options.count(2048, "--seq", "Prompt tokens per sequence."),
    chips: int = options.num_chips(1, "Tensor-parallel chips."),
    chips_alias: int | None = options.hidden_alias("--chips"),
    weights: str = options.WEIGHTS,
    activations: str = options.ACTIVATIONS,
    kv_cache: str = options.KV_CACHE,
    fidelity: str = FIDELITY,
    as_json: bool = options.JSON,
) -> None:
    """Time to process a prompt (TTFT without queueing)."""
    from fabless.model import Precision

    precision = Precision.from_options(weights, activations, kv_cache)
    _phase("prefill", chip, model, batch, seq, options.alias(chips, chips_alias), precision, fidelity, as_json)


@estimate_app.command("decode")
def decode(
    chip: str = options.CHIP,
    model: str = options.MODEL,
    batch: int = options.count(1, "--batch", "Sequences decoded together.", high=options.MAX_BATCH),
    context: int = options.count(1024, "--context", "Tokens already in each sequence's KV cache."),
    chips: int = options.num_chips(1, "Tensor-parallel chips."),
    chips_alias: int | None = options.hidden_alias("--chips"),
    weights: str = options.WEIGHTS,
    activations: str = options.ACTIVATIONS,
    kv_cache: str = options.KV_CACHE,
    fidelity: str = FIDELITY,
    as_json: bool = options.JSON,
) -> None:
    """Time of one decode step (TPOT) for a batch at a context length."""
    from fabless.model import Precision

    precision = Precision.from_options(weights, activations, kv_cache)
    _phase("decode", chip, model, batch, context, options.alias(chips, chips_alias), precision, fidelity, as_json)


def _phase(
    phase: str,
    chip_name: str,
    model_name: str,
    batch: int,
    length: int,
    chips: int,
    precision: "Precision",
    fidelity: str,
    as_json: bool,
) -> None:
    from fabless.chip import load_chip
    from fabless.model import load_model_config
    from fabless.perf import phase_time_s

    chip = load_chip(chip_name)
    config = load_model_config(model_name)
    _require_fit(chip, config, precision, batch, length, chips)
    if fidelity == "analytical":
        time_s = phase_time_s(chip, config, precision, phase, batch, length, chips)
    elif fidelity == "cycle":
        time_s = _cycle_time_s(chip, config, precision, phase, batch, length, chips)
    else:
        raise FablessError(f"--fidelity must be analytical or cycle (got {fidelity!r})")
    tokens = batch * length if phase == "prefill" else batch
    record = {
        "chip": chip_name,
        "model": model_name,
        "phase": phase,
        "batch": batch,
        ("seq" if phase == "prefill" else "context"): length,
        "chips": chips,
        "fidelity": fidelity,
        "weights": precision.weights,
        "activations": precision.activations,
        "kv_cache": precision.kv_cache,
        "time_s": time_s,
        "tokens_per_s": tokens / time_s,
    }
    if as_json:
        print(json.dumps(record, indent=2))
        return
    label = "TTFT" if phase == "prefill" else "TPOT"
    _print_record(
        f"{phase} of {config.name} on {chips} x {chip.display_name}, weights {precision.weights}, "
        f"activations {precision.activations}, KV {precision.kv_cache} ({fidelity})",
        {
            label: _ms(time_s),
            "tokens/s": f"{tokens / time_s:,.0f}",
            "fidelity": fidelity,
            "precision": f"weights {precision.weights}, activations {precision.activations}, KV {precision.kv_cache}",
        },
    )


def _cycle_time_s(
    chip: "ChipSpec", config: "ModelConfig", precision: "Precision", phase: str, batch: int, length: int, chips: int
) -> float:
    """Compile the step for the chip and time it cycle by cycle (a systolic chip, one chip)."""
    from fabless.cli.progress import progress
    from fabless.cyclesim import cycle_estimate_graph
    from fabless.graph import decode_graph, prefill_graph

    if chip.family != "systolic" or chips != 1:
        raise FablessError(
            "--fidelity cycle times one systolic chip (fab1-class): drop --num-chips or use analytical"
        )
    if phase == "prefill":
        graph = prefill_graph(config, precision, batch, length)
    else:
        graph = decode_graph(config, precision, batch, length)
    with progress(f"compiling and simulating the {phase} step cycle by cycle"):
        return cycle_estimate_graph(chip, graph, config=config).time_s


def _require_fit(
    chip: "ChipSpec", config: "ModelConfig", precision: "Precision", batch: int, context: int, chips: int
) -> None:
    from fabless.perf import chips_needed, memory_footprint
    from fabless.perf.memory import usable_hbm_bytes

    footprint = memory_footprint(config, precision, batch, context)
    need = chips_needed(chip, config, precision, batch, context)
    if need > chips:
        raise FablessError(
            f"{config.name} at batch {batch}, context {context} needs {footprint.total_bytes / 1e9:,.1f} GB but "
            f"{chip.name} has {usable_hbm_bytes(chip) / 1e9:,.1f} GB usable: "
            f"it needs {need} chips (pass --num-chips {need})"
        )


def _print_record(title: str, rows: dict[str, str]) -> None:
    table = Table(title=title, show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    for key, value in rows.items():
        table.add_row(key, value)
    print_table(console(), table)


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} us"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms"
