"""Moving a prompt's KV cache from a prefill replica to a decode replica (disaggregation)."""

from collections.abc import Callable

from fabless.chip.spec import ChipSpec
from fabless.model.config import ModelConfig
from fabless.model.precision import Precision
from fabless.multichip.collectives import send_s
from fabless.multichip.network import network_for
from fabless.multichip.plan import ParallelPlan


def kv_transfer_time(
    chip: ChipSpec, config: ModelConfig, precision: Precision, plan: ParallelPlan, total_chips: int
) -> Callable[[int], float]:
    """Seconds to move the KV of an `input_tokens` prompt, as a function of its length.

    Every chip of the prefill replica sends its own shard to its peer in the decode
    replica at once, over the scale-up links when both pools fit in one domain and over
    the scale-out NICs otherwise.
    """
    network = network_for(chip, total_chips)
    across = total_chips > network.domain_chips
    per_token = config.kv_cache_bytes_per_token(precision.kv_bytes)
    shards = plan.chips_per_replica

    def transfer_s(input_tokens: int) -> float:
        return send_s(network, input_tokens * per_token / shards, across_domains=across)

    return transfer_s
