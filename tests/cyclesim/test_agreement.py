"""The analytical model against the cycle simulator: within 10% on fixed workloads and chips.

Every case below disagrees today, for reasons traced to the analytical model's
assumptions about the compiled program; each is a strict xfail naming what the analytical
model misses, so it fails the day the model (or the compiler) closes the gap and the mark
must go. The diagnosis is itself tested: with the two structural differences removed
(the cores the program uses, the weight buffering the ISA has), the models agree.
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

ONE_CORE = (
    "analytical deals weight tiles to the MXUs of all cores and streams HBM at the chip's bandwidth, "
    "but the compiler's program runs on core 0 only"
)
ONE_TILE = (
    "analytical prices a weight tile at max(m, rows) cycles (weights double-buffered) with one fill/drain "
    "per op; the ISA's MXU holds one tile, so each costs rows (load) + m (stream) + rows + cols (drain)"
)
CHAINED = (
    "analytical prices attention as one pipelined flash kernel; the program runs a dependent chain per "
    "KV head (KV load with 400 ns HBM latency, scores, fp32 softmax passes on the VPU through SRAM, values)"
)


def _reasons(chip: str, workload: Workload) -> list[str]:
    reasons = [] if chip == "edge1" else [ONE_CORE]
    if "attention" not in workload.ops:
        reasons.append(ONE_TILE)
    if not workload.ops or "attention" in workload.ops:
        reasons.append(CHAINED)
    return reasons


CASES = [
    pytest.param(chip, workload, id=f"{chip}-{workload.label}",
                 marks=pytest.mark.xfail(strict=True, reason="; ".join(_reasons(chip, workload))))
    for chip in CHIPS
    for workload in AGREEMENT_WORKLOADS
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


DIAGNOSED = [w for w in AGREEMENT_WORKLOADS if w.phase == "decode" and "attention" not in w.ops][:2]


@pytest.mark.parametrize("chip", ["fab1", "edge1"])
@pytest.mark.parametrize("workload", DIAGNOSED, ids=[w.label for w in DIAGNOSED])
def test_the_gap_is_the_cores_and_the_weight_buffering(
    chips: dict[str, ChipSpec], chip: str, workload: Workload
) -> None:
    # Give the analytical model the one core the program uses, and the cycle simulator the
    # shadow weight tile the analytical model assumes: decode GEMMs then agree.
    spec = chips[chip]
    config, graph = workload.build()
    analytical = estimate_graph(spec.model_copy(update={"cores": 1}), graph).time_s
    cycle = cycle_estimate_graph(spec, graph, config=config, weight_buffers=2).time_s
    assert abs(analytical / cycle - 1) <= TOLERANCE
