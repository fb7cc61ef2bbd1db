"""SmolLM2-135M decode speed on the functional simulator of fab1, against plain numpy.

Prints, per weight mode, decode tokens/s on the simulated chip (one compiled program per
context bucket, reused every step), the tokens/s of the numpy float32 reference doing the
same step, their ratio, and what one step executes.

    python bench/funcsim_decode.py [--tokens 32] [--cores 1]

`--cores` compiles for that many of fab1's 8 cores (default all); every core count computes
the same bits, and fewer cores execute fewer instructions (no all-gathers, no repeated
row-wide work).
"""

import argparse
import time

from fabless.chip import load_chip
from fabless.compiler import ChipModel, Numerics
from fabless.model.checkpoint import load_checkpoint
from fabless.model.reference import LlamaReference

PROMPT = "What is the capital of France?"


def _steps_per_s(step, tokens: int) -> float:
    start = time.perf_counter()
    token = 504
    for _ in range(tokens):
        token = int(step(token).argmax())
    return tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=32, help="decode steps to time")
    parser.add_argument("--weights", default="int8,bf16,fp32", help="comma-separated weight modes")
    parser.add_argument("--cores", type=int, default=None, help="cores the programs use (default: all)")
    args = parser.parse_args()
    chip = load_chip("fab1")
    checkpoint = load_checkpoint("smollm2-135m")
    ids = checkpoint.tokenizer.chat_prompt(PROMPT)

    reference = LlamaReference(checkpoint)
    reference.prefill(ids)
    reference.step(504)
    numpy_rate = _steps_per_s(reference.step, args.tokens)

    print(
        f"SmolLM2-135M decode on the functional simulator of {chip.name}, {args.tokens} steps after "
        f"a {len(ids)}-token prompt, programs on {args.cores or chip.cores} cores"
    )
    print(
        f"{'weights':>8} {'chip tok/s':>11} {'numpy tok/s':>12} {'chip/numpy':>11} "
        f"{'instr/token':>12} {'HBM MB/token':>13}"
    )
    for weights in args.weights.split(","):
        model = ChipModel(chip, checkpoint, Numerics.for_weights(weights), max_context=128, cores=args.cores)
        model.prefill(ids)
        model.step(504)  # compiles the decode program of this context bucket
        before = model.stats
        rate = _steps_per_s(model.step, args.tokens)
        instructions = (model.stats.total_instructions - before.total_instructions) / args.tokens
        hbm = (model.stats.hbm_read_bytes - before.hbm_read_bytes) / args.tokens / 1e6
        print(
            f"{weights:>8} {rate:11.2f} {numpy_rate:12.2f} {rate / numpy_rate:11.3f} {instructions:12,.0f} {hbm:13.1f}"
        )


if __name__ == "__main__":
    main()
