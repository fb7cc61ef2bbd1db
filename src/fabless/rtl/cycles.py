"""Cycle counts the ISA and the array imply, and how far the RTL may stray from them.

The analytical count of an instruction is the work its tile does on a weight-stationary
array with a one-row-per-cycle scratchpad port: ldw k (n transposed) cycles, one weight
row each; matmul m + rows + cols (m activation rows in, then the wavefront crosses the
array); store m x ceil(row bytes / W); gemm one ldw and one matmul per K chunk. The RTL
adds fixed costs the count leaves out: 2 cycles to fetch and decode each instruction,
3 to set up and drain each weight load, 2 to set up each matmul and write its last
row, 2 to drain each store, and 1 to see the end of the stream: at most 5 per step.
`RTL_OVERHEAD_BOUND` is that bound; tests hold the RTL to it.

Against the cycle simulator (`fabless.cyclesim`), which models the same array, the RTL
also differs by design: it drains the array after every matmul (the cycle simulator
streams the next matmul right behind the last row), it moves a transposed weight tile in
n cycles (the cycle simulator charges k), and its store writes through a W-byte port
(the cycle simulator prices `core.sram.bytes_per_cycle`, shared). `cyclesim_tolerance`
adds those terms to the control overhead.
"""

from fabless.isa.fields import Instruction
from fabless.isa.instructions import Halt, MxuGemm, MxuLoadWeights, MxuMatmul, MxuStore
from fabless.rtl.config import RtlConfig

RTL_OVERHEAD_BOUND = 5
"""Most extra RTL cycles per tile step (an ldw, a matmul, a store, a gemm chunk or a halt)."""


def analytical_cycles(config: RtlConfig, code: tuple[Instruction, ...]) -> int:
    """The array-and-port cycle count of a core stream, without control overheads."""
    total = 0
    for instr in code:
        if isinstance(instr, MxuLoadWeights):
            total += instr.n if instr.transposed else instr.k
        elif isinstance(instr, MxuMatmul):
            total += instr.m + config.rows + config.cols
        elif isinstance(instr, MxuGemm):
            for chunk in _chunks(config, instr.k):
                total += (instr.n if instr.transposed else chunk) + instr.m + config.rows + config.cols
        elif isinstance(instr, MxuStore):
            row_bytes = instr.n * instr.out_dtype.itemsize
            total += instr.m * -(-row_bytes // config.spad_row_bytes)
    return total


def tile_steps(config: RtlConfig, code: tuple[Instruction, ...]) -> int:
    """Instructions, counting each gemm chunk as two steps (its ldw and its matmul)."""
    steps = 0
    for instr in code:
        if isinstance(instr, MxuGemm):
            steps += 2 * len(_chunks(config, instr.k))
        elif isinstance(instr, MxuLoadWeights | MxuMatmul | MxuStore | Halt):
            steps += 1
    return steps


def overhead_bound(config: RtlConfig, code: tuple[Instruction, ...]) -> int:
    """The most cycles the RTL may take beyond `analytical_cycles` for `code`."""
    return RTL_OVERHEAD_BOUND * tile_steps(config, code) + 1


def _chunks(config: RtlConfig, k: int) -> list[int]:
    return [min(config.rows, k - start) for start in range(0, k, config.rows)]


def cyclesim_tolerance(config: RtlConfig, code: tuple[Instruction, ...]) -> int:
    """The most the RTL's cycles may differ, either way, from the cycle simulator's on `code`.

    Control overhead, plus per matmul (or gemm chunk) one drain of rows + cols, per
    transposed load |k - n|, per store its whole W-byte write time.
    """
    total = overhead_bound(config, code)
    drain = config.rows + config.cols
    for instr in code:
        if isinstance(instr, MxuMatmul):
            total += drain
        elif isinstance(instr, MxuGemm):
            chunks = _chunks(config, instr.k)
            total += drain * len(chunks)
            if instr.transposed:
                total += sum(abs(chunk - instr.n) for chunk in chunks)
        elif isinstance(instr, MxuLoadWeights) and instr.transposed:
            total += abs(instr.k - instr.n)
        elif isinstance(instr, MxuStore):
            total += instr.m * -(-instr.n * instr.out_dtype.itemsize // config.spad_row_bytes)
    return total
