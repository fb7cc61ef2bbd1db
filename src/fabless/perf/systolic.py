"""Systolic chips: weight-stationary MXUs of rows x cols PEs, spread over cores.

A [m, k] x [k, n] matmul is cut into k/rows x n/cols weight tiles. Each tile is loaded
into an array one row per cycle and then m activation rows stream through it, one per
cycle (a PE that does two 8-bit MACs a cycle streams two rows; fp32 at a quarter rate
streams one every four cycles). With a shadow weight buffer (`weight_buffers = 2`) a
tile's load hides behind the previous tile's stream within a column block, but nothing
hides a block's first tile load; with one, every tile pays its load, its stream and a drain
before the next load may start. m is cut into blocks that fit the accumulator, and weights
are reloaded for every block. Column blocks (with all their K tiles, which accumulate in
place) are dealt round-robin to all MXUs of all cores, and a block's results must leave
the array (a drain of rows + cols cycles) and the accumulator (one row per cycle) before
the MXU takes its next block: the accumulator move waits for the drain, and the next
block's first weight load is issued after the move on the MXU's in-order stream.
"""

import math

from fabless.chip.spec import ChipSpec
from fabless.perf.calibration import Efficiency


class SystolicFamily:
    def matmul_s(self, chip: ChipSpec, eff: Efficiency, m: int, n: int, k: int, dtype: str, groups: int = 1) -> float:
        cycles = self._cycles(chip, m, n, k, groups, 1.0, _rows_per_cycle(chip, dtype), drain_per_block=True)
        return cycles / (chip.clock_hz * eff.matmul_for(dtype))

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
        # Scores: K^T [head_dim, kv_len] stationary, queries stream; then P [q, kv_len] streams
        # through V [kv_len, head_dim]. Causal masking skips whole tiles above the diagonal.
        rate = _rows_per_cycle(chip, dtype)
        scores = self._cycles(chip, q_rows, kv_len, head_dim, groups, causal_fraction, rate)
        values = self._cycles(chip, q_rows, head_dim, kv_len, groups, causal_fraction, rate)
        return (scores + values) / (chip.clock_hz * eff.attention)

    @staticmethod
    def _cycles(
        chip: ChipSpec,
        m: int,
        n: int,
        k: int,
        groups: int,
        tile_fraction: float,
        rows_per_cycle: float,
        drain_per_block: bool = False,
    ) -> float:
        mxu = chip.core.matrix
        acc_rows = max(1, int((mxu.accumulator_kib or 0) * 1024 // (mxu.cols * 4)))
        m_block = min(m, acc_rows)
        m_blocks = math.ceil(m / m_block)
        # Column blocks are the unit dealt to MXUs: a block's K tiles accumulate in one
        # MXU's accumulator, since an array has no path to sum partials held in another.
        blocks = groups * m_blocks * math.ceil(n / mxu.cols) * tile_fraction
        blocks_per_unit = math.ceil(blocks / chip.matrix_units)
        k_tiles = math.ceil(k / mxu.rows)
        per_unit = blocks_per_unit * k_tiles
        load = min(k, mxu.rows)
        stream = m_block / rows_per_cycle
        # A block's results leave the accumulator one row per cycle after the drain.
        store = m_block
        if (mxu.weight_buffers or 1) > 1:
            # Per column block: its first tile loads before anything streams, later loads
            # hide behind streams, then the array drains and the accumulator is moved out.
            per_block = load + max(0, k_tiles - 1) * max(stream, load) + stream + mxu.rows + mxu.cols + store
            if drain_per_block:
                return blocks_per_unit * per_block
            # Attention issues its blocks back to back into separate accumulator rows and
            # moves them all out after one drain (compiler/attention.py), so it fills and
            # drains once.
            return load + max(0, per_unit - 1) * max(stream, load) + stream + mxu.rows + mxu.cols + store
        return per_unit * (load + stream + mxu.rows + mxu.cols) + store


def _rows_per_cycle(chip: ChipSpec, dtype: str) -> float:
    """Activation rows a PE array consumes per cycle at `dtype`: its rate over one MAC per PE."""
    mxu = chip.core.matrix
    return mxu.ops_per_cycle["int8" if dtype == "int4" else dtype] / (2.0 * mxu.rows * mxu.cols)
