"""The interface each chip family implements: how long its matrix units take for a shape.

Memory time, overheads and the per-op rules are shared (estimate.py); only how a matmul
maps onto the hardware differs between a GPU's SMs and a systolic chip's MXUs, so each
family is one file and nothing else asks what vendor a chip comes from.
"""

from typing import Protocol

from fabless.chip.spec import ChipSpec
from fabless.perf.calibration import Efficiency


class Family(Protocol):
    def matmul_s(self, chip: ChipSpec, eff: Efficiency, m: int, n: int, k: int, dtype: str, groups: int = 1) -> float:
        """Compute time of `groups` independent [m, k] x [k, n] matmuls issued as one kernel."""
        ...

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
        """Compute time of fused attention: `groups` (batch x kv heads) of `q_rows` query rows
        (q_len x heads per kv head) against `kv_len` keys; `causal_fraction` of score tiles run."""
        ...
