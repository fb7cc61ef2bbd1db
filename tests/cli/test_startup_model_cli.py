"""Quick model commands load no checkpoint, tokenizer or reference libraries."""

import json
import subprocess
import sys

HEAVY = ("gguf", "tokenizers", "safetensors", "scipy", "matplotlib", "torch", "amaranth",
         "fabless.compiler", "fabless.cyclesim", "fabless.rtl")

# Runs one command in a fresh interpreter and prints every module it loaded.
PROBE = """
import contextlib, io, json, sys
from fabless.cli.app import main
sys.argv = ["fabless", *sys.argv[1:]]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit as stop:
        assert not stop.code, stop.code
print(json.dumps(sorted(sys.modules)))
"""


def _heavy(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return {m for m in json.loads(done.stdout) if any(m == h or m.startswith(h + ".") for h in HEAVY)}


def test_estimate_gemm_loads_no_heavy_library():
    assert _heavy("estimate", "gemm", "--chip", "h100", "--m", "512", "--n", "4096", "--k", "4096") == set()


def test_compare_loads_no_heavy_library():
    assert _heavy("compare", "--model", "llama-3-8b", "--chips", "h100,fab1", "--batch", "1") == set()
