"""Search runs: exact trial counts, SIGKILL of the search or of a worker then resume, Ray
against the process pool, and stored values equal to re-evaluating their parameters."""

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from fabless.errors import FablessError
from fabless.explore import evaluate_params, load_space, load_workload
from fabless.explore.search import open_study, run_search

RUNNER = Path(__file__).parent / "search_runner.py"
TRIALS = 24


def grid(space_path: Path) -> list[dict]:
    """TRIALS distinct parameter sets of the small space."""
    values = {"cores": [4, 8], "core.matrix.rows": [128, 256], "core.matrix.cols": [128, 256],
              "hbm.stacks": [4, 6, 8], "hbm.generation": ["HBM3E"], "clock_ghz": [1.75]}
    sets = [dict(zip(values, combo, strict=True)) for combo in itertools.product(*values.values())]
    assert len(sets) == TRIALS
    return sets


def start(files, storage: str, params: Path, workers: int = 2, resume: bool = False) -> subprocess.Popen:
    args = [sys.executable, str(RUNNER), str(files[0]), str(files[1]), storage, str(TRIALS), str(workers), str(params)]
    log = params.with_suffix(".resumed.log" if resume else ".log")
    with log.open("w") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(args + (["--resume"] if resume else []), stderr=handle)


def stderr_of(params: Path, resume: bool = False) -> str:
    return params.with_suffix(".resumed.log" if resume else ".log").read_text()


def completed(storage: str) -> list[optuna.trial.FrozenTrial]:
    try:
        study = optuna.load_study(study_name="killed", storage=storage)
    except KeyError:
        return []
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def wait_for(storage: str, count: int, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"search ended early with status {process.returncode}")
        try:
            if len(completed(storage)) >= count:
                return
        except Exception:  # the runner may be creating the schema
            pass
        time.sleep(0.05)
    pytest.fail(f"fewer than {count} trials completed in {timeout_s} s")


def descendants(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children] + [g for c in children for g in descendants(int(c))]


def check_study(files, storage: str, enqueued: list[dict]) -> None:
    """Exactly the enqueued sets, each completed once, each value what re-evaluating gives."""
    study = optuna.load_study(study_name="killed", storage=storage)
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(done) == TRIALS
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    keys = sorted(json.dumps(t.params, sort_keys=True) for t in done)
    assert keys == sorted(json.dumps(p, sort_keys=True) for p in enqueued)
    space, workload = load_space(files[0]), load_workload(files[1])
    for trial in done:
        again = evaluate_params(space, workload, trial.params, trial.number).to_dict()
        assert trial.values == [again["objectives"]["tokens_per_usd"]]
        assert trial.user_attrs["evaluation"] == json.loads(json.dumps(again))


def kill_tree(process: subprocess.Popen) -> None:
    for pid in descendants(process.pid) if process.poll() is None else []:
        os.kill(pid, signal.SIGKILL)


def test_a_killed_search_resumes_without_losing_or_repeating_a_trial(small_files, tmp_path):
    storage = f"sqlite:///{tmp_path}/study.db"
    params = tmp_path / "params.json"
    enqueued = grid(small_files[0])
    params.write_text(json.dumps(enqueued))
    process = start(small_files, storage, params)
    wait_for(storage, 4, process)
    workers = descendants(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    for pid in workers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert 4 <= len(completed(storage)) < TRIALS
    resumed = start(small_files, storage, params, resume=True)
    assert resumed.wait(timeout=120) == 0, stderr_of(params, resume=True)
    check_study(small_files, storage, enqueued)


def test_a_killed_worker_is_replaced_and_its_trial_rerun(small_files, tmp_path):
    storage = f"sqlite:///{tmp_path}/study.db"
    params = tmp_path / "params.json"
    enqueued = grid(small_files[0])
    params.write_text(json.dumps(enqueued))
    process = start(small_files, storage, params)
    wait_for(storage, 3, process)
    try:
        workers = descendants(process.pid)
        assert workers, "no pool worker found"
        os.kill(workers[0], signal.SIGKILL)
        assert process.wait(timeout=120) == 0, stderr_of(params)
    finally:
        kill_tree(process)
    resumed = start(small_files, storage, params, resume=True)
    assert resumed.wait(timeout=120) == 0
    check_study(small_files, storage, enqueued)


def test_ray_gives_the_process_pool_values(small_files, tmp_path):
    ray = pytest.importorskip("ray")
    space, workload = load_space(small_files[0]), load_workload(small_files[1])
    enqueued = grid(small_files[0])[:6]
    values = {}
    for kind in ("pool", "ray"):
        study = open_study(space, workload, f"sqlite:///{tmp_path}/{kind}.db", "s", 0, False)
        try:
            run_search(space, workload, study, len(enqueued), 2, ray_address="local" if kind == "ray" else None,
                       enqueue=enqueued)
        finally:
            if kind == "ray":
                ray.shutdown()
        values[kind] = {json.dumps(t.params, sort_keys=True): t.values for t in study.trials}
    assert values["ray"] == values["pool"] and len(values["pool"]) == len(enqueued)


def test_a_repeated_parameter_set_reuses_its_first_result(small_files, tmp_path):
    space, workload = load_space(small_files[0]), load_workload(small_files[1])
    study = open_study(space, workload, f"sqlite:///{tmp_path}/s.db", "s", 0, False)
    same = grid(small_files[0])[0]
    study.enqueue_trial(same)
    study.enqueue_trial(same)
    run_search(space, workload, study, 2, 1)
    first, second = study.trials
    assert second.user_attrs["repeat_of"] == first.number and second.values == first.values


def test_resume_refuses_another_workload_and_a_new_study_refuses_an_old_name(small_files, tmp_path, write):
    space, workload = load_space(small_files[0]), load_workload(small_files[1])
    storage = f"sqlite:///{tmp_path}/s.db"
    open_study(space, workload, storage, "s", 0, False)
    with pytest.raises(FablessError, match="already exists"):
        open_study(space, workload, storage, "s", 0, False)
    other = load_workload(write("other.toml", small_files[1].read_text().replace("0.05", "0.06")))
    with pytest.raises(FablessError, match="another space or workload"):
        open_study(space, other, storage, "s", 0, True)
    with pytest.raises(FablessError, match="no study 'nope'"):
        open_study(space, workload, storage, "nope", 0, True)
