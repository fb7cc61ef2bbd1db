"""How long a search of the shipped example takes, and what it finds against fab1.

Run: python bench/explore_speed.py [TRIALS] [WORKERS]   (default 2000 trials on 2 workers)
The bar: 2,000 trials on 2 cores in at most 10 minutes. Prints wall time, trials per
minute, and the best tokens per TCO dollar on the front against the base chip, fab1.
"""

import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from fabless.explore import load_space, load_workload
from fabless.explore.output import base_evaluation
from fabless.explore.pareto import completed, pareto_front
from fabless.explore.search import open_study, run_search

DATA = resources.files("fabless") / "data" / "explore"


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    space = load_space(Path(str(DATA / "space-fab1.toml")))
    workload = load_workload(Path(str(DATA / "workload-chat.toml")))
    with tempfile.TemporaryDirectory() as folder:
        storage = f"sqlite:///{folder}/bench.db"
        started = time.perf_counter()
        study = open_study(space, workload, storage, "bench", 0, False)
        run_search(space, workload, study, trials, workers)
        elapsed = time.perf_counter() - started
        members = completed(study)
        front = pareto_front(members, workload.objectives)
    base = base_evaluation(space, workload)["objectives"]
    name = workload.objectives[0]
    best = front[0]
    print(f"{len(members):,} trials on {workers} workers in {elapsed:,.1f} s ({len(members) / elapsed * 60:,.0f} "
          f"trials/min); {sum(m.evaluation['feasible'] for m in members):,} feasible")
    print(f"best {name}: trial {best.number} {best.value(name):,.0f} vs {space.base.name} {base[name]:,.0f} "
          f"({best.value(name) / base[name]:.2f}x); params {best.params}")


if __name__ == "__main__":
    main()
