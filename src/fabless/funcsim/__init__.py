"""The golden functional simulator: what the chip computes, bit for bit (docs/isa.md)."""

from fabless.funcsim.errors import DeadlockError, ProgramError
from fabless.funcsim.numerics import ALIGN_BITS, MAX_K, cast, matmul_float, matmul_int8, truncate
from fabless.funcsim.simulator import DMA_QUEUES_PER_CORE, FunctionalSimulator
from fabless.funcsim.stats import RunStats

__all__ = [
    "FunctionalSimulator",
    "RunStats",
    "ProgramError",
    "DeadlockError",
    "DMA_QUEUES_PER_CORE",
    "ALIGN_BITS",
    "MAX_K",
    "truncate",
    "cast",
    "matmul_float",
    "matmul_int8",
]
