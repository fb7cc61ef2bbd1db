"""Kernel fusion every serving stack does, applied before timing.

Projections that read the same activation run as one GEMM (QKV, gate+up), and a residual
add runs inside the norm that follows it (fused add + RMSNorm). Both save a kernel launch
and a pass over the activation; wider GEMMs also quantise better into waves and tiles.
"""

from dataclasses import dataclass, replace

from fabless.chip.spec import DTYPE_BYTES
from fabless.graph.ops import Cost, MatMul, Normalize, Op, Pointwise


@dataclass(frozen=True, kw_only=True)
class FusedElementwise(Op):
    """Elementwise ops run as one kernel; `saved_bytes` is traffic kept in registers."""

    parts: tuple[Op, ...]
    saved_bytes: float

    def cost_once(self) -> Cost:
        total = Cost()
        for part in self.parts:
            total = total + part.cost_once()
        return replace(total, activation_bytes=total.activation_bytes - self.saved_bytes)


def fuse(ops: tuple[Op, ...]) -> tuple[Op, ...]:
    fused: list[Op] = []
    for op in ops:
        last = fused[-1] if fused else None
        if isinstance(op, MatMul) and isinstance(last, MatMul) and _same_input(last, op):
            fused[-1] = replace(last, name=f"{last.name}+{op.name}", n=last.n + op.n, output=op.output)
        elif (
            isinstance(op, Normalize) and isinstance(last, Pointwise) and last.fn == "add" and op.repeat == last.repeat
        ):
            # The norm reads the sum from registers instead of from memory.
            saved = op.rows * op.cols * DTYPE_BYTES[op.dtype]
            fused[-1] = FusedElementwise(
                name=f"{last.name}+{op.name}",
                inputs=last.inputs,
                output=op.output,
                repeat=op.repeat,
                parts=(last, op),
                saved_bytes=saved,
            )
        else:
            fused.append(op)
    return tuple(fused)


def _same_input(a: MatMul, b: MatMul) -> bool:
    return a.inputs[0] == b.inputs[0] and (a.m, a.k, a.repeat, a.w_dtype, a.compute_dtype) == (
        b.m,
        b.k,
        b.repeat,
        b.w_dtype,
        b.compute_dtype,
    )
