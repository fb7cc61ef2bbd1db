#!/usr/bin/env bash
# The test command: the whole suite on both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pytest -n 2 "$@"
