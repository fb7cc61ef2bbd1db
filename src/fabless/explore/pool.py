"""Where trials are evaluated: a local process pool or a Ray cluster, behind one interface.

Both return `concurrent.futures.Future`s of `evaluate_params(...).to_dict()`, so the search
loop is the same for either and the values cannot differ between them.
"""

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from fabless.errors import FablessError
from fabless.explore.design import DesignError, Params
from fabless.explore.evaluate import evaluate_params

_SPACE: Any = None
_WORKLOAD: Any = None


def _init_worker(space: Any, workload: Any) -> None:
    global _SPACE, _WORKLOAD
    _SPACE, _WORKLOAD = space, workload


def evaluate_task(space: Any, workload: Any, params: Params, number: int) -> dict[str, Any]:
    """One trial's evaluation as plain data, or `{"error": ...}` for a parameter set that is no chip."""
    try:
        return evaluate_params(space, workload, params, number).to_dict()
    except DesignError as error:
        return {"error": str(error)}


def _pool_task(params: Params, number: int) -> dict[str, Any]:
    return evaluate_task(_SPACE, _WORKLOAD, params, number)


class ProcessPool:
    """`workers` local processes, forked: they start at once with the layers already imported,
    and, unlike spawned ones, never re-run the caller's main module (a script, a notebook,
    stdin). They run only the evaluation, never the parent's threads' code."""

    def __init__(self, space: Any, workload: Any, workers: int) -> None:
        self.space, self.workload, self.workers = space, workload, workers
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("fork")
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker,
                                   initargs=(self.space, self.workload))

    def submit(self, params: Params, number: int) -> "Future[dict[str, Any]]":
        return self._executor.submit(_pool_task, params, number)

    def restart(self) -> None:
        """Replace a pool broken by a dead worker (its pending futures have failed)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = self._start()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


class RayPool:
    """Trials as Ray tasks on the cluster at `address` (`auto`, `local` or `ray://...`)."""

    def __init__(self, space: Any, workload: Any, address: str, workers: int) -> None:
        try:
            import ray
        except ImportError:
            raise FablessError("--ray needs Ray: pip install 'fabless[ray]'") from None
        self.workers = workers
        if not ray.is_initialized():
            try:
                ray.init(address=None if address == "local" else address, log_to_driver=False,
                         include_dashboard=False, num_cpus=workers if address == "local" else None)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise FablessError(f"--ray {address}: cannot reach a Ray cluster ({error})") from None
        self._ray = ray
        self._remote = ray.remote(max_retries=3)(evaluate_task)
        self._space, self._workload = ray.put(space), ray.put(workload)

    def submit(self, params: Params, number: int) -> "Future[dict[str, Any]]":
        return self._remote.remote(self._space, self._workload, params, number).future()  # type: ignore[no-any-return]

    def restart(self) -> None:
        """Ray retries a task whose worker died; nothing to rebuild."""

    def close(self) -> None:
        """The cluster outlives the search."""
