"""What a multi-core systolic chip's program pays to move activations through HBM.

A core of a systolic chip reads and writes only its own SRAM, and the ISA writes SRAM
only at rows known when the program compiles, so two kinds of data take a trip through
HBM that the op's own traffic does not count:

- An all-gather between cores. The compiler (`compiler/cores.py`) shares an op's output
  by columns (a projection's output channels, an activation's columns, attention's heads)
  or by rows (a prefill's attention), and where the next op needs whole rows every core
  stores its share to HBM and then every core loads the whole: `(1 + cores)` times the
  output's bytes cross HBM, and the loads wait on the stores (two access latencies).
  It exchanges after the Q/K/V projection (RoPE and attention take whole heads, which
  column shares cut), after attention (the output projection sums over every head),
  after both residual adds (the norm that follows takes whole rows) and after the MLP
  activation (the down projection sums over every channel); the output and down
  projections feed an add on the same columns, and gate/up the activation, so those
  stay split (`compiler/codegen.py`).
- The new token's key and value in a step that attends a KV cache: they reach the
  cache only by a scatter to HBM at the run-time position, and the cache is read back
  after the write lands, so attention waits two access latencies before it starts.

HBM's access latency is not in a chip description; it is the memory-system number the
cycle simulator uses too (`fabless.chip.memory_system`).
"""

from fabless.chip.memory_system import memory_system
from fabless.chip.spec import DTYPE_BYTES, ChipSpec
from fabless.graph.ops import Attention, MatMul, Op, Pointwise
from fabless.perf.fusion import FusedElementwise

_ACCUMULATOR_BYTES = DTYPE_BYTES["fp32"]
"""A projection's output leaves the MXU accumulator as fp32 words, and the residual stream
is kept in fp32, so those exchanges move 4 bytes an element whatever the activation dtype."""

_QKV = ("q_proj", "k_proj", "v_proj", "qkv")
_ACTIVATIONS = ("silu_mul", "gelu", "gelu_tanh")


def hbm_latency_s() -> float:
    """Time from a DMA request to its first byte landing (a read) or its write acknowledged."""
    return memory_system().hbm_latency_s


def exchanged_bytes(chip: ChipSpec, op: Op) -> float:
    """Bytes one instance of `op` sends through HBM to make its output whole on every core:
    each core stores its share (the output once) and every core loads the whole."""
    if chip.family != "systolic" or chip.cores == 1:
        return 0.0
    output = exchanged_output_bytes(op)
    return output * (1 + chip.cores)


def exchanged_output_bytes(op: Op) -> float:
    """The output bytes of one instance of `op` that a multi-core program all-gathers (0 if none)."""
    if isinstance(op, Attention):
        # Read by the output projection: in the activation dtype its MXU takes.
        return op.batch * op.q_len * op.heads * op.head_dim * DTYPE_BYTES[op.act_dtype]
    if isinstance(op, MatMul) and op.name.split("+")[0] in _QKV:
        return op.m * op.n * _ACCUMULATOR_BYTES
    if isinstance(op, FusedElementwise):
        # A residual add fused with the norm after it: the sum is gathered, the norm runs
        # on every core's whole rows.
        first = op.parts[0]
        return exchanged_output_bytes(first) if isinstance(first, Pointwise) and first.fn == "add" else 0.0
    if isinstance(op, Pointwise) and op.fn == "add":
        return op.rows * op.cols * _ACCUMULATOR_BYTES
    if isinstance(op, Pointwise) and op.fn in _ACTIVATIONS:
        return op.rows * op.cols * DTYPE_BYTES[op.out_dtype or op.dtype]
    return 0.0


def exchange_latency_s(chip: ChipSpec, op: Op) -> float:
    """The store-then-load round trip of one instance's all-gather: two access latencies in
    series, since no core may load the whole before every core's store has landed."""
    return 2.0 * hbm_latency_s() if exchanged_bytes(chip, op) else 0.0


def program_start_s(chip: ChipSpec, op: Op) -> float:
    """What a compiled systolic program waits before its first op, `op`, computes: its weights
    and the step's input are in HBM, so nothing starts until the first bytes land (one access
    latency; weights and input stream in on their own queues at once). Attention's operands
    are another op's output, which the program keeps in SRAM, and its wait on the KV cache is
    `kv_round_trip_s`. A compiled program launches no kernels, so this, the round trips here
    and the arrays' fills and drains (`systolic.py`) are all it exposes beyond its streams."""
    if chip.family != "systolic" or not waits_for_program_input(op):
        return 0.0
    return hbm_latency_s()


def waits_for_program_input(op: Op) -> bool:
    """Whether `op`, first in a compiled program, waits for its operands to land from HBM."""
    return not isinstance(op, Attention)


def kv_round_trip_s(chip: ChipSpec, op: Op) -> float:
    """The wait of one instance of attention over a KV cache for its new keys and values:
    scattered to HBM at a run-time position, then read back after the write lands (two
    access latencies in series). A step whose keys are all its own rows (a prefill into a
    bucket of its length, an encoder) attends them straight from SRAM."""
    if chip.family != "systolic" or not attends_kv_cache(op):
        return 0.0
    return 2.0 * hbm_latency_s()


def attends_kv_cache(op: Op) -> bool:
    """Whether `op` is attention over keys beyond its own rows (a cache in HBM)."""
    return isinstance(op, Attention) and op.kv_len > op.q_len
