"""The serving engine's cost outside the kernels: a fixed part per step and a part per sequence."""

from dataclasses import replace

import pytest

from fabless.chip import load_chip
from fabless.model import Precision, load_model_config
from fabless.multichip import ParallelPlan, ShardedStepTimer
from fabless.perf import decode_time, efficiency_for, phase_time_s
from fabless.perf.serving import engine_overhead_s

FP8 = Precision.from_options("fp8")


def test_engine_overhead_is_the_step_cost_plus_one_cost_per_sequence():
    eff = replace(efficiency_for(load_chip("h100")), step_overhead_s=1e-3, sequence_overhead_s=50e-6)
    assert engine_overhead_s(eff, 1) == pytest.approx(1.05e-3)
    assert engine_overhead_s(eff, 64) == pytest.approx(1e-3 + 64 * 50e-6)


@pytest.mark.parametrize("phase", ["decode", "prefill"])
def test_each_sequence_of_a_step_pays_the_per_sequence_cost(phase):
    """Same kernels, same all-reduces: a batch of B costs (B - 1) x sequence_overhead_s more than
    a batch of 1 beyond what it costs with no per-sequence charge."""
    chip = load_chip("h100")
    config = load_model_config("llama-3-8b")
    free = replace(efficiency_for(chip), sequence_overhead_s=0.0)
    charged = replace(free, sequence_overhead_s=70e-6)

    def step(batch, eff):
        return phase_time_s(chip, config, FP8, phase, batch, 512, 2, eff)

    for batch in (1, 8, 256):
        assert step(batch, charged) - step(batch, free) == pytest.approx(batch * 70e-6, rel=1e-9)
    extra = (step(256, charged) - step(1, charged)) - (step(256, free) - step(1, free))
    assert extra == pytest.approx(255 * 70e-6, rel=1e-9)


def test_the_sharded_step_timer_charges_the_engine_once_per_step_for_every_sequence():
    """MLPerf's MI300X runs are priced by the multichip timer: it must pay the calibrated engine
    cost (MI300X's fit has a per-sequence part) once per step, not once per pipeline stage."""
    chip = load_chip("mi300x")
    eff = efficiency_for(chip)
    assert eff.sequence_overhead_s > 0.0
    config = load_model_config("llama-3-70b")
    timer = ShardedStepTimer(chip, config, FP8, ParallelPlan(tp=1))
    for batch in (1, 512):
        kernels = decode_time(chip, config, FP8, batch, 500).time_s
        assert timer.decode_s(batch, 500) - kernels == pytest.approx(
            eff.step_overhead_s + batch * eff.sequence_overhead_s, rel=1e-9
        )
