"""GPUs: a GEMM is cut into CTA tiles that run in waves over the SMs.

The tile a library picks trades tile efficiency against wave quantisation: 132 SMs waste
a 133-tile GEMM almost half a wave, a 128x128 MXU wastes a 129-wide one. The model picks the
fastest of the tile shapes cuBLAS/CUTLASS ship, with split-K when there are too few tiles
to fill the SMs (decode shapes).
"""

import math

from fabless.chip.spec import ChipSpec
from fabless.perf.calibration import Efficiency

# CTA tiles (rows of A, columns of B) of Hopper/Blackwell/CDNA GEMM libraries. A library
# uses no tile larger than the chip's macro tile (matrix rows x cols: what one SM's registers
# hold), so Hopper stops at 128x256 while CDNA3's hipBLASLt also runs 256x256 and 256x192
# (AMD's MAF blog, 2025, sizes MI300X GEMMs to whole 256x192 tiles). Smaller tiles run at a
# lower fraction of SM peak because they reuse each loaded operand less.
_TILES = ((256, 256, 1.0), (256, 192, 1.0), (128, 256, 1.0), (128, 128, 0.95), (64, 128, 0.85), (64, 64, 0.7))
_MIN_K_PER_SPLIT = 512


class GpuFamily:
    def matmul_s(self, chip: ChipSpec, eff: Efficiency, m: int, n: int, k: int, dtype: str, groups: int = 1) -> float:
        sm_flops_per_s = chip.core.matrix.ops_per_cycle[_dtype(dtype)] * chip.core.matrix.count * chip.clock_hz
        sm_flops_per_s *= eff.matmul_for(dtype)
        best = math.inf
        macro_tile = chip.core.matrix.rows * chip.core.matrix.cols
        for tile_m, tile_n, tile_eff in _TILES:
            if tile_m * tile_n > macro_tile:
                continue
            tiles = groups * math.ceil(m / tile_m) * math.ceil(n / tile_n)
            splits = max(1, min(chip.cores // tiles, k // _MIN_K_PER_SPLIT)) if tiles < chip.cores else 1
            waves = math.ceil(tiles * splits / chip.cores)
            tile_s = 2.0 * tile_m * tile_n * (k / splits) / (sm_flops_per_s * tile_eff)
            best = min(best, waves * tile_s)
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


def _dtype(dtype: str) -> str:
    return "int8" if dtype == "int4" else dtype
