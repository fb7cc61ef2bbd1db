"""A search in its own process, for the tests that kill it: run_search over enqueued parameter sets.

python search_runner.py SPACE WORKLOAD STORAGE TRIALS WORKERS PARAMS.json [--resume]
"""

import json
import sys

from fabless.explore import load_space, load_workload
from fabless.explore.search import open_study, run_search


def main() -> None:
    space_path, workload_path, storage, trials, workers, params_path = sys.argv[1:7]
    resume = "--resume" in sys.argv[7:]
    space, workload = load_space(space_path), load_workload(workload_path)
    study = open_study(space, workload, storage, "killed", 0, resume)
    enqueue = json.loads(open(params_path).read())
    run_search(space, workload, study, int(trials), int(workers), enqueue=enqueue)


if __name__ == "__main__":
    main()
