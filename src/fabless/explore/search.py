"""The search: Optuna asks, a pool evaluates, Optuna is told; trials live in an RDB storage.

One process (this one) owns the study: it asks the sampler for each parameter set, hands
it to a worker, and tells the study the result, so only it writes the storage. A trial is
asked only while `completed + in flight < trials`, so a search ends with exactly `trials`
completed ones. A trial left running by a killed search keeps its parameters in the
storage; `resume` evaluates those same parameters under the same trial number, so nothing
is lost or evaluated twice. A dead worker breaks the pool: it is restarted and its trials
resubmitted. A parameter set the sampler repeats takes the stored result of its first
trial (`repeat_of`) instead of being evaluated again.
"""

import hashlib
import json
import time
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Literal

import optuna
import sqlalchemy
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from fabless.errors import FablessError
from fabless.explore.design import Params
from fabless.explore.objectives import CONSTRAINTS, OBJECTIVES
from fabless.explore.pool import ProcessPool, RayPool
from fabless.explore.space import Param, Space
from fabless.explore.workload import Workload

SamplerName = Literal["auto", "tpe", "nsga2", "random"]
MAX_TRIALS = 1_000_000
MAX_RESTARTS = 20
MAX_FAILED = 1000
"""Trials whose parameters give no valid chip before the search stops and says why."""


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    best: float | None
    trials_per_s: float


def distributions(space: Space) -> dict[str, BaseDistribution]:
    return {param.path: _distribution(param) for param in space.params}


def _distribution(param: Param) -> BaseDistribution:
    if param.choices is not None:
        return CategoricalDistribution(param.choices)
    assert param.low is not None and param.high is not None
    if param.kind == "int":
        return IntDistribution(int(param.low), int(param.high), step=int(param.step or 1), log=param.log)
    return FloatDistribution(param.low, param.high, step=param.step, log=param.log)


def fingerprint(space: Space, workload: Workload) -> str:
    """What a resumed study must match: the space and workload as searched."""
    text = json.dumps({
        "base": space.base.model_dump(mode="json"), "prefix": space.prefix, "volume": space.volume,
        "params": [repr(param) for param in space.params],
        "workload": [repr(r) for r in workload.requests] + [repr(workload.precision), repr(workload.slo),
                                                          repr(workload.constraints), list(workload.objectives)],
    }, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def make_sampler(workload: Workload, seed: int, name: SamplerName = "auto") -> optuna.samplers.BaseSampler:
    multi = len(workload.objectives) > 1
    name = ("nsga2" if multi else "tpe") if name == "auto" else name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if name == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed)
        if multi:
            raise FablessError("sampler tpe runs one objective here; use nsga2 (the default) for several")
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True, n_startup_trials=20)


def open_study(space: Space, workload: Workload, storage: str, name: str, seed: int, resume: bool,
               sampler: SamplerName = "auto") -> optuna.Study:
    """A new study, or with `resume` the existing one (which must have the same space and workload)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        rdb = optuna.storages.RDBStorage(storage)
        if rdb.engine.dialect.name == "sqlite":
            _write_ahead(rdb)
    except Exception as error:  # sqlalchemy and optuna raise many kinds for a bad URL or file
        raise FablessError(f"--storage {storage}: cannot open it ({type(error).__name__}: {_first(error)})") from None
    names = [summary.study_name for summary in optuna.get_all_study_summaries(rdb, include_best_trial=False)]
    print_ = fingerprint(space, workload)
    if name in names and not resume:
        raise FablessError(f"study {name!r} already exists in {storage}: pass --resume to continue it, "
                           "or another --study")
    if name not in names and resume:
        raise FablessError(f"--resume: no study {name!r} in {storage} (it has: {', '.join(names) or 'none'})")
    if resume:
        study = optuna.load_study(study_name=name, storage=rdb)
        if study.user_attrs.get("fingerprint") != print_:
            raise FablessError(f"--resume: study {name!r} was searched over another space or workload; "
                               "resume it with the same files, or start another --study")
        # A fresh random stream: the seed alone would repeat the first run's opening trials.
        seed = seed + 1_000_003 * len(study.get_trials(deepcopy=False))
        study.sampler = make_sampler(workload, seed, sampler)
        return study
    directions = [OBJECTIVES[objective].direction for objective in workload.objectives]
    study = optuna.create_study(storage=rdb, study_name=name, directions=directions,
                                sampler=make_sampler(workload, seed, sampler))
    study.set_user_attr("fingerprint", print_)
    study.set_user_attr("objectives", list(workload.objectives))
    study.set_user_attr("space", space.origin)
    study.set_user_attr("workload", workload.origin)
    return study


def _write_ahead(rdb: optuna.storages.RDBStorage) -> None:
    """SQLite in write-ahead mode, synced at checkpoints: a commit survives a killed process
    (what --resume needs) without an fsync per commit, which made the storage the bottleneck."""
    def pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    sqlalchemy.event.listen(rdb.engine, "connect", pragmas)
    rdb.engine.dispose()


def run_search(space: Space, workload: Workload, study: optuna.Study, trials: int, workers: int,
               ray_address: str | None = None, enqueue: Iterable[Params] = (),
               on_progress: Callable[[Progress], None] | None = None) -> None:
    """Run `study` until it has `trials` completed trials (see the module docstring)."""
    if not 1 <= trials <= MAX_TRIALS:
        raise FablessError(f"--trials: must be from 1 to {MAX_TRIALS:,} (got {trials})")
    for params in enqueue:
        study.enqueue_trial(dict(params), skip_if_exists=True)
    pool = RayPool(space, workload, ray_address, workers) if ray_address else ProcessPool(space, workload, workers)
    try:
        _Loop(space, workload, study, trials, pool, on_progress).run()
    finally:
        pool.close()


class _Loop:
    def __init__(self, space: Space, workload: Workload, study: optuna.Study, trials: int,
                 pool: ProcessPool | RayPool, on_progress: Callable[[Progress], None] | None) -> None:
        self.space, self.workload, self.study, self.trials, self.pool = space, workload, study, trials, pool
        self.on_progress = on_progress
        self.storage = study._storage  # the RDB storage open_study made; only this process writes it
        self.study_id = self.storage.get_study_id_from_name(study.study_name)
        self.distributions = distributions(space)
        self.trial_ids: dict[int, int] = {}
        self.in_flight: dict[Future[dict[str, Any]], tuple[int, Params]] = {}
        self.known: dict[str, tuple[int, dict[str, Any]]] = {}
        self.best: float | None = None
        self.failed = self.restarts = 0
        self.started = time.perf_counter()
        self.told_here = 0
        existing = study.get_trials(deepcopy=False)
        self.completed = sum(t.state == TrialState.COMPLETE for t in existing)
        for trial in existing:
            if trial.state == TrialState.COMPLETE and "evaluation" in trial.user_attrs:
                self.known.setdefault(_key(trial.params), (trial.number, trial.user_attrs["evaluation"]))
                self._note_best(trial.user_attrs["evaluation"])
        self.stale = [t for t in existing if t.state == TrialState.RUNNING]

    def run(self) -> None:
        self._report()
        while True:
            while len(self.in_flight) < self.pool.workers and self.completed + len(self.in_flight) < self.trials:
                self._next()
            if not self.in_flight:
                break
            done, _ = wait(list(self.in_flight), return_when=FIRST_COMPLETED)
            for future in done:
                self._finish(future)
        # Trials left running by an earlier, killed search beyond what was asked: never evaluated.
        for trial in self.stale:
            self.study.tell(trial.number, state=TrialState.FAIL)

    def _next(self) -> None:
        if self.stale:
            trial = self.stale.pop(0)
            if set(trial.params) == set(self.distributions):
                self._submit(trial.number, trial.params)
                return
            # Killed between ask and the last suggestion: never evaluated. An enqueued parameter set
            # goes back in the queue; a sampled one is asked for again.
            fixed = trial.system_attrs.get("fixed_params")
            self.study.tell(trial.number, state=TrialState.FAIL)
            if fixed:
                self.study.enqueue_trial(fixed)
        asked = self.study.ask(self.distributions)
        self.trial_ids[asked.number] = asked._trial_id
        params = dict(asked.params)
        first = self.known.get(_key(params))
        if first is not None:
            self._record(asked.number, first[1], repeat_of=first[0])
            return
        self._submit(asked.number, params)

    def _submit(self, number: int, params: Params) -> None:
        try:
            future = self.pool.submit(params, number)
        except BrokenProcessPool:  # a worker died before its future was seen to fail
            self._restart()
            future = self.pool.submit(params, number)
        self.in_flight[future] = (number, params)

    def _finish(self, future: "Future[dict[str, Any]]") -> None:
        if future not in self.in_flight:
            return
        try:
            result = future.result()
        except BrokenProcessPool:
            self._restart()
            return
        number, params = self.in_flight.pop(future)
        if "error" in result:
            self.failed += 1
            self._set(number, "error", result["error"])
            self.study.tell(number, state=TrialState.FAIL)
            if self.failed > MAX_FAILED:
                raise FablessError(f"{self.failed} parameter sets of {self.space.origin} gave no valid chip, "
                                   f"the last: {result['error']}; narrow the ranges")
            return
        self.known.setdefault(_key(params), (number, result))
        self._record(number, result)

    def _restart(self) -> None:
        """A worker died: every pending future of the pool failed; resubmit them all on a new pool."""
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise FablessError(f"search workers died {self.restarts} times; is the machine out of memory?")
        pending = list(self.in_flight.values())
        self.in_flight.clear()
        self.pool.restart()
        for number, params in pending:
            self._submit(number, params)

    def _record(self, number: int, evaluation: dict[str, Any], repeat_of: int | None = None) -> None:
        self._set(number, "evaluation", evaluation)
        # The samplers read a trial's constraints from this system attribute (what
        # `Trial.set_constraint` writes one key and two queries at a time); one write here.
        self.storage.set_trial_system_attr(self._trial_id(number), "constraints",
                                           [evaluation["constraints"][name]["violation"] for name in CONSTRAINTS])
        if repeat_of is not None:
            self._set(number, "repeat_of", repeat_of)
        values = [evaluation["objectives"][name] for name in self.workload.objectives]
        self.study.tell(number, values)
        self._note_best(evaluation)
        self.completed += 1
        self.told_here += 1
        self._report()

    def _set(self, number: int, key: str, value: Any) -> None:
        self.storage.set_trial_user_attr(self._trial_id(number), key, value)

    def _trial_id(self, number: int) -> int:
        if number in self.trial_ids:
            return self.trial_ids[number]
        return int(self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number))

    def _report(self) -> None:
        if self.on_progress is None:
            return
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        self.on_progress(Progress(done=self.completed, total=self.trials, best=self.best,
                                  trials_per_s=self.told_here / elapsed))

    def _note_best(self, evaluation: dict[str, Any]) -> None:
        """The first objective's best feasible value so far, for the progress line."""
        if not evaluation.get("feasible"):
            return
        name = self.workload.objectives[0]
        value = evaluation["objectives"][name]
        better = max if OBJECTIVES[name].direction == "maximize" else min
        self.best = value if self.best is None else better(self.best, value)


def _key(params: Params) -> str:
    return json.dumps(params, sort_keys=True)


def _first(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:200] if lines else "no detail"
