"""`fabless estimate gemm|prefill|decode`: one shape on one chip (or a TP group)."""

import json

import typer
from rich.console import Console
from rich.table import Table

from fabless.chip import load_chip
from fabless.chip.spec import ChipSpec
from fabless.cli import options
from fabless.cli.app import app
from fabless.cyclesim import cycle_estimate_graph
from fabless.errors import FablessError
from fabless.graph import decode_graph, prefill_graph
from fabless.model import Precision, load_model_config
from fabless.model.config import ModelConfig
from fabless.perf import chips_needed, estimate_gemm, memory_footprint, phase_time_s
from fabless.perf.memory import usable_hbm_bytes

FIDELITY = typer.Option(
    "analytical", "--fidelity", help="analytical (any chip, microseconds) or cycle (compiled, systolic chips)."
)

estimate_app = typer.Typer(help="Estimate the time of a GEMM, a prefill or a decode step.", no_args_is_help=True)
app.add_typer(estimate_app, name="estimate")


@estimate_app.command("gemm")
def gemm(
    chip: str = options.CHIP,
    m: int = typer.Option(..., "--m", min=1, help="Rows of A and C."),
    n: int = typer.Option(..., "--n", min=1, help="Columns of B and C."),
    k: int = typer.Option(..., "--k", min=1, help="Contraction dimension."),
    dtype: str = typer.Option("bf16", "--dtype", help="Input dtype: int8, fp8, bf16 or fp32."),
    as_json: bool = options.JSON,
) -> None:
    """Time C[m,n] = A[m,k] @ B[k,n] with operands in HBM."""
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
        f"GEMM {m}x{n}x{k} {dtype} on {spec.display_name}",
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
    batch: int = typer.Option(1, "--batch", min=1),
    seq: int = typer.Option(2048, "--seq", min=1, help="Prompt tokens per sequence."),
    chips: int = typer.Option(1, "--chips", min=1, help="Tensor-parallel chips."),
    weights: str = options.WEIGHTS,
    activations: str = options.ACTIVATIONS,
    kv_cache: str = options.KV_CACHE,
    fidelity: str = FIDELITY,
    as_json: bool = options.JSON,
) -> None:
    """Time to process a prompt (TTFT without queueing)."""
    precision = Precision.from_options(weights, activations, kv_cache)
    _phase("prefill", chip, model, batch, seq, chips, precision, fidelity, as_json)


@estimate_app.command("decode")
def decode(
    chip: str = options.CHIP,
    model: str = options.MODEL,
    batch: int = typer.Option(1, "--batch", min=1),
    context: int = typer.Option(1024, "--context", min=1, help="Tokens already in each sequence's KV cache."),
    chips: int = typer.Option(1, "--chips", min=1, help="Tensor-parallel chips."),
    weights: str = options.WEIGHTS,
    activations: str = options.ACTIVATIONS,
    kv_cache: str = options.KV_CACHE,
    fidelity: str = FIDELITY,
    as_json: bool = options.JSON,
) -> None:
    """Time of one decode step (TPOT) for a batch at a context length."""
    precision = Precision.from_options(weights, activations, kv_cache)
    _phase("decode", chip, model, batch, context, chips, precision, fidelity, as_json)


def _phase(
    phase: str,
    chip_name: str,
    model_name: str,
    batch: int,
    length: int,
    chips: int,
    precision: Precision,
    fidelity: str,
    as_json: bool,
) -> None:
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
        f"{phase} of {config.name} on {chips} x {chip.display_name}",
        {
            label: _ms(time_s),
            "tokens/s": f"{tokens / time_s:,.0f}",
            "fidelity": fidelity,
            "precision": f"weights {precision.weights}, activations {precision.activations}, KV {precision.kv_cache}",
        },
    )


def _cycle_time_s(
    chip: ChipSpec, config: ModelConfig, precision: Precision, phase: str, batch: int, length: int, chips: int
) -> float:
    """Compile the step for the chip and time it cycle by cycle (a systolic chip, one chip)."""
    if chip.family != "systolic" or chips != 1:
        raise FablessError("--fidelity cycle times one systolic chip (fab1-class): drop --chips or use analytical")
    if phase == "prefill":
        graph = prefill_graph(config, precision, batch, length)
    else:
        graph = decode_graph(config, precision, batch, length)
    return cycle_estimate_graph(chip, graph, config=config).time_s


def _require_fit(
    chip: ChipSpec, config: ModelConfig, precision: Precision, batch: int, context: int, chips: int
) -> None:
    footprint = memory_footprint(config, precision, batch, context)
    need = chips_needed(chip, config, precision, batch, context)
    if need > chips:
        raise FablessError(
            f"{config.name} at batch {batch}, context {context} needs {footprint.total_bytes / 1e9:,.1f} GB but "
            f"{chip.name} has {usable_hbm_bytes(chip) / 1e9:,.1f} GB usable: "
            f"it needs {need} chips (pass --chips {need})"
        )


def _print_record(title: str, rows: dict[str, str]) -> None:
    table = Table(title=title, show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    for key, value in rows.items():
        table.add_row(key, value)
    Console().print(table)


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} us"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms"
