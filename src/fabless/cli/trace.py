"""`fabless trace`: time a model step or a program cycle by cycle and write its Perfetto timeline."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from fabless.cli import options
from fabless.cli.app import app
from fabless.cli.console import console, print_table
from fabless.cli.paths import BUILD, prepare_output
from fabless.cli.progress import progress
from fabless.errors import FablessError

if TYPE_CHECKING:
    from fabless.cyclesim import CycleReport
    from fabless.isa import Program
    from fabless.model import ModelConfig

MAX_DECODE_STEPS = 4096


@app.command("trace")
def trace(
    chip: str = options.CHIP,
    out: Annotated[Path, typer.Option("--out", help="Perfetto / Chrome trace JSON to write.")] = BUILD / "trace.json",
    model: Annotated[
        str | None,
        typer.Option("--model", help="Model to compile: a zoo name, a checkpoint name (smollm2-135m) or directory."),
    ] = None,
    prompt: Annotated[
        str | None, typer.Option("--prompt", help="Prompt text; its token count sets the prefill.")
    ] = None,
    tokens: int | None = options.count(None, "--tokens", "Prompt tokens, instead of --prompt."),
    decode: int = options.count(0, "--decode", "Decode steps to time after the prefill.", low=0,
                                high=MAX_DECODE_STEPS),
    weights: Annotated[str, typer.Option("--weights", help="Weight dtype: bf16, fp8 or int8.")] = "bf16",
    program: Annotated[
        Path | None, typer.Option("--program", help="A program to time instead: assembler (.s) or binary (.bin).")
    ] = None,
    weight_buffers: int | None = options.count(
        None, "--weight-buffers",
        "Weight tiles per MXU (default: the chip's); 2 loads the next tile while the array streams.", high=2,
    ),
    per_unit: Annotated[bool, typer.Option("--per-unit", help="One row per unit instead of per kind.")] = False,
    as_json: bool = options.JSON,
) -> None:
    """Time a model's prefill (and decode steps) or a program cycle by cycle; write the timeline.

    Open the trace at https://ui.perfetto.dev: one process per core, one track per unit.
    """
    from fabless.chip import load_chip
    from fabless.cyclesim import cycle_estimate_graph, run_in_sequence, simulate, write_trace
    from fabless.graph import decode_graph, prefill_graph
    from fabless.model import Precision

    if program is None and model is None:
        raise FablessError("nothing to trace: pass --model NAME with --prompt TEXT or --tokens N, or --program FILE")
    if program is not None and model is not None:
        raise FablessError("pass either --program or --model, not both")
    spec = load_chip(chip)
    prepare_output(out, "the trace", "--out")
    if program is not None:
        loaded = _load_program(program)
        with progress(f"simulating {program.name} cycle by cycle"):
            report = simulate(spec, loaded, weight_buffers=weight_buffers)
        title = f"{program.name} on one {spec.display_name}"
    else:
        assert model is not None
        config, count = _prompt_tokens(model, prompt, tokens)
        precision = Precision(weights=weights, activations="bf16", kv_cache="bf16")
        graphs = [prefill_graph(config, precision, 1, count)]
        graphs += [decode_graph(config, precision, 1, count + step) for step in range(decode)]
        reports = []
        with progress("compiling and simulating steps cycle by cycle", total=len(graphs)) as advance:
            for graph in graphs:
                reports.append(cycle_estimate_graph(spec, graph, config=config, weight_buffers=weight_buffers,
                                                    record=True))
                advance()
        report = run_in_sequence(reports)
        steps = f" + {decode} decode step{'s' if decode != 1 else ''}" if decode else ""
        title = (f"{config.name}: prefill of {count} tokens{steps} on one {spec.display_name}, "
                 f"weights {weights}, activations and KV bf16")
    with progress(f"writing {out}"):
        write_trace(report, out)
    if as_json:
        print(json.dumps(summary_record(report, str(out)), indent=2))
        return
    print_summary(report, title, per_unit, console())
    console(stderr=True).print(f"wrote {out}: open it at https://ui.perfetto.dev", markup=False)


def _prompt_tokens(model: str, prompt: str | None, tokens: int | None) -> tuple["ModelConfig", int]:
    """The model's config and the prompt's length in its own tokenizer's tokens."""
    from fabless.model import load_model_config
    from fabless.model.checkpoint import load_checkpoint, shipped_checkpoint_names

    if (prompt is None) == (tokens is None):
        raise FablessError("pass exactly one of --prompt TEXT (tokenized by the model) or --tokens N")
    if tokens is not None:
        return load_model_config(model), tokens
    assert prompt is not None
    if model.lower() not in shipped_checkpoint_names() and not Path(model).exists():
        raise FablessError(
            f"model {model} ships no tokenizer to count the prompt's tokens: pass --tokens N, or --model "
            f"a checkpoint ({', '.join(shipped_checkpoint_names())}) or a checkpoint directory"
        )
    checkpoint = load_checkpoint(model)
    count = len(checkpoint.tokenizer.encode(prompt))
    if count == 0:
        raise FablessError("the prompt has no tokens: pass some text with --prompt")
    return checkpoint.config, count


def _load_program(path: Path) -> "Program":
    from fabless.isa import assemble, decode_program

    if not path.is_file():
        raise FablessError(f"program {path} does not exist: pass an assembler (.s) or binary (.bin) file")
    data = path.read_bytes()
    if path.suffix == ".bin":
        return decode_program(data, origin=str(path))
    return assemble(data.decode(errors="replace"), origin=str(path))


def summary_record(report: "CycleReport", trace_path: str | None = None) -> dict[str, object]:
    """The report as JSON-ready numbers (SI units), per unit kind."""
    return {
        "chip": report.chip,
        "trace": trace_path,
        "instructions": report.instructions,
        "cycles": report.cycles,
        "time_s": report.time_s,
        "matrix_flops": report.matrix_flops,
        "hbm_bytes": report.hbm_bytes,
        "flops_per_s": report.flops_per_s,
        "peak_flops_per_s": report.peak_flops_per_s,
        "hbm_bytes_per_s": report.hbm_bytes_per_s,
        "peak_hbm_bytes_per_s": report.peak_hbm_bytes_per_s,
        "roofline_time_s": report.roofline_time_s,
        "roofline_fraction": report.roofline_fraction,
        "bound": report.bound,
        "units": [
            {
                "name": u.name,
                "core": u.core,
                "unit": u.unit,
                "busy_cycles": u.busy_cycles,
                "stall_cycles": dict(u.stall_cycles),
                "idle_cycles": u.idle_cycles,
            }
            for u in report.units
        ],
    }


def print_summary(report: "CycleReport", title: str, per_unit: bool, out: Console) -> None:
    """Headline numbers, then where each unit's (or each kind of unit's) cycles went."""
    from fabless.cyclesim import STALL_REASONS

    head = Table(title=title, show_header=False)
    head.add_column("what")
    head.add_column("value", justify="right")
    head.add_row("instructions", f"{report.instructions:,}")
    head.add_row("time", f"{report.cycles:,.0f} cycles = {report.time_s * 1e6:,.2f} us")
    if report.matrix_flops:
        head.add_row(
            "matrix",
            f"{report.flops_per_s / 1e12:,.1f} TFLOP/s "
            f"({report.mxu_utilization:.1%} of {report.peak_flops_per_s / 1e12:,.0f})",
        )
    head.add_row(
        "HBM",
        f"{report.hbm_bytes_per_s / 1e12:,.2f} TB/s "
        f"({report.hbm_utilization:.1%} of {report.peak_hbm_bytes_per_s / 1e12:,.2f})",
    )
    head.add_row(
        "roofline",
        f"{report.roofline_fraction:.1%} of the {report.bound}-bound limit ({report.roofline_time_s * 1e6:,.2f} us)",
    )
    print_table(out, head)

    groups: dict[str, list] = {}
    for unit in report.units:
        groups.setdefault(unit.name if per_unit else unit.unit, []).append(unit)
    reasons = [r for r in STALL_REASONS if any(u.stall_cycles[r] for u in report.units)]
    table = Table(title="where the cycles went (share of the program's time, averaged over units)")
    for column in ("unit", "count", "busy", *reasons, "idle"):
        table.add_column(
            column,
            justify="left" if column == "unit" else "right",
            min_width=max(len(column), 7 if column == "unit" else 0),
        )
    for name, units in groups.items():
        total = report.cycles * len(units) or 1.0

        def share(cycles: float, total: float = total) -> str:
            return f"{cycles / total:.1%}"

        table.add_row(
            name,
            str(len(units)),
            share(sum(u.busy_cycles for u in units)),
            *(share(sum(u.stall_cycles[r] for u in units)) for r in reasons),
            share(sum(u.idle_cycles for u in units)),
        )
    print_table(out, table)
