"""A request shape served at a fixed batch on one chip or a tensor-parallel group."""

from fabless.checks import MAX_BATCH, MAX_CHIPS, MAX_TOKENS, whole
from fabless.chip.spec import ChipSpec
from fabless.errors import FablessError
from fabless.model.config import ModelConfig
from fabless.model.precision import Precision
from fabless.perf.calibration import Efficiency, efficiency_for
from fabless.perf.estimate import decode_time, prefill_time
from fabless.perf.memory import chips_needed, fits, max_batch, memory_footprint
from fabless.perf.results import ServingEstimate
from fabless.perf.tensor_parallel import shard_config, tp_collectives_s

PHASES = ("prefill", "decode")


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
    if phase not in PHASES:
        raise FablessError(f"phase: must be prefill or decode (got {phase!r})")
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


def check_request_shape(
    config: ModelConfig, input_len: int, output_len: int, names: tuple[str, str] = ("input_len", "output_len")
) -> None:
    """Refuse lengths out of range, or a prompt and answer that overflow the model's context window;
    `names` are the caller's names for the two lengths."""
    whole(names[0], input_len, 1, MAX_TOKENS)
    whole(names[1], output_len, 1, MAX_TOKENS)
    if input_len + output_len > config.max_positions:
        raise FablessError(
            f"{names[0]} {input_len:,} + {names[1]} {output_len:,} tokens exceed {config.name}'s context window "
            f"of {config.max_positions:,}: shorten the prompt or the answer"
        )


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
    whole("batch", batch, 1, MAX_BATCH)
    check_request_shape(config, input_len, output_len)
    if chips is not None:
        whole("chips", chips, 1, MAX_CHIPS)
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
