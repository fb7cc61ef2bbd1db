"""A request shape served at a fixed batch on one chip or a tensor-parallel group."""

from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError
from fabless.model.config import ModelConfig
from fabless.model.precision import Precision
from fabless.perf.calibration import Efficiency, efficiency_for
from fabless.perf.estimate import decode_time, prefill_time
from fabless.perf.memory import chips_needed, fits, max_batch, memory_footprint
from fabless.perf.results import ServingEstimate
from fabless.perf.tensor_parallel import shard_config, tp_collectives_s


def phase_time_s(
    chip: ChipSpec,
    config: ModelConfig,
    precision: Precision,
    phase: str,
    batch: int,
    length: int,
    chips: int,
    efficiency: Efficiency | None = None,
) -> float:
    """A prefill of `length` tokens or a decode step at context `length` on a `chips`-way TP group,
    as a serving engine runs it: the kernels, the TP all-reduces and the engine's per-step cost."""
    shard = shard_config(config, chips)
    if phase == "prefill":
        step = prefill_time(chip, shard, precision, batch, length, efficiency).time_s
        tokens = batch * length
    else:
        step = decode_time(chip, shard, precision, batch, length, efficiency).time_s
        tokens = batch
    overhead = engine_overhead_s(efficiency or efficiency_for(chip), batch)
    # The residual stream that TP all-reduces stays 16-bit even when GEMMs run in 8 bits.
    residual_bytes = max(precision.activation_bytes, 2.0)
    return step + overhead + tp_collectives_s(chip, config, tokens, residual_bytes, chips, efficiency)


def engine_overhead_s(efficiency: Efficiency, sequences: int) -> float:
    """The serving engine's own cost of one step over `sequences` sequences, outside the kernels:
    a fixed part and a part per sequence (each is scheduled, has its inputs and block table
    prepared and samples one token, whether it decodes or ends a prompt chunk)."""
    return efficiency.step_overhead_s + sequences * efficiency.sequence_overhead_s


def estimate_serving(
    chip: ChipSpec,
    config: ModelConfig,
    precision: Precision,
    batch: int,
    input_len: int,
    output_len: int,
    chips: int | None = None,
) -> ServingEstimate:
    """TTFT of a batched prefill and TPOT at the mean context, on `chips` (default: the fewest that fit)."""
    if input_len < 1 or output_len < 1 or batch < 1:
        raise FablessError("batch, input and output lengths must each be at least 1")
    if config.family == "bert":
        raise FablessError(f"model {config.name} is an encoder: serve it with prefill estimates, not decode")
    context = input_len + output_len
    degree = chips or chips_needed(chip, config, precision, batch, context)
    footprint = memory_footprint(config, precision, batch, context)
    ttft = phase_time_s(chip, config, precision, "prefill", batch, input_len, degree)
    tpot = phase_time_s(chip, config, precision, "decode", batch, input_len + output_len // 2, degree)
    return ServingEstimate(
        chip=chip.name,
        model=config.name,
        batch=batch,
        input_len=input_len,
        output_len=output_len,
        chips=degree,
        ttft_s=ttft,
        tpot_s=tpot,
        fits=fits(chip, footprint, degree),
        max_batch=max_batch(chip, config, precision, context, degree),
        footprint=footprint,
    )
