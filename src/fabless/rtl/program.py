"""Which programs the RTL core runs: one `mxu0` stream of int8 MXU instructions.

DMA, VPU and semaphores are outside the core (a co-verification program starts from a
preloaded scratchpad instead), and so are float matmuls and scaled or float-converting
stores; each is rejected with the reason, before anything runs.
"""

from fabless.errors import FablessError
from fabless.isa.asm import format_instruction
from fabless.isa.dtypes import Dtype
from fabless.isa.encoding import encode
from fabless.isa.fields import Instruction
from fabless.isa.instructions import Halt, MxuGemm, MxuLoadWeights, MxuMatmul, MxuStore
from fabless.isa.program import Program

CORE_STREAM = "mxu0"

_STORE_CASTS = {(Dtype.INT32, Dtype.INT32), (Dtype.FP32, Dtype.FP32), (Dtype.INT32, Dtype.INT8)}
"""(acc_dtype, out_dtype) pairs the store path implements: bit copies and int8 saturation."""


def core_stream(program: Program) -> tuple[Instruction, ...]:
    """The instructions the core runs (up to and including the first halt), checked."""
    names = sorted(program.streams)
    if names != [CORE_STREAM]:
        raise FablessError(
            f"the RTL core runs one {CORE_STREAM} stream, the program has {', '.join(names) or 'none'}: "
            "preload the scratchpad instead of DMA and keep VPU work out"
        )
    code = program.streams[CORE_STREAM]
    live: list[Instruction] = []
    for index, instr in enumerate(code):
        problem = _unsupported(instr)
        if problem:
            raise FablessError(f"{CORE_STREAM}[{index}] {format_instruction(instr)}: {problem}")
        live.append(instr)
        if isinstance(instr, Halt):
            break
    return tuple(live)


def encode_stream(code: tuple[Instruction, ...]) -> list[bytes]:
    return [encode(instr) for instr in code]


def _unsupported(instr: Instruction) -> str | None:
    """Why the core cannot run `instr`, or None."""
    if isinstance(instr, Halt):
        return None
    if isinstance(instr, MxuLoadWeights | MxuGemm):
        dtypes = (instr.dtype,) if isinstance(instr, MxuLoadWeights) else (instr.x_dtype, instr.w_dtype)
        if any(d is not Dtype.INT8 for d in dtypes):
            return "the RTL MXU is int8 only: quantise the operands to int8"
        return None
    if isinstance(instr, MxuMatmul):
        return None if instr.x_dtype is Dtype.INT8 else "the RTL MXU is int8 only: quantise X to int8"
    if isinstance(instr, MxuStore):
        if instr.use_col_scale or instr.use_row_scale:
            return "the RTL store path has no fp32 scaling: scale on the VPU"
        if (instr.acc_dtype, instr.out_dtype) not in _STORE_CASTS:
            return "the RTL store path copies int32/fp32 words or saturates int32 to int8 only"
        return None
    return f"{instr.MNEMONIC} is outside the RTL core (it runs mxu.ldw, mxu.matmul, mxu.gemm, mxu.store, halt)"
