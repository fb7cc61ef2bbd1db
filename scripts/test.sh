#!/usr/bin/env bash
# The test command: lint and type-check, then the whole suite on both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m ruff check src tests bench scripts
python -m mypy src/fabless
# Two pytest workers share two cores: BLAS and torch thread pools on top of them only contend.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# Property tests draw the same examples on every run (tests/conftest.py).
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
# Whole files per worker: a module's expensive fixtures (a resident SmolLM2, a Verilator
# build) are made once, on one worker, instead of on both. The slowest tests are listed.
python -m pytest -n 2 --dist loadfile --durations=15 "$@"
