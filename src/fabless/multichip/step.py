"""The time of one serving step of a model replica spread over tp x pp chips.

A step is the slowest pipeline stage's sharded compute (the performance model on the
stage's per-chip graph) plus its collectives:

- tensor parallel: two all-reduces of the [tokens, hidden] activations per layer, after
  attention and after the MLP, in bf16 whatever the activation dtype (reductions are not
  done in 8 bits);
- expert parallel (inside the TP group): the MLP all-reduce becomes an all-to-all
  dispatch of each chip's share of the routed tokens and an all-to-all combine, plus an
  all-reduce over the tp / ep chips that split each expert;
- pipeline parallel: a send of the activations between stages. The engine keeps pp
  micro-batches in flight, so a step (every sequence advances one token, prompt chunks
  ride along) is pp stage times on 1/pp of the step's tokens plus pp - 1 sends. A lone
  prompt on an idle replica cannot fill the pipeline: split into pp chunks it pays the
  fill and drain bubble, 2 pp - 1 stage times on tokens / pp (`lone_prefill_s`).

Every step also pays the serving engine's own cost outside the kernels, once per step
whatever the plan: a fixed part and a part per sequence in the step (`engine_overhead_s`,
the calibrated `step_overhead_s` and `sequence_overhead_s`).

Overlap: a fraction `overlap` of the shorter of compute and communication is hidden
under the other. Tensor-parallel all-reduces sit on the critical path of the next
matmul, so the default is 0 (no overlap), as in TensorRT-LLM and vLLM without
compute-communication fusion.
"""

import math
from dataclasses import dataclass, field

from fabless.checks import real
from fabless.chip.spec import DTYPE_BYTES, ChipSpec
from fabless.errors import FablessError
from fabless.model.config import ModelConfig
from fabless.model.precision import Precision
from fabless.multichip.collectives import ALGORITHMS, Algorithm, all_reduce_s, all_to_all_s, send_s
from fabless.multichip.network import Network, network_for
from fabless.multichip.plan import ParallelPlan
from fabless.multichip.shard import stage_config
from fabless.perf import Efficiency, decode_time, efficiency_for, prefill_time
from fabless.perf.serving import engine_overhead_s

REDUCE_BYTES = DTYPE_BYTES["bf16"]


@dataclass
class ShardedStepTimer:
    """A StepTimer for one replica of `plan` (its dp is ignored: replicas time alike)."""

    chip: ChipSpec
    config: ModelConfig
    precision: Precision
    plan: ParallelPlan
    overlap: float = 0.0
    algorithm: Algorithm = "auto"
    network: Network = field(init=False)
    stage: ModelConfig = field(init=False)
    efficiency: Efficiency = field(init=False)

    def __post_init__(self) -> None:
        self.overlap = real("overlap", self.overlap, 0.0, 1.0)
        if self.algorithm not in ALGORITHMS:
            raise FablessError(f"algorithm: must be one of {', '.join(ALGORITHMS)} (got {self.algorithm!r})")
        self.network = network_for(self.chip, self.plan.chips_per_replica)
        self.stage = stage_config(self.config, self.plan.tp, self.plan.pp, self.plan.ep)
        self.efficiency = efficiency_for(self.chip)

    def prefill_s(self, tokens: int, seq: int) -> float:
        pp = self.plan.pp
        micro = max(1, math.ceil(tokens / pp))
        engine = engine_overhead_s(self.efficiency, math.ceil(tokens / max(1, seq)))
        return pp * self._prefill_stage_s(micro, seq) + (pp - 1) * self._send_s(micro) + engine

    def lone_prefill_s(self, tokens: int) -> float:
        """One prompt on an idle replica: pp chunks through pp stages, bubble included."""
        pp = self.plan.pp
        micro = max(1, math.ceil(tokens / pp))
        engine = engine_overhead_s(self.efficiency, 1)
        return (2 * pp - 1) * self._prefill_stage_s(micro, micro) + (pp - 1) * self._send_s(micro) + engine

    def decode_s(self, batch: int, context: int) -> float:
        if batch == 0:
            return 0.0
        pp = self.plan.pp
        micro = max(1, math.ceil(batch / pp))
        compute = decode_time(self.chip, self.stage, self.precision, micro, context).time_s
        stage = self._combine(compute, self.stage_comm_s(micro))
        return pp * stage + (pp - 1) * self._send_s(micro) + engine_overhead_s(self.efficiency, batch)

    def _prefill_stage_s(self, tokens: int, seq: int) -> float:
        seq = max(1, min(seq, tokens, self.config.max_positions))
        compute = prefill_time(self.chip, self.stage, self.precision, math.ceil(tokens / seq), seq).time_s
        return self._combine(compute, self.stage_comm_s(tokens))

    def stage_comm_s(self, tokens: int) -> float:
        """Collectives of one stage's layers for a micro-batch of `tokens` tokens."""
        tp, ep, layers = self.plan.tp, self.plan.ep, self.stage.num_layers
        if tp == 1:
            return 0.0
        activations = tokens * self.config.hidden_size * REDUCE_BYTES
        attention = all_reduce_s(self.network, tp, activations, self.algorithm)
        if ep == 1:
            return layers * 2 * attention
        routed = tokens * self.config.experts_per_token * self.config.hidden_size / ep
        dispatch = all_to_all_s(self.network, ep, routed * self.precision.activation_bytes)
        combine = all_to_all_s(self.network, ep, routed * REDUCE_BYTES)
        expert = all_reduce_s(self.network, tp // ep, activations, self.algorithm)
        return layers * (attention + dispatch + combine + expert)

    def _send_s(self, tokens: int) -> float:
        activations = tokens * self.config.hidden_size * self.precision.activation_bytes
        across = self.plan.chips_per_replica > self.network.domain_chips
        return send_s(self.network, activations, across_domains=across)

    def _combine(self, compute: float, comm: float) -> float:
        return compute + comm - self.overlap * min(compute, comm)
