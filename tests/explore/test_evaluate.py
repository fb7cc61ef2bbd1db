"""Evaluation values against the scalar perf, multichip and ppa APIs, computed by hand."""

import pytest

from fabless.chip import load_chip
from fabless.explore import Design, evaluate, load_space, load_workload, price
from fabless.explore.evaluate import default_ppa
from fabless.multichip import ParallelPlan, evaluate_plan, stage_config
from fabless.perf import chips_needed, decode_time
from fabless.ppa import owned_chip_hour, power_at, serving_utilisation


def test_one_model_matches_the_scalar_apis(small_files):
    space, workload = load_space(small_files[0]), load_workload(small_files[1])
    ppa = default_ppa()
    fab1 = load_chip("fab1")
    cost = price(fab1, ppa, space.volume)
    result = evaluate(Design(chip=fab1, params={}, cost=cost), workload, ppa)
    request = workload.requests[0]
    fewest = chips_needed(fab1, request.config, workload.precision, 1, request.input_len + request.output_len)
    choices = {tp: evaluate_plan(fab1, request.config, workload.precision, ParallelPlan(tp=tp), request.input_len,
                                 request.output_len, workload.slo.tpot_s) for tp in (fewest, 2 * fewest, 4 * fewest)}
    tp, best = max(((tp, c) for tp, c in choices.items() if c is not None), key=lambda x: x[1].tokens_per_s_per_chip)
    served = result.served[0]
    assert (served.chips, served.batch) == (tp, best.batch)
    assert served.tokens_per_s == best.output_tokens_per_s
    chip_hour = owned_chip_hour(cost.unit.total_usd, cost.tdp.total_w, ppa.tco).total_usd
    usd_per_mtoken = chip_hour * tp / (best.output_tokens_per_s * 3600) * 1e6
    assert result.objectives["usd_per_mtoken"] == pytest.approx(usd_per_mtoken)
    assert result.objectives["tokens_per_usd"] == pytest.approx(1e6 / usd_per_mtoken)
    step = decode_time(fab1, stage_config(request.config, tp), workload.precision, best.batch,
                       request.input_len + request.output_len // 2)
    use = serving_utilisation("fp8", step.mxu_utilization, step.hbm_utilization, ppa.power)
    watts = power_at(cost.blocks, cost.area, ppa.power, use).total_w
    assert result.objectives["tokens_per_joule"] == pytest.approx(best.output_tokens_per_s / (watts * tp))
    assert result.objectives["die_area_mm2"] == pytest.approx(cost.area.total_silicon_mm2)
    assert result.constraints["tdp"].slack == pytest.approx(2000 - cost.tdp.total_w)
    assert result.feasible


def test_the_mix_weights_cost_per_token_by_share(shipped):
    space, workload = load_space(shipped[0]), load_workload(shipped[1])
    fab1 = load_chip("fab1")
    result = evaluate(Design(chip=fab1, params={}, cost=price(fab1, default_ppa(), space.volume)), workload)
    want = sum(r.share * s.usd_per_mtoken for r, s in zip(workload.requests, result.served, strict=True))
    assert result.objectives["usd_per_mtoken"] == pytest.approx(want)
    assert all(s.tpot_s <= workload.slo.tpot_s for s in result.served)


def test_a_missed_slo_is_a_violated_constraint(write, small_files):
    space = load_space(small_files[0])
    tight = small_files[1].read_text().replace("tpot_s = 0.05", "tpot_s = 0.0001")
    workload = load_workload(write("tight.toml", tight))
    fab1 = load_chip("fab1")
    result = evaluate(Design(chip=fab1, params={}, cost=price(fab1, default_ppa(), space.volume)), workload)
    assert not result.feasible and result.constraints["tpot"].violation > 0
    assert result.objectives["tokens_per_usd"] == 0.0
