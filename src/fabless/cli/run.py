"""`fabless run`: a real model on the simulated chip, compiled and executed instruction by instruction."""

import math
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from fabless.chip import ChipSpec, load_chip
from fabless.cli.app import app
from fabless.cli.trace import print_summary
from fabless.compiler import ChipModel, HbmLayout, Numerics
from fabless.compiler.quantize import WEIGHT_DTYPES
from fabless.cyclesim import CycleReport, run_in_sequence, simulate
from fabless.errors import FablessError
from fabless.funcsim import RunStats
from fabless.isa import Program
from fabless.model.checkpoint import load_checkpoint


@app.command("run")
def run(
    chip: str = typer.Option("fab1", "--chip", help="Chip preset or .toml of family systolic."),
    model: str = typer.Option(..., "--model", help="smollm2-135m, minilm-l6, or a checkpoint directory."),
    prompt: str | None = typer.Option(None, "--prompt", help="Prompt for a decoder (Llama-style) model."),
    texts: Annotated[list[str] | None, typer.Option("--text", help="Text to embed with an encoder; repeat it.")] = None,
    max_new_tokens: int = typer.Option(20, "--max-new-tokens", help="Tokens to generate greedily."),
    weights: str = typer.Option(
        "fp32", "--weights", help="fp32 (PyTorch-exact), bf16, fp8 or int8 (per-channel scales)."
    ),
    chat: bool = typer.Option(True, "--chat/--no-chat", help="Wrap the prompt in the model's chat template."),
    memory_map: bool = typer.Option(False, "--memory-map", help="Also print where everything sits in HBM."),
    timing: bool = typer.Option(False, "--timing", help="Also time the executed programs on the cycle simulator."),
    cores: int | None = typer.Option(
        None, "--cores", help="Cores the programs spread over (default: all of the chip's); the bits are the same."
    ),
) -> None:
    """Generate text (decoders) or compare embeddings (encoders) on the functional simulator."""
    if weights not in WEIGHT_DTYPES:
        raise FablessError(f"--weights {weights!r} is not one of {', '.join(WEIGHT_DTYPES)}")
    spec = load_chip(chip)
    checkpoint = load_checkpoint(model)
    config = checkpoint.config
    console = Console()
    numerics = Numerics.for_weights(weights)
    if config.family == "bert":
        if not texts:
            raise FablessError(f"model {config.name} is an encoder: pass --text (twice or more) to compare")
        encoded = [checkpoint.tokenizer.encode(text) for text in texts]
        context = _context(max(len(i) for i in encoded), config.max_positions)
        loaded = ChipModel(spec, checkpoint, numerics, max_context=context, cores=cores)
        vectors = np.stack([loaded.encode(i) for i in encoded])
        _similarities(console, texts, vectors)
        console.print(f"{len(texts)} encodes on the simulated {spec.name} in {loaded.seconds['encode']:.2f} s")
        executed = [loaded.program("encode", len(i), len(i)) for i in encoded]
    else:
        if prompt is None:
            raise FablessError(f"model {config.name} is a decoder: pass --prompt")
        if max_new_tokens < 1:
            raise FablessError(f"--max-new-tokens must be at least 1 (got {max_new_tokens})")
        tokenizer = checkpoint.tokenizer
        ids = tokenizer.chat_prompt(prompt) if chat else tokenizer.encode(prompt)
        context = _context(len(ids) + max_new_tokens, config.max_positions)
        loaded = ChipModel(spec, checkpoint, numerics, max_context=context, cores=cores)
        new = loaded.generate(ids, max_new_tokens)
        console.print(tokenizer.decode(new), markup=False, highlight=False)
        steps, decode_s = len(new) - 1, loaded.seconds["decode"]
        rate = f"{steps / decode_s:.2f} tokens/s" if steps else "no decode step"
        console.print(
            f"{len(ids)}-token prompt prefilled in {loaded.seconds['prefill']:.2f} s, then {steps} decode "
            f"steps in {decode_s:.2f} s ({rate}, compiling included) on the simulated {spec.name}, "
            f"weights {weights}"
        )
        executed = [loaded.program("prefill", len(ids), len(ids))]
        executed += [loaded.program("decode", 1, len(ids) + step) for step in range(1, len(new))]
    _counts(console, loaded.stats, loaded.programs_compiled)
    if timing:
        _timing(console, spec, executed)
    if memory_map:
        _memory_map(console, loaded.layout)


def _context(tokens: int, limit: int) -> int:
    """The KV-cache and mask length to lay out: the need, rounded up to 128 positions."""
    return min(limit, max(128, math.ceil(tokens / 128) * 128))


def _similarities(console: Console, texts: list[str], vectors: np.ndarray) -> None:
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    cosine = unit @ unit.T
    table = Table(title="Cosine similarity of the embeddings (mean-pooled)")
    table.add_column("text")
    for index in range(len(texts)):
        table.add_column(f"#{index + 1}", justify="right")
    for index, text in enumerate(texts):
        label = f"#{index + 1} {text if len(text) <= 40 else text[:37] + '...'}"
        table.add_row(label, *(f"{value:.4f}" for value in cosine[index]))
    console.print(table)


def _counts(console: Console, stats: RunStats, programs: int) -> None:
    table = Table(title=f"Executed on the functional simulator ({programs} programs compiled)")
    table.add_column("engine")
    table.add_column("instructions", justify="right")
    for engine, count in sorted(stats.by_engine.items()):
        table.add_row(engine, f"{count:,}")
    table.add_row("total", f"{stats.total_instructions:,}")
    console.print(table)
    console.print(
        f"HBM bytes read {stats.hbm_read_bytes:,}, written {stats.hbm_written_bytes:,}; "
        f"MXU multiply-accumulates {stats.macs:,}"
    )


def _timing(console: Console, chip: ChipSpec, executed: list[Program]) -> None:
    """Time every program the run executed, in order, cycle by cycle (a shared program is timed once)."""
    timed: dict[int, CycleReport] = {}
    for program in executed:
        if id(program) not in timed:
            timed[id(program)] = simulate(chip, program, record=False)
    report = run_in_sequence([timed[id(program)] for program in executed])
    print_summary(report, f"Cycle-level timing of the {len(executed)} executed programs on {chip.name}", False, console)


def _memory_map(console: Console, layout: HbmLayout) -> None:
    table = Table(title=f"HBM memory map of {layout.config.name} ({layout.size_bytes / 2**20:,.1f} MiB)")
    for column in ("region", "offset", "bytes", "dtype", "shape"):
        table.add_column(column, justify="right" if column in ("offset", "bytes") else "left")
    for name, offset, size, dtype, shape in layout.memory_map():
        table.add_row(name, f"{offset:#012x}", f"{size:,}", dtype, shape)
    console.print(table)
