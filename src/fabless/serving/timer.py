"""How long one engine step takes: the interface the serving simulator runs against.

A step of continuous batching advances every decoding sequence by one token and may
process a chunk of prompt tokens too. Any model that can price a prefill of `tokens`
prompt tokens and a decode of `batch` sequences at a mean `context` serves as a timer:
the analytical performance model on one chip or on a sharded multi-chip plan, or a
simple affine model for tests.
"""

import math
from dataclasses import dataclass, field, fields
from typing import Protocol

from fabless.checks import real, whole

MAX_STEP_COST_S = 3600.0
"""An hour per step or per token: far past any chip, yet finite, so times stay finite."""


class StepTimer(Protocol):
    def prefill_s(self, tokens: int, seq: int) -> float:
        """One step that processes `tokens` prompt tokens, in chunks of about `seq` tokens per sequence."""
        ...

    def decode_s(self, batch: int, context: int) -> float:
        """One step in which `batch` sequences holding `context` tokens each emit one token."""
        ...


def mixed_step_s(timer: StepTimer, prefill_tokens: int, chunks: int, batch: int, context: int) -> float:
    """A step with `chunks` prompt chunks of `prefill_tokens` in all, and `batch` decodes.

    Every token of the step goes through the same weight matrices, so the step costs at
    least a prefill of all its tokens; the decodes also read their KV cache, so it costs
    at least their decode step. We take the larger: for a big chunk the prefill's compute
    hides the KV reads, for a small one the decode's memory traffic dominates.
    """
    if prefill_tokens == 0:
        return timer.decode_s(batch, context) if batch else 0.0
    # Each decode counts as a one-token chunk in the prefill's matmuls.
    tokens = prefill_tokens + batch
    step = timer.prefill_s(tokens, math.ceil(tokens / (chunks + batch)))
    return max(step, timer.decode_s(batch, context)) if batch else step


@dataclass(frozen=True)
class AffineStepTimer:
    """A step costs a fixed time plus a price per prompt token, per sequence and per KV token read."""

    fixed_s: float
    per_prefill_token_s: float
    per_sequence_s: float = 0.0
    per_context_token_s: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, real(f.name, getattr(self, f.name), 0.0, MAX_STEP_COST_S))

    def prefill_s(self, tokens: int, seq: int) -> float:
        return self.fixed_s + self.per_prefill_token_s * tokens

    def decode_s(self, batch: int, context: int) -> float:
        return self.fixed_s + batch * (self.per_sequence_s + self.per_context_token_s * context)


@dataclass
class MemoStepTimer:
    """Memoises a slow timer on (batch, bucketed context) and bucketed prompt tokens and chunks.

    Contexts and token counts are rounded up to a multiple of 1/`buckets_per_octave` of
    their power of two, and at least of `min_bucket`: within 1/8 of the true value above
    128 tokens, and a simulation of thousands of steps prices only a few hundred.
    """

    timer: StepTimer
    buckets_per_octave: int = 8
    min_bucket: int = 16
    _prefill: dict[tuple[int, int], float] = field(default_factory=dict, repr=False)
    _decode: dict[tuple[int, int], float] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        whole("buckets_per_octave", self.buckets_per_octave, 1, 1024)
        whole("min_bucket", self.min_bucket, 1, 1 << 20)

    def prefill_s(self, tokens: int, seq: int) -> float:
        key = (self.bucket(tokens), self.bucket(seq))
        time = self._prefill.get(key)
        if time is None:
            time = self._prefill[key] = self.timer.prefill_s(key[0], min(key))
        return time

    def decode_s(self, batch: int, context: int) -> float:
        key = (batch, self.bucket(context))
        time = self._decode.get(key)
        if time is None:
            time = self._decode[key] = self.timer.decode_s(*key)
        return time

    def bucket(self, value: int) -> int:
        if value <= self.min_bucket:
            return max(value, 1)
        step = max(self.min_bucket, (1 << (value.bit_length() - 1)) // self.buckets_per_octave)
        return int(math.ceil(value / step) * step)

    @property
    def evaluations(self) -> int:
        """Distinct steps priced by the underlying timer so far."""
        return len(self._prefill) + len(self._decode)
