"""Run a real model on the functional simulator: weights in HBM once, then program after program.

Programs are compiled per (phase, tokens, context bucket) and cached, so a decode loop
runs one program over and over: token ids and positions are the only inputs the host
writes per step, and the logits (or the pooled embedding) the only output it reads.
"""

import gc
import time
import weakref
from collections.abc import Callable, Sequence

import numpy as np

from fabless.chip.spec import ChipSpec
from fabless.compiler.codegen import compile_graph, context_bucket
from fabless.compiler.layout import HbmLayout, plan_layout
from fabless.compiler.numerics import Numerics
from fabless.compiler.weights import storage_array, weight_images
from fabless.errors import FablessError
from fabless.funcsim import FunctionalSimulator, RunStats
from fabless.graph import decode_graph, encode_graph, prefill_graph
from fabless.isa import Program
from fabless.model.checkpoint import Checkpoint
from fabless.model.precision import Precision

_GRAPH_PRECISION = Precision()
"""Graph dtypes only label ops for the performance model; the layout's Numerics rule here."""


class ChipModel:
    """A checkpoint resident in a simulated chip's HBM, ready to prefill, decode or encode."""

    def __init__(
        self, chip: ChipSpec, checkpoint: Checkpoint, numerics: Numerics, max_context: int, cores: int | None = None
    ) -> None:
        config = checkpoint.config
        if config.family not in ("llama", "bert") or config.is_moe:
            raise FablessError(
                f"model {config.name} ({config.model_type}) cannot run on the simulated chip: "
                "the compiler runs dense Llama- and BERT-style models"
            )
        self.chip = chip
        self.cores = cores
        """Cores the programs spread over (None: all); every choice computes the same bits."""
        self.checkpoint = checkpoint
        self.config = config
        self.layout: HbmLayout = plan_layout(config, numerics, max_context=min(max_context, config.max_positions))
        self.simulator = FunctionalSimulator(chip, hbm_bytes=self.layout.size_bytes)
        weakref.finalize(self, gc.unfreeze)
        for region, value in weight_images(self.layout, checkpoint.tensors):
            self.simulator.write_hbm(region.offset, storage_array(region, value))
        self.stats = RunStats()
        self.seconds = {"prefill": 0.0, "decode": 0.0, "encode": 0.0}
        """Wall time spent per phase (compiling included), for tokens/s reports."""
        self.length = 0
        self._programs: dict[tuple[str, int, int], Program] = {}

    @property
    def programs_compiled(self) -> int:
        return len(self._programs)

    def program(self, phase: str, tokens: int, kv_len: int) -> Program:
        """The cached program of a step; decode steps share one per context bucket."""
        bucket = context_bucket(self.chip, kv_len, self.layout.max_context) if phase != "encode" else kv_len
        key = (phase, tokens, bucket)
        if key not in self._programs:
            if phase == "prefill":
                graph = prefill_graph(self.config, _GRAPH_PRECISION, 1, tokens)
            elif phase == "decode":
                graph = decode_graph(self.config, _GRAPH_PRECISION, 1, kv_len - 1)
            else:
                graph = encode_graph(self.config, _GRAPH_PRECISION, 1, tokens)
            self._programs[key] = compile_graph(self.chip, graph, self.layout, self.cores)
            # Programs live as long as the model; moving them out of the collector's reach
            # keeps its full passes, which would walk every instruction, off the decode loop.
            # Frozen garbage is never freed, so collect first; the model thaws them when it goes.
            gc.collect()
            gc.freeze()
        return self._programs[key]

    def prefill(self, token_ids: Sequence[int]) -> np.ndarray:
        """Start a sequence with `token_ids`; the fp32 logits [vocab] after its last token."""
        self._require("llama")
        if not token_ids:
            raise FablessError("the prompt is empty: pass at least one token")
        self.length = 0
        return self._causal_step(list(token_ids), "prefill")

    def step(self, token_id: int) -> np.ndarray:
        """Append one token; the fp32 logits [vocab] for the next."""
        self._require("llama")
        if self.length == 0:
            raise FablessError("step() before prefill(): prefill the prompt first")
        return self._causal_step([token_id], "decode")

    def generate(
        self,
        prompt_ids: Sequence[int],
        max_new_tokens: int,
        stop_at_eos: bool = True,
        on_token: Callable[[int], None] | None = None,
    ) -> list[int]:
        """Greedy decoding: the new token ids, ending early after EOS when `stop_at_eos`.

        `on_token` is called with each new id as soon as it is chosen, before the next step
        runs, so a caller can show the text as it grows.
        """
        if max_new_tokens < 0:
            raise FablessError(f"max_new_tokens must be at least 0 (got {max_new_tokens})")
        if len(prompt_ids) + max_new_tokens > self.layout.max_context + 1:
            raise FablessError(
                f"{len(prompt_ids)} prompt tokens + {max_new_tokens} new ones exceed the context of "
                f"{self.layout.max_context} this model was loaded with; lower --max-new-tokens"
            )
        eos = self.checkpoint.tokenizer.eos_token_id if stop_at_eos else None
        new: list[int] = []
        if max_new_tokens == 0:
            return new
        logits = self.prefill(prompt_ids)
        while True:
            new.append(int(np.argmax(logits)))
            if on_token is not None:
                on_token(new[-1])
            if len(new) == max_new_tokens or new[-1] == eos:
                return new
            logits = self.step(new[-1])

    def encode(self, token_ids: Sequence[int]) -> np.ndarray:
        """Mean over tokens of the encoder's last hidden states [hidden], fp32 (not normalised)."""
        self._require("bert")
        tokens = len(token_ids)
        if not 0 < tokens <= self.layout.max_context:
            raise FablessError(
                f"{tokens} tokens: the encoder was loaded for 1 to {self.layout.max_context}; shorten the text"
            )
        start = time.perf_counter()
        self._write_ids(token_ids)
        self._run(self.program("encode", tokens, tokens))
        self.seconds["encode"] += time.perf_counter() - start
        region = self.layout["io.pooled"]
        return self.simulator.read_hbm(region.offset, (self.config.hidden_size,), np.float32)

    def _causal_step(self, token_ids: list[int], phase: str) -> np.ndarray:
        tokens = len(token_ids)
        end = self.length + tokens
        if end > self.layout.max_context:
            raise FablessError(
                f"{end} tokens exceed the context of {self.layout.max_context} this model was loaded with"
            )
        start = time.perf_counter()
        self._write_ids(token_ids)
        positions = np.arange(self.length, end, dtype=np.int32)
        self.simulator.write_hbm(self.layout["io.positions"].offset, positions)
        self._run(self.program(phase, tokens, end))
        self.length = end
        region = self.layout["io.logits"]
        logits = self.simulator.read_hbm(region.offset, (self.config.vocab_size,), np.float32)
        self.seconds[phase] += time.perf_counter() - start
        return logits

    def _write_ids(self, token_ids: Sequence[int]) -> None:
        ids = np.asarray(token_ids, dtype=np.int64)
        if ids.min() < 0 or ids.max() >= self.config.vocab_size:
            raise FablessError(f"a token id is outside {self.config.name}'s vocabulary of {self.config.vocab_size}")
        self.simulator.write_hbm(self.layout["io.tokens"].offset, ids.astype(np.int32))

    def _run(self, program: Program) -> None:
        self.stats = self.stats + self.simulator.run(program)

    def _require(self, family: str) -> None:
        if self.config.family != family:
            kind = "a decoder (llama)" if family == "llama" else "an encoder (bert)"
            raise FablessError(f"model {self.config.name} is not {kind}: use the other entry point")
