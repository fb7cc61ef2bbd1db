"""Split a matmul into MXU-shaped tiles that fit, double-buffered, in a core's SRAM.

A weight-stationary MXU holds a `rows` x `cols` block of weights (K x N), so weight tiles
are whole multiples of that block. Every tile costs instructions, so the planner prefers
few, large tiles, with two exceptions. A weight stream is a pipeline: the MXUs wait for the
first tile and the DMA idles behind the last, so a large matmul is cut into at least
`PIPELINE_TILES` tiles (never below `MIN_TILE_BYTES`, where per-tile DMA latency would
dominate). And a tile spans one column block per MXU where N allows, so that all of a
core's MXUs load weights at once: one MXU alone loads slower than HBM delivers.
"""

import math
from dataclasses import dataclass

from fabless.chip.spec import DTYPE_BYTES, ChipSpec
from fabless.errors import FablessError

_ACCUMULATOR_BYTES = 4
"""The accumulator holds fp32 or int32 partial sums."""

PIPELINE_TILES = 8
"""Tiles a large weight stream is cut into: the unhidden first load is then an eighth of it."""

MIN_TILE_BYTES = 256 * 1024
"""About what one core's share of HBM delivers in its 400 ns access latency (fab1: 1 TB/s)."""


@dataclass(frozen=True, kw_only=True)
class MatmulTiling:
    """How `x[m, k] @ w[k, n]` is cut: `m_block` rows at a time, weight tiles `k_tile` x `n_tile`.

    Every buffer is double-buffered in SRAM so that the DMA of the next tile overlaps the
    MXU on the current one; the accumulators hold one `m_block` x `n_tile` output tile.
    """

    m: int
    k: int
    n: int
    m_block: int
    k_tile: int
    n_tile: int
    x_bytes: float
    w_bytes: float
    out_bytes: float
    resident: bool = False
    """Activations and outputs stay whole in SRAM (the caller holds them): only weights stream."""

    @property
    def m_blocks(self) -> int:
        return math.ceil(self.m / self.m_block)

    @property
    def k_tiles(self) -> int:
        return math.ceil(self.k / self.k_tile)

    @property
    def n_tiles(self) -> int:
        return math.ceil(self.n / self.n_tile)

    @property
    def steps(self) -> int:
        """Weight tiles the matmul streams, once per row block."""
        return self.m_blocks * self.k_tiles * self.n_tiles

    def gemms(self, chip: ChipSpec) -> int:
        """MXU instructions: one per row block, k tile and column block."""
        return self.m_blocks * self.k_tiles * math.ceil(self.n / chip.core.matrix.cols)

    @property
    def x_buffer_bytes(self) -> int:
        if self.resident:
            return 0
        return 2 * math.ceil(self.m_block * self.k_tile * self.x_bytes)

    @property
    def w_buffer_bytes(self) -> int:
        return 2 * math.ceil(self.k_tile * self.n_tile * self.w_bytes)

    @property
    def out_buffer_bytes(self) -> int:
        if self.resident:
            return 0
        return 2 * math.ceil(self.m_block * self.n_tile * self.out_bytes)

    @property
    def sram_bytes(self) -> int:
        return self.x_buffer_bytes + self.w_buffer_bytes + self.out_buffer_bytes

    def accumulator_rows(self, chip: ChipSpec) -> int:
        """Accumulator rows one MXU needs: its share of an n-tile's column blocks, m_block each."""
        matrix = chip.core.matrix
        blocks = math.ceil(self.n_tile / matrix.cols)
        return math.ceil(blocks / matrix.count) * self.m_block


def accumulator_rows(chip: ChipSpec) -> int:
    """Rows of `cols` 4-byte words in one MXU's accumulator."""
    matrix = chip.core.matrix
    if matrix.accumulator_kib is None:
        raise FablessError(f"chip {chip.name} has no accumulator: the compiler targets family 'systolic' chips")
    return int(matrix.accumulator_kib * 1024) // (_ACCUMULATOR_BYTES * matrix.cols)


def plan_matmul(
    chip: ChipSpec,
    m: int,
    k: int,
    n: int,
    *,
    x_dtype: str,
    w_dtype: str,
    out_dtype: str,
    sram_budget_bytes: int | None = None,
    resident: bool = False,
    name: str = "matmul",
) -> MatmulTiling:
    """The tiling with the fewest MXU instructions whose buffers fit the budget (default: all
    SRAM), cut into enough tiles to pipeline and wide enough to feed every MXU (module doc).

    Raises FablessError naming the buffer and its size when even the smallest tile
    (one MXU block, one activation row) does not fit. With `resident`, the activations
    and outputs are the caller's and only the weight tiles count against the budget.
    """
    for size, label in ((m, "m"), (k, "k"), (n, "n")):
        if size < 1:
            raise FablessError(f"{name}: matmul {label} must be at least 1 (got {size})")
    budget = chip.core.sram.capacity_bytes if sram_budget_bytes is None else sram_budget_bytes
    accumulator = accumulator_rows(chip)
    rows, cols = chip.core.matrix.rows, chip.core.matrix.cols

    def tiling(m_block: int, k_tile: int, n_tile: int) -> MatmulTiling:
        return MatmulTiling(
            m=m,
            k=k,
            n=n,
            m_block=m_block,
            k_tile=k_tile,
            n_tile=n_tile,
            x_bytes=DTYPE_BYTES[x_dtype],
            w_bytes=DTYPE_BYTES[w_dtype],
            out_bytes=DTYPE_BYTES[out_dtype],
            resident=resident,
        )

    smallest = tiling(1, min(k, rows), min(n, cols))
    _check_fits(smallest, budget, accumulator, chip, name, x_dtype, w_dtype, out_dtype)

    weight_bytes = k * n * DTYPE_BYTES[w_dtype]
    pipeline = max(1, min(PIPELINE_TILES, int(weight_bytes // MIN_TILE_BYTES)))
    all_mxus = min(n, chip.core.matrix.count * cols)

    def cost(plan: MatmulTiling) -> tuple[bool, bool, int, int, int]:
        tiles = plan.k_tiles * plan.n_tiles
        return (tiles < pipeline, plan.n_tile < all_mxus, plan.gemms(chip), tiles, plan.sram_bytes)

    best: MatmulTiling | None = None
    for k_tile in _candidates(k, rows):
        for n_tile in _candidates(n, cols):
            for m_block in _candidates(m, 1):
                plan = tiling(m_block, k_tile, n_tile)
                if plan.sram_bytes > budget or plan.accumulator_rows(chip) > accumulator:
                    continue
                if best is None or cost(plan) < cost(best):
                    best = plan
                break  # smaller m blocks only add instructions
    assert best is not None, "the smallest tiling fits, so some tiling does"
    return best


def _candidates(size: int, granule: int) -> list[int]:
    """Tile sizes from the whole dimension down to one granule: size / 1, / 2, ... rounded up."""
    out: list[int] = []
    parts = 1
    while True:
        tile = min(size, math.ceil(math.ceil(size / parts) / granule) * granule)
        if not out or tile < out[-1]:
            out.append(tile)
        if tile <= granule:
            return out
        parts += 1 if parts < 8 else parts // 2


def _check_fits(
    plan: MatmulTiling,
    budget: int,
    accumulator: int,
    chip: ChipSpec,
    name: str,
    x: str,
    w: str,
    out: str,
) -> None:
    if plan.accumulator_rows(chip) > accumulator:
        raise FablessError(
            f"{name}: accumulator tile of {plan.accumulator_rows(chip)} rows does not fit the "
            f"{accumulator} rows of an MXU accumulator of chip {chip.name}; "
            "raise core.matrix.accumulator_kib"
        )
    if plan.sram_bytes <= budget:
        return
    buffers = (
        ("weight", plan.w_buffer_bytes, f"{plan.k_tile}x{plan.n_tile} {w}"),
        ("activation", plan.x_buffer_bytes, f"{plan.m_block}x{plan.k_tile} {x}"),
        ("output", plan.out_buffer_bytes, f"{plan.m_block}x{plan.n_tile} {out}"),
    )
    buffer, size, shape = max(buffers, key=lambda b: b[1])
    raise FablessError(
        f"{name}: {buffer} tile {shape} double-buffered needs {size} B, "
        f"and all tiles {plan.sram_bytes} B, "
        f"but the SRAM budget of chip {chip.name} is {budget} B; raise core.sram.mib"
    )
