"""Memory-system numbers a chip description does not carry, shared by every timing model.

HBM access latency and DMA descriptors in flight live in `fabless/data/cyclesim/memory.toml`
with their sources: the cycle simulator times with them, and the analytical model charges
the same latency where a compiled program exposes it.
"""

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

_MEMORY = resources.files("fabless") / "data" / "cyclesim" / "memory.toml"


@dataclass(frozen=True)
class MemorySystem:
    hbm_latency_s: float
    """From a DMA request to its first byte landing (a read) or its write acknowledged."""
    dma_outstanding: int
    """Transfers one DMA queue keeps in flight."""


@cache
def memory_system() -> MemorySystem:
    raw = tomllib.loads(_MEMORY.read_text())
    return MemorySystem(float(raw["hbm"]["access_latency_ns"]) * 1e-9, int(raw["dma"]["outstanding"]))
