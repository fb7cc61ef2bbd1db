"""Starting a quick command loads none of the heavy layers it does not use."""

import json
import subprocess
import sys

HEAVY = ("fabless.compiler", "fabless.cyclesim", "fabless.rtl", "fabless.funcsim", "matplotlib", "torch", "amaranth",
         "gguf", "tokenizers", "safetensors", "scipy")
"""Layers and libraries a quick command never needs: each costs tens to hundreds of ms to import."""

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


def loaded_modules(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)}


def test_help_loads_only_the_command_line():
    modules = loaded_modules("--help")
    assert _heavy(modules) == set()
    assert {"fabless.chip", "fabless.model", "fabless.perf"}.isdisjoint(modules)


def test_chip_list_and_estimate_gemm_load_no_compiler_simulator_rtl_or_plotting():
    assert _heavy(loaded_modules("chip", "list")) == set()
    assert _heavy(loaded_modules("estimate", "gemm", "--chip", "h100", "--m", "64", "--n", "64", "--k", "64")) == set()


def test_compare_loads_no_checkpoint_tokenizer_or_reference_library():
    assert _heavy(loaded_modules("compare", "--model", "llama-3-8b", "--chips", "h100,fab1", "--batch", "1")) == set()
