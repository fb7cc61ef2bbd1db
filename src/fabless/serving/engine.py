"""One serving instance: continuous batching with chunked prefill over a paged KV cache.

Each step advances every decoding sequence by one token and spends what is left of the
step's token budget on prompt chunks, first of prompts already started, then of new
requests in arrival order (FCFS), while the batch has room. When a decoding sequence
needs a new KV block and none is free, the most recently admitted sequence is preempted:
its blocks are freed and it goes back to the head of the queue to recompute its prompt
and the tokens it had generated (vLLM's recompute preemption).

The work per step is proportional to the sequences that start, finish, cross a KV block
boundary or get preempted in it, not to the batch: a decoding sequence is not touched
between those events because its context at step s is `prompt + s - join_step`.
"""

import heapq
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from fabless.checks import MAX_BATCH, MAX_STEP_TOKENS, real, shown, whole
from fabless.errors import FablessError
from fabless.serving.kvcache import MAX_BLOCK_TOKENS, MAX_KV_TOKENS, PagedKVCache
from fabless.serving.requests import MAX_REQUESTS, Request
from fabless.serving.timer import StepTimer, mixed_step_s

Mode = Literal["mixed", "prefill", "decode"]
MAX_ENGINE_STEPS = 10_000_000
"""Steps one instance simulates, a few minutes of work: past it a run is an error, not a hang."""


@dataclass(frozen=True)
class EngineConfig:
    """Batching limits of one instance and the KV memory it has.

    mode "prefill" serves prompts only (a disaggregated prefill pool: a request leaves
    once its first token is out); "decode" receives requests whose prompt was processed
    elsewhere (their first token is already out).
    """

    kv_capacity_tokens: int
    max_batch: int = 256
    max_step_tokens: int = 8192
    block_tokens: int = 16
    mode: Mode = "mixed"
    watermark: float = 0.01
    """Share of KV blocks a new request must leave free for running ones to grow (vLLM's
    default watermark, 2024); without it admissions and preemptions chase each other."""

    def __post_init__(self) -> None:
        for name, low, high in (("kv_capacity_tokens", 0, MAX_KV_TOKENS), ("max_batch", 1, MAX_BATCH),
                                ("max_step_tokens", 1, MAX_STEP_TOKENS), ("block_tokens", 1, MAX_BLOCK_TOKENS)):
            object.__setattr__(self, name, whole(name, getattr(self, name), low, high))
        if self.mode not in get_args(Mode):
            raise FablessError(f"mode: must be one of {', '.join(get_args(Mode))} (got {shown(self.mode)})")
        object.__setattr__(self, "watermark", real("watermark", self.watermark, 0.0, 1.0))
        if self.max_step_tokens < self.max_batch and self.mode != "prefill":
            raise FablessError(
                f"token budget per step ({self.max_step_tokens}) is below the max batch "
                f"({self.max_batch}): raise --step-tokens so every decoding sequence fits in a step"
            )


@dataclass(frozen=True)
class EngineRun:
    """Per-request times (aligned with the input list) and totals of one instance."""

    first_token_s: np.ndarray
    finish_s: np.ndarray
    preemptions: np.ndarray
    steps: int
    busy_s: float
    batch_time_s: float
    """Sum over steps of decoding sequences x step time: / busy_s is the mean batch."""


class _Seq:
    __slots__ = ("index", "input", "output", "prompt", "done", "held", "generated", "join",
                 "finish_step", "order", "version", "needs_prefill")

    def __init__(self, index: int, request: Request, prefilled: bool) -> None:
        self.index = index
        self.input = request.input_tokens
        self.output = request.output_tokens
        self.prompt = request.input_tokens
        self.done = 0
        self.held = 0
        self.generated = 1 if prefilled else 0
        self.join = 0
        self.finish_step = 0
        self.order = 0
        self.version = 0
        self.needs_prefill = not prefilled


class _Engine:
    def __init__(self, requests: Sequence[Request], timer: StepTimer, config: EngineConfig) -> None:
        self.requests = requests
        self.timer = timer
        self.config = config
        self.kv = PagedKVCache.from_capacity(config.kv_capacity_tokens, config.block_tokens)
        count = len(requests)
        self.first = np.full(count, np.nan)
        self.finish = np.full(count, np.nan)
        self.preemptions = np.zeros(count, dtype=np.int64)
        self.waiting: deque[_Seq] = deque()
        self.prefilling: list[_Seq] = []
        self.decoding: dict[int, _Seq] = {}
        self.finish_heap: list[tuple[int, int, int]] = []
        self.block_heap: list[tuple[int, int, int]] = []
        self.context_base = 0  # sum over decoders of prompt - join: context = base / B + step
        self.admitted = 0
        self.now = 0.0
        self.step = 0
        self.busy_s = 0.0
        self.batch_time_s = 0.0

    def run(self) -> EngineRun:
        order = sorted(range(len(self.requests)), key=lambda i: self.requests[i].arrival_s)
        prefilled = self.config.mode == "decode"
        arrived = 0
        while True:
            while arrived < len(order) and self.requests[order[arrived]].arrival_s <= self.now:
                index = order[arrived]
                self.waiting.append(_Seq(index, self.requests[index], prefilled))
                arrived += 1
            if not (self.waiting or self.prefilling or self.decoding):
                if arrived == len(order):
                    break
                self.now = self.requests[order[arrived]].arrival_s
                continue
            if self.step >= MAX_ENGINE_STEPS:
                raise FablessError(
                    f"the simulation passed {MAX_ENGINE_STEPS:,} engine steps on one instance before every "
                    "request finished: simulate fewer or shorter requests, or give each instance more KV "
                    "memory or batch"
                )
            self._advance(self.step + 1)
        return EngineRun(self.first, self.finish, self.preemptions, self.step, self.busy_s, self.batch_time_s)

    def _advance(self, step: int) -> None:
        self._grow_decoders(step)
        self._admit_prefilled(step - 1)
        work = self._plan_prefill()
        batch = len(self.decoding)
        if not work and not batch:
            # Admitted one-token answers may have finished on the spot and left nothing to run.
            if self.waiting or self.prefilling:
                self._unjam()
            return
        context = round(self.context_base / batch) + step if batch else 0
        dt = mixed_step_s(self.timer, sum(chunk for _, chunk in work), len(work), batch, context)
        if not 0.0 <= dt < math.inf:
            raise FablessError(f"the step timer priced a step at {dt!r} s: step times must be finite and >= 0")
        self.now += dt
        self.step = step
        self.busy_s += dt
        self.batch_time_s += batch * dt
        self._finish_decoders(step)
        for seq, chunk in work:
            seq.done += chunk
        if work:
            finished = [seq for seq, _ in work if seq.done == seq.prompt]
            self.prefilling = [seq for seq in self.prefilling if seq.done < seq.prompt]
            for seq in finished:
                self._prefill_done(seq, step)

    def _grow_decoders(self, step: int) -> None:
        """Give a new KV block to every decoder whose context crosses a block at `step`."""
        while self.block_heap and self.block_heap[0][0] <= step:
            _, version, index = heapq.heappop(self.block_heap)
            seq = self.decoding.get(index)
            if seq is None or seq.version != version:
                continue
            preempted_self = False
            while not self.kv.allocate(1):
                victim = self._newest_running()
                self._preempt(victim)
                if victim is seq:
                    preempted_self = True
                    break
            if not preempted_self:
                seq.held += 1
                self._schedule_block(seq, step + self.kv.block_tokens)

    def _admit_prefilled(self, join_step: int) -> None:
        """Requests whose prompt was processed elsewhere go straight to decoding."""
        while self.waiting and not self.waiting[0].needs_prefill and self._has_room():
            seq = self.waiting[0]
            blocks = self.kv.blocks_for(seq.prompt)
            if not self.kv.allocate(blocks):
                return
            self.waiting.popleft()
            seq.held = blocks
            self._start_decoding(seq, join_step)

    def _plan_prefill(self) -> list[tuple[_Seq, int]]:
        budget = self.config.max_step_tokens - len(self.decoding)
        work: list[tuple[_Seq, int]] = []
        for seq in self.prefilling:
            if budget <= 0:
                return work
            chunk = self._reserve(seq, min(seq.prompt - seq.done, budget))
            if chunk == 0:
                return work
            work.append((seq, chunk))
            budget -= chunk
        reserve = int(self.config.watermark * self.kv.total_blocks)
        while budget > 0 and self.waiting and self.waiting[0].needs_prefill and self._has_room():
            seq = self.waiting[0]
            if self.kv.free_blocks - self.kv.blocks_for(seq.prompt) < reserve and self.decoding:
                break
            chunk = self._reserve(seq, min(seq.prompt, budget))
            if chunk == 0:
                break
            self.waiting.popleft()
            self.admitted += 1
            seq.order = self.admitted
            self.prefilling.append(seq)
            work.append((seq, chunk))
            budget -= chunk
        return work

    def _reserve(self, seq: _Seq, chunk: int) -> int:
        """Blocks for the next `chunk` prompt tokens of `seq`; a shorter chunk if KV is short."""
        bs = self.kv.block_tokens
        room = (seq.held + self.kv.free_blocks) * bs - seq.done
        chunk = max(0, min(chunk, room))
        need = self.kv.blocks_for(seq.done + chunk) - seq.held
        if need > 0:
            self.kv.allocate(need)
            seq.held += need
        return chunk

    def _has_room(self) -> bool:
        return len(self.decoding) + len(self.prefilling) < self.config.max_batch

    def _finish_decoders(self, step: int) -> None:
        while self.finish_heap and self.finish_heap[0][0] <= step:
            _, version, index = heapq.heappop(self.finish_heap)
            seq = self.decoding.get(index)
            if seq is None or seq.version != version:
                continue
            del self.decoding[index]
            self.context_base -= seq.prompt - seq.join
            self.kv.release(seq.held)
            self.finish[index] = self.now

    def _prefill_done(self, seq: _Seq, step: int) -> None:
        seq.generated += 1
        seq.needs_prefill = False
        if math.isnan(self.first[seq.index]):
            self.first[seq.index] = self.now
        if self.config.mode == "prefill" or seq.generated >= seq.output:
            self.kv.release(seq.held)
            self.finish[seq.index] = self.now
            return
        self._start_decoding(seq, step)

    def _start_decoding(self, seq: _Seq, join_step: int) -> None:
        if seq.generated >= seq.output:
            self.kv.release(seq.held)
            self.finish[seq.index] = self.now
            return
        if seq.order == 0:
            self.admitted += 1
            seq.order = self.admitted
        seq.join = join_step
        seq.finish_step = join_step + seq.output - seq.generated
        self.decoding[seq.index] = seq
        self.context_base += seq.prompt - join_step
        heapq.heappush(self.finish_heap, (seq.finish_step, seq.version, seq.index))
        # The context after step s is prompt + s - join; the next block is needed at the
        # first step whose context exceeds the blocks held.
        self._schedule_block(seq, join_step + seq.held * self.kv.block_tokens - seq.prompt + 1)

    def _schedule_block(self, seq: _Seq, step: int) -> None:
        if step <= seq.finish_step:
            heapq.heappush(self.block_heap, (step, seq.version, seq.index))

    def _newest_running(self) -> _Seq:
        running = list(self.decoding.values()) + self.prefilling
        return max(running, key=lambda seq: seq.order)

    def _preempt(self, seq: _Seq) -> None:
        self.kv.release(seq.held)
        seq.held = 0
        seq.version += 1
        if seq.index in self.decoding:
            del self.decoding[seq.index]
            self.context_base -= seq.prompt - seq.join
            # Recompute: the prompt becomes the input plus every token generated so far.
            seq.prompt = seq.input + seq.generated
        else:
            self.prefilling.remove(seq)
        seq.done = 0
        seq.needs_prefill = True
        self.preemptions[seq.index] += 1
        self.waiting.appendleft(seq)

    def _unjam(self) -> None:
        """Nothing could run: partly prefilled prompts hold all the blocks; free the newest."""
        if len(self.prefilling) > 1:
            self._preempt(max(self.prefilling, key=lambda seq: seq.order))
            return
        raise AssertionError("serving engine made no progress with free KV blocks")


def run_engine(requests: Sequence[Request], timer: StepTimer, config: EngineConfig) -> EngineRun:
    """Serve `requests` on one instance; times are in seconds from time 0."""
    check_requests(requests)
    block = config.block_tokens
    capacity = (config.kv_capacity_tokens // block) * block
    longest = max(r.input_tokens + (r.output_tokens if config.mode != "prefill" else 0) for r in requests)
    if math.ceil(longest / block) * block > capacity:
        raise FablessError(
            f"a request of {longest} tokens does not fit the KV cache of {capacity} tokens per instance: "
            "use more chips per instance, a smaller KV dtype, or shorter requests"
        )
    fewest = _fewest_steps(requests, config)
    if fewest > MAX_ENGINE_STEPS:
        raise FablessError(
            f"{len(requests):,} requests need at least {fewest:,} engine steps on one instance, past the "
            f"{MAX_ENGINE_STEPS:,} a simulation runs: simulate fewer or shorter requests, or more replicas"
        )
    return _Engine(requests, timer, config).run()


def check_requests(requests: Sequence[Request]) -> None:
    """Refuse an empty or oversized request list, or one holding anything but `Request`s."""
    if not requests:
        raise FablessError("no requests to serve: pass at least one")
    if len(requests) > MAX_REQUESTS:
        raise FablessError(f"{len(requests):,} requests are more than the {MAX_REQUESTS:,} a simulation serves")
    stray = next((r for r in requests if not isinstance(r, Request)), None)
    if stray is not None:
        raise FablessError(f"requests: every item must be a Request (got {shown(stray)})")


def _fewest_steps(requests: Sequence[Request], config: EngineConfig) -> int:
    """A lower bound on the steps: one token per decoding sequence per step, a budget of prompt tokens."""
    prompt = math.ceil(sum(r.input_tokens for r in requests) / config.max_step_tokens)
    if config.mode == "prefill":
        return prompt
    answers = [r.output_tokens for r in requests]
    return max(prompt, max(answers), math.ceil(sum(answers) / config.max_batch))
