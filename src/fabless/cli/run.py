"""`fabless run`: a real model on the simulated chip, compiled and executed instruction by instruction.

A decoder's text is the command's output: written to stdout as raw UTF-8, token by token
as the chip produces it, so `fabless run ... | tee out.txt` holds exactly the decoded text.
Everything about the run (timings, instruction counts, the memory map, cycle timing) goes
to stderr, or with `--json` into one JSON object on stdout.
"""

import json
import math
import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fabless.checks import clip
from fabless.cli import options
from fabless.cli.app import app
from fabless.cli.console import console, print_table
from fabless.cli.progress import progress
from fabless.errors import FablessError

if TYPE_CHECKING:
    import numpy as np

    from fabless.chip import ChipSpec
    from fabless.compiler import ChipModel, HbmLayout
    from fabless.cyclesim import CycleReport
    from fabless.funcsim import RunStats
    from fabless.isa import Program
    from fabless.model.tokenizer import Tokenizer

MAX_NEW_TOKENS = 100_000
MAX_CORES = 4096


@app.command("run")
def run(
    chip: str = typer.Option("fab1", "--chip", help="Chip preset or .toml of family systolic."),
    model: str = typer.Option(..., "--model", help="smollm2-135m, minilm-l6, or a checkpoint directory."),
    prompt: str | None = typer.Option(None, "--prompt", help="Prompt for a decoder (Llama-style) model."),
    texts: Annotated[list[str] | None, typer.Option("--text", help="Text to embed with an encoder; repeat it.")] = None,
    max_new_tokens: int = options.count(20, "--max-new-tokens", "Tokens to generate greedily.", high=MAX_NEW_TOKENS),
    weights: str = typer.Option(
        "fp32", "--weights", help="fp32 (PyTorch-exact), bf16, fp8 or int8 (per-channel scales)."
    ),
    chat: bool = typer.Option(True, "--chat/--no-chat", help="Wrap the prompt in the model's chat template."),
    memory_map: bool = typer.Option(False, "--memory-map", help="Also report where everything sits in HBM."),
    timing: bool = typer.Option(False, "--timing", help="Also time the executed programs on the cycle simulator."),
    cores: int | None = options.count(
        None, "--cores", "Cores the programs spread over (default: all of the chip's); the bits are the same.",
        high=MAX_CORES,
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the text (or similarities) and statistics as JSON."),
) -> None:
    """Generate text (decoders) or compare embeddings (encoders) on the functional simulator."""
    from fabless.chip import load_chip
    from fabless.compiler import ChipModel, Numerics
    from fabless.compiler.quantize import WEIGHT_DTYPES
    from fabless.model.checkpoint import load_checkpoint

    if weights not in WEIGHT_DTYPES:
        raise FablessError(f"--weights {weights!r} is not one of {', '.join(WEIGHT_DTYPES)}")
    spec = load_chip(chip)
    with progress(f"loading {model}"):
        checkpoint = load_checkpoint(model)
    config = checkpoint.config
    numerics = Numerics.for_weights(weights)
    record: dict[str, Any] = {"chip": spec.name, "model": config.name, "weights": weights, "cores": cores}
    if config.family == "bert":
        if not texts:
            raise FablessError(f"model {config.name} is an encoder: pass --text (twice or more) to compare")
        encoded = [checkpoint.tokenizer.encode(text) for text in texts]
        context = _context(max(len(i) for i in encoded), config.max_positions)
        with progress("placing the weights in the simulated HBM"):
            loaded = ChipModel(spec, checkpoint, numerics, max_context=context, cores=cores)
        with progress(f"encoding on the simulated {spec.name}", total=len(encoded)) as advance:
            vectors = []
            for ids in encoded:
                vectors.append(loaded.encode(ids))
                advance()
        cosine = _cosine(vectors)
        record |= {"texts": texts, "cosine_similarity": cosine, "encode_s": loaded.seconds["encode"]}
        if not as_json:
            _similarities(console(), texts, cosine)
        summary = f"{len(texts)} encodes on the simulated {spec.name} in {loaded.seconds['encode']:.2f} s"
        executed = [loaded.program("encode", len(i), len(i)) for i in encoded]
    else:
        if prompt is None:
            raise FablessError(f"model {config.name} is a decoder: pass --prompt")
        tokenizer = checkpoint.tokenizer
        ids = tokenizer.chat_prompt(prompt) if chat else tokenizer.encode(prompt)
        if len(ids) + max_new_tokens > config.max_positions + 1:
            raise FablessError(
                f"{len(ids)} prompt tokens + --max-new-tokens {max_new_tokens} exceed {config.name}'s context "
                f"of {config.max_positions}: lower --max-new-tokens"
            )
        context = _context(len(ids) + max_new_tokens, config.max_positions)
        with progress("placing the weights in the simulated HBM"):
            loaded = ChipModel(spec, checkpoint, numerics, max_context=context, cores=cores)
        new = _generate(loaded, tokenizer, ids, max_new_tokens, stream=not as_json)
        steps, decode_s = len(new) - 1, loaded.seconds["decode"]
        rate = f"{steps / decode_s:.2f} tokens/s" if steps else "no decode step"
        record |= {"prompt_tokens": len(ids), "token_ids": new, "text": tokenizer.decode(new),
                   "prefill_s": loaded.seconds["prefill"], "decode_steps": steps, "decode_s": decode_s}
        summary = (
            f"{len(ids)}-token prompt prefilled in {loaded.seconds['prefill']:.2f} s, then {steps} decode "
            f"steps in {decode_s:.2f} s ({rate}, compiling included) on the simulated {spec.name}, "
            f"weights {weights}"
        )
        executed = [loaded.program("prefill", len(ids), len(ids))]
        executed += [loaded.program("decode", 1, len(ids) + step) for step in range(1, len(new))]
    record |= _stats_record(loaded.stats, loaded.programs_compiled)
    err = console(stderr=True)
    if not as_json:
        err.print(summary, markup=False)
        _counts(err, loaded.stats, loaded.programs_compiled, weights)
    if timing:
        report = _timing(spec, executed)
        if as_json:
            from fabless.cli.trace import summary_record

            record["timing"] = summary_record(report)
        else:
            from fabless.cli.trace import print_summary

            title = f"Cycle-level timing of the {len(executed)} executed programs on {spec.name}, weights {weights}"
            print_summary(report, title, False, err)
    if memory_map:
        if as_json:
            record["memory_map"] = [
                {"region": name, "offset": offset, "bytes": size, "dtype": dtype, "shape": shape}
                for name, offset, size, dtype, shape in loaded.layout.memory_map()
            ]
        else:
            _memory_map(err, loaded.layout)
    if as_json:
        print(json.dumps(record, indent=2))


def _generate(
    loaded: "ChipModel", tokenizer: "Tokenizer", ids: list[int], max_new_tokens: int, stream: bool
) -> list[int]:
    """Greedy decoding by `ChipModel.generate`, each token shown (and counted on the bar) as it comes."""
    text = _TextStream(tokenizer) if stream else None
    # On a terminal the streaming text is the progress; piped, a bar on stderr (if that is a terminal) is.
    shown = stream and sys.stdout.isatty()
    so_far: list[int] = []
    advance: Callable[..., None] | None = None
    with ExitStack() as phase:
        phase.enter_context(progress(f"prefilling {len(ids)} prompt tokens (compiling the program)"))

        def on_token(token: int) -> None:
            nonlocal advance
            if advance is None:  # the first token ends the prefill
                phase.close()
                advance = phase.enter_context(progress("decoding", total=max_new_tokens, enabled=not shown))
            so_far.append(token)
            if text is not None:
                text.update(so_far)
            advance()

        new = loaded.generate(ids, max_new_tokens, on_token=on_token)
    if text is not None:
        text.finish(new)
    return new


class _TextStream:
    """Writes the decoded text to stdout as it grows, holding back a character until its bytes are complete.

    A byte-level tokenizer may split one UTF-8 character over two tokens; decoding the first
    alone gives U+FFFD, so nothing is written until the next token completes it. At the end
    the written bytes are exactly the UTF-8 of `tokenizer.decode(all new ids)`.
    """

    def __init__(self, tokenizer: "Tokenizer") -> None:
        self.tokenizer = tokenizer
        self.written = ""

    def update(self, ids: list[int]) -> None:
        text = self.tokenizer.decode(ids)
        if not text.endswith("\ufffd") and text.startswith(self.written):
            self._write(text[len(self.written):])

    def finish(self, ids: list[int]) -> None:
        text = self.tokenizer.decode(ids)
        if not text.startswith(self.written):
            raise FablessError("the tokenizer decoded the generated text differently once it was complete")
        self._write(text[len(self.written):])
        if sys.stdout.isatty():
            self._write("\n")  # the shell's prompt on its own line; a pipe gets the text alone

    def _write(self, piece: str) -> None:
        if not piece:
            return
        sys.stdout.flush()
        sys.stdout.buffer.write(piece.encode("utf-8"))
        sys.stdout.buffer.flush()
        self.written += piece


def _context(tokens: int, limit: int) -> int:
    """The KV-cache and mask length to lay out: the need, rounded up to 128 positions."""
    return min(limit, max(128, math.ceil(tokens / 128) * 128))


def _cosine(vectors: "list[np.ndarray]") -> list[list[float]]:
    import numpy as np

    stacked = np.stack(vectors)
    unit = stacked / np.maximum(np.linalg.norm(stacked, axis=1, keepdims=True), 1e-12)
    return [[float(value) for value in row] for row in unit @ unit.T]


def _similarities(out: Console, texts: list[str], cosine: list[list[float]]) -> None:
    table = Table(title="Cosine similarity of the embeddings (mean-pooled)")
    table.add_column("text")
    for index in range(len(texts)):
        table.add_column(f"#{index + 1}", justify="right")
    for index, text in enumerate(texts):
        label = f"#{index + 1} {clip(text, 40)}"
        table.add_row(label, *(f"{value:.4f}" for value in cosine[index]))
    print_table(out, table)


def _stats_record(stats: "RunStats", programs: int) -> dict[str, Any]:
    return {"programs_compiled": programs, "instructions": dict(sorted(stats.by_engine.items())),
            "total_instructions": stats.total_instructions, "hbm_read_bytes": stats.hbm_read_bytes,
            "hbm_written_bytes": stats.hbm_written_bytes, "macs": stats.macs}


def _counts(out: Console, stats: "RunStats", programs: int, weights: str) -> None:
    table = Table(title=f"Executed on the functional simulator ({programs} programs compiled), weights {weights}")
    table.add_column("engine")
    table.add_column("instructions", justify="right")
    for engine, count in sorted(stats.by_engine.items()):
        table.add_row(engine, f"{count:,}")
    table.add_row("total", f"{stats.total_instructions:,}")
    print_table(out, table)
    out.print(
        f"HBM bytes read {stats.hbm_read_bytes:,}, written {stats.hbm_written_bytes:,}; "
        f"MXU multiply-accumulates {stats.macs:,}"
    )


def _timing(chip: "ChipSpec", executed: "list[Program]") -> "CycleReport":
    """Time every program the run executed, in order, cycle by cycle (a shared program is timed once)."""
    from fabless.cyclesim import CycleReport, run_in_sequence, simulate

    timed: dict[int, CycleReport] = {}
    with progress("timing the executed programs cycle by cycle", total=len(executed)) as advance:
        for program in executed:
            if id(program) not in timed:
                timed[id(program)] = simulate(chip, program, record=False)
            advance()
    return run_in_sequence([timed[id(program)] for program in executed])


def _memory_map(out: Console, layout: "HbmLayout") -> None:
    table = Table(title=f"HBM memory map of {layout.config.name} ({layout.size_bytes / 2**20:,.1f} MiB)")
    for column in ("region", "offset", "bytes", "dtype", "shape"):
        table.add_column(column, justify="right" if column in ("offset", "bytes") else "left")
    for name, offset, size, dtype, shape in layout.memory_map():
        table.add_row(name, f"{offset:#012x}", f"{size:,}", dtype, shape)
    print_table(out, table)
