"""A small space and workload that evaluate fast, and the shipped examples."""

from importlib import resources
from pathlib import Path

import pytest

DATA = Path(str(resources.files("fabless") / "data" / "explore"))
SHIPPED_SPACE = DATA / "space-fab1.toml"
SHIPPED_WORKLOAD = DATA / "workload-chat.toml"

SMALL_SPACE = """
base = "fab1"
prefix = "small"
volume = 100000

[params]
cores = { choices = [4, 8] }
"core.matrix.rows" = { choices = [128, 256] }
"core.matrix.cols" = { choices = [128, 256] }
"hbm.stacks" = { low = 4, high = 8 }
"hbm.generation" = { choices = ["HBM3E", "HBM4"] }
clock_ghz = { low = 1.5, high = 2.0, step = 0.25 }
"""

SMALL_WORKLOAD = """
name = "small"
weights = "fp8"
objectives = ["tokens_per_usd"]

[slo]
tpot_s = 0.05
ttft_s = 2.0

[[mix]]
model = "llama-3-8b"
share = 1.0
input = 1024
output = 128

[constraints]
max_tdp_w = 2000
max_chips = 4
"""


@pytest.fixture
def small_files(tmp_path: Path) -> tuple[Path, Path]:
    space, workload = tmp_path / "space.toml", tmp_path / "workload.toml"
    space.write_text(SMALL_SPACE)
    workload.write_text(SMALL_WORKLOAD)
    return space, workload


@pytest.fixture
def shipped() -> tuple[Path, Path]:
    return SHIPPED_SPACE, SHIPPED_WORKLOAD


@pytest.fixture
def write(tmp_path: Path):
    """write(name, text) -> path of a file in the test's folder."""
    def make(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path
    return make
