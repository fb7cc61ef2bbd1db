"""The front's best chip file runs on every layer: SmolLM2 fp32 on the functional simulator
token-identical to torch, and the analytical model within 10% of the cycle simulator."""

import importlib.util
import json
from pathlib import Path

import pytest

from fabless.chip import load_chip
from fabless.explore import load_space, load_workload
from fabless.explore.output import report, write_outputs
from fabless.explore.pareto import completed, pareto_front
from fabless.explore.search import open_study, run_search

WINNER = {"clock_ghz": 2.2, "process_node": "N2", "dies": 2, "core.vector.lanes": 2048, "core.sram.mib": 16.0,
          "links.count": 24, "links.gb_s_per_direction": 200}
"""The best tokens-per-dollar design of `python bench/explore_speed.py` (2,000 trials, seed 0)."""


def _torch_llama():
    path = Path(__file__).parents[1] / "compiler" / "conftest.py"
    spec = importlib.util.spec_from_file_location("compiler_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.torch_llama_logits


@pytest.fixture(scope="module")
def front_chip(tmp_path_factory, request):
    shipped = Path(str(request.config.rootpath / "src/fabless/data/explore"))
    space, workload = load_space(shipped / "space-fab1.toml"), load_workload(shipped / "workload-chat.toml")
    folder = tmp_path_factory.mktemp("front")
    study = open_study(space, workload, f"sqlite:///{folder}/s.db", "s", 0, False)
    others = [{**WINNER, "core.sram.mib": 64.0}, {**WINNER, "clock_ghz": 1.6}]
    run_search(space, workload, study, 3, 2, enqueue=[WINNER, *others])
    members = completed(study)
    front = pareto_front(members, workload.objectives)
    document = report(space, workload, "s", "storage", members, front, folder / "out")
    write_outputs(folder / "out", space, front, document, members, workload.objectives)
    saved = json.loads((folder / "out" / "pareto.json").read_text())
    assert saved["front"][0]["params"] == WINNER
    assert saved["front"][0]["objectives"]["tokens_per_usd"] > saved["base"]["objectives"]["tokens_per_usd"]
    return load_chip(saved["front"][0]["chip_file"])


def test_smollm2_fp32_on_the_front_chip_matches_torch(front_chip):
    pytest.importorskip("torch")
    from fabless.compiler import ChipModel, Numerics
    from fabless.model.checkpoint import load_checkpoint

    smollm2 = load_checkpoint("smollm2-135m")
    model = ChipModel(front_chip, smollm2, Numerics(), max_context=64, cores=1)
    ids = smollm2.tokenizer.encode("The capital of France is")
    new = model.generate(ids, 3, stop_at_eos=False)
    del model
    want = _torch_llama()(smollm2.config, smollm2.tensors, ids + new[:-1])[len(ids) - 1:].argmax(-1)
    assert new == want.tolist()


def test_the_front_chip_agrees_with_the_cycle_simulator(front_chip):
    from fabless.cyclesim import AGREEMENT_WORKLOADS, cycle_estimate_graph
    from fabless.perf import estimate_graph

    for workload in AGREEMENT_WORKLOADS:
        config, graph = workload.build()
        analytical = estimate_graph(front_chip, graph).time_s
        cycle = cycle_estimate_graph(front_chip, graph, config=config).time_s
        assert abs(analytical / cycle - 1) <= 0.10, f"{workload.label}: {analytical * 1e6:.1f} vs {cycle * 1e6:.1f} us"
