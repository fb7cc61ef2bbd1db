"""The analytical model against the cycle simulator: within 10% on fixed workloads and chips.

Every case agrees. One that stops agreeing means the model or the compiled program changed
what the other assumes: find which is wrong and fix it, not the tolerance.
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

CASES = [
    pytest.param(chip, workload, id=f"{chip}-{workload.label}") for chip in CHIPS for workload in AGREEMENT_WORKLOADS
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
