"""The analytical model against the cycle simulator: within 10% on fixed workloads and chips.

A case that still disagrees is a strict xfail naming what the analytical model misses, so
it fails the day the model (or the compiler) closes the gap and the mark must go.
"""

from pathlib import Path

import pytest

from fabless.chip import ChipSpec, load_chip
from fabless.cyclesim import AGREEMENT_WORKLOADS, Workload, cycle_estimate_graph
from fabless.perf import estimate_graph

TOLERANCE = 0.10
CHIPS = {
    "fab1": "fab1",
    "edge1": str(Path(__file__).parent / "chips" / "edge1.toml"),
    "wide1": str(Path(__file__).parent / "chips" / "wide1.toml"),
}

DECODE_ROUND_TRIPS = (
    "decode attention waits on HBM round trips the default analytical model does not charge: the new key and "
    "value are scattered to the cache at a run-time position and the cache is read back after the write lands "
    "(no instruction writes SRAM at a run-time row, so the new token reaches its row only through HBM: "
    "2 x 400 ns), and the heads' outputs are all-gathered between cores through HBM (a store, then a load: "
    "2 x 400 ns more); estimate_graph(round_trips=True) charges both (cycle/analytical 0.90 on fab1, 0.93 on "
    "wide1) but is off by default because it pushes agreeing cases out (see ROUND_TRIPS_OFF)"
)
WIDE_PREFILL = (
    "wide1's prefill attention runs each core's 3 passes (one per KV head) as a dependent chain the analytical "
    "model folds into one fill and drain: scores, a 512-cycle drain of the 256x256 array, softmax passes bound by "
    "the 2 KiB/cycle SRAM port (8 bytes a score a pass), values and another drain; then the rows are all-gathered "
    "through HBM (a store, then a load)"
)
PREFILL_EXCHANGE = (
    "a prefill layer on several cores exchanges activations through HBM five times (qkv, attention, both "
    "residuals, the MLP hidden): every core loads the whole [256, n] buffers (29 MB a layer on fab1, 16 MB on "
    "wide1) and each exchange waits on a store and a load (2 x 400 ns); the default analytical model charges "
    "none of it (against its one-core estimate the program is within 10%; with round_trips=True, 1.16 on fab1 "
    "and 1.10 on wide1)"
)
ROUND_TRIPS_OFF = (
    "estimate_graph(round_trips=True) (fabless/perf/exchange.py) is not the default: charged on top of the "
    "0.5 us per-op overhead, which already stands in for these waits on small ops, and of separate RoPE and "
    "KV-write ops the program folds into attention, it moves fab1's prefill attention to 0.75 and the smollm2 "
    "decode layers to 0.67 (fab1) and 0.74 (wide1)"
)
_REASONS = {
    ("fab1", "attention decode llama-3-8b ctx 1024"): [DECODE_ROUND_TRIPS, ROUND_TRIPS_OFF],
    ("wide1", "attention decode llama-3-8b ctx 1024"): [DECODE_ROUND_TRIPS, ROUND_TRIPS_OFF],
    ("wide1", "attention prefill smollm2 256"): [WIDE_PREFILL],
    ("fab1", "layer prefill smollm2 256"): [PREFILL_EXCHANGE, ROUND_TRIPS_OFF],
    ("wide1", "layer prefill smollm2 256"): [PREFILL_EXCHANGE, WIDE_PREFILL, ROUND_TRIPS_OFF],
}


def _reasons(chip: str, workload: Workload) -> list[str]:
    return _REASONS.get((chip, workload.label), [])


CASES = [
    pytest.param(chip, workload, id=f"{chip}-{workload.label}",
                 marks=[pytest.mark.xfail(strict=True, reason="; ".join(reasons))] if reasons else [])
    for chip in CHIPS
    for workload in AGREEMENT_WORKLOADS
    for reasons in [_reasons(chip, workload)]
]


@pytest.fixture(scope="module")
def chips() -> dict[str, ChipSpec]:
    return {name: load_chip(path) for name, path in CHIPS.items()}


@pytest.mark.parametrize(("chip", "workload"), CASES)
def test_analytical_time_is_within_10_percent_of_the_cycle_time(
    chips: dict[str, ChipSpec], chip: str, workload: Workload
) -> None:
    spec = chips[chip]
    config, graph = workload.build()
    analytical = estimate_graph(spec, graph).time_s
    cycle = cycle_estimate_graph(spec, graph, config=config).time_s
    assert abs(analytical / cycle - 1) <= TOLERANCE, f"analytical {analytical * 1e6:.1f} us, cycle {cycle * 1e6:.1f} us"


@pytest.mark.parametrize("chip", ["fab1", "wide1"])
def test_cores_share_a_decode_gemm(chips: dict[str, ChipSpec], chip: str) -> None:
    # The weights stream once, split over every core's MXUs. One core's 4 (fab1) or 2 (wide1)
    # MXUs load weights at 1.8-3 TB/s, well under the chip's 8 or 4 TB/s of HBM, so a core
    # alone takes at least 2.5x as long as all of them together.
    spec = chips[chip]
    config, graph = AGREEMENT_WORKLOADS[0].build()
    spread = cycle_estimate_graph(spec, graph, config=config).time_s
    alone = cycle_estimate_graph(spec.model_copy(update={"cores": 1}), graph, config=config).time_s
    assert alone / spread >= 2.5
