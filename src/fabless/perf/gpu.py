"""GPUs: a GEMM is cut into CTA tiles that run in waves over the SMs.

The tile a library picks trades tile efficiency against wave quantisation: 132 SMs waste
a 133-tile GEMM almost half a wave, a 128x128 MXU wastes a 129-wide one. The model picks the
fastest of the tile configurations cuBLAS/CUTLASS/hipBLASLt ship (`data/calibration/
gpu_tiles.toml`), each run either as a data-parallel grid of whole waves, with split-K when
there are too few tiles to fill the SMs (decode shapes), or as a stream-K schedule that deals
every tile's k-loop evenly over the SMs at a fitted fix-up cost (`Efficiency.streamk`).
"""

import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fabless.chip.spec import ChipSpec
from fabless.perf.calibration import Efficiency

_MIN_K_PER_SPLIT = 512


@dataclass(frozen=True)
class Tile:
    m: int
    n: int
    efficiency: float
    """Fraction of the largest tile's rate this tile sustains (smaller tiles reuse operands less)."""


@cache
def tiles() -> tuple[Tile, ...]:
    """The CTA tiles of the GPU GEMM libraries, from `data/calibration/gpu_tiles.toml`."""
    raw = tomllib.loads((resources.files("fabless") / "data" / "calibration" / "gpu_tiles.toml").read_text())
    return tuple(Tile(int(t["m"]), int(t["n"]), float(t["efficiency"])) for t in raw["tile"])


class GpuFamily:
    def matmul_s(self, chip: ChipSpec, eff: Efficiency, m: int, n: int, k: int, dtype: str, groups: int = 1) -> float:
        sm_flops_per_s = chip.core.matrix.ops_per_cycle[_dtype(dtype)] * chip.core.matrix.count * chip.clock_hz
        sm_flops_per_s *= eff.matmul_for(dtype)
        best = math.inf
        macro_tile = chip.core.matrix.rows * chip.core.matrix.cols
        for tile in tiles():
            if tile.m * tile.n > macro_tile:
                continue
            count = groups * math.ceil(m / tile.m) * math.ceil(n / tile.n)
            tile_flops = 2.0 * tile.m * tile.n * k
            rate = sm_flops_per_s * tile.efficiency
            splits = max(1, min(chip.cores // count, k // _MIN_K_PER_SPLIT)) if count < chip.cores else 1
            waves = math.ceil(count * splits / chip.cores)
            best = min(best, waves * tile_flops / splits / rate)
            if eff.streamk > 0.0:
                # Stream-K: the work of every tile spread evenly over all SMs, no partial wave.
                best = min(best, count * tile_flops / (chip.cores * rate * eff.streamk))
        return best

    def attention_s(
        self,
        chip: ChipSpec,
        eff: Efficiency,
        groups: int,
        q_rows: int,
        kv_len: int,
        head_dim: int,
        causal_fraction: float,
        dtype: str,
    ) -> float:
        flops = 4.0 * groups * q_rows * kv_len * head_dim * causal_fraction
        peak = chip.peak_matrix_ops_per_s(_dtype(dtype)) * eff.attention
        # One CTA per 128 query rows per (batch, kv head): too few CTAs leave SMs idle.
        ctas = groups * math.ceil(q_rows / 128)
        occupancy = min(1.0, ctas / chip.cores)
        return flops / (peak * occupancy)


def unoverlapped_s(eff: Efficiency, compute_s: float, memory_s: float) -> tuple[float, float]:
    """A GEMM's compute and HBM stream, with the MMA work a weight-streaming GEMM does not hide.

    A compute-bound GEMM hides its loads behind a deep pipeline of k-blocks; a memory-bound one
    (few rows, each CTA one long k-range) cannot: its warps wait on each block's arrival and its
    last blocks' MMAs and the split-K reduction run after the stream ends, so a fraction
    `eff.gemm_overlap_loss` of its compute shows on top of the stream."""
    if memory_s >= compute_s:
        return compute_s, memory_s + eff.gemm_overlap_loss * compute_s
    return compute_s, memory_s


def _dtype(dtype: str) -> str:
    return "int8" if dtype == "int4" else dtype
