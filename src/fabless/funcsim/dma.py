"""DMA handlers: byte copies between HBM and a core's SRAM, direct or by index."""

import numpy as np

from fabless.funcsim.errors import ProgramError
from fabless.funcsim.memory import tile
from fabless.funcsim.provenance import Copy
from fabless.funcsim.unit import Prepare, Step, Unit
from fabless.isa.instructions import DmaGather, DmaLoad, DmaScatter, DmaStore, LinkSend

_BYTES = np.dtype(np.uint8)
DEFER_MIN_BYTES = 32 * 1024
"""Loads smaller than this are copied at once: scales, norm weights and activations are read
right away, and deferring, then settling, a small copy costs more than the copy."""
_INDEX = np.dtype(np.int32)


def _load(unit: Unit, instr: DmaLoad) -> Step:
    src = tile(unit.memory.hbm, "HBM", instr.hbm_addr, instr.rows, instr.row_bytes, instr.hbm_stride, _BYTES)
    dst = unit.sram_tile(instr.sram_addr, instr.rows, instr.row_bytes, instr.sram_stride, _BYTES, True)
    ((start, end),) = unit.writes
    unit.writes.clear()  # the load settles and marks its own bytes, then records what they now copy
    memory, provenance, core, deferred = unit.memory, unit.provenance, unit.core, unit.memory.deferred
    dense = instr.rows == 1 or instr.sram_stride == instr.row_bytes
    deferred_load = dense and end - start >= DEFER_MIN_BYTES
    hbm_stride = instr.hbm_stride if instr.rows > 1 else instr.row_bytes
    mark = memory.marker(core, start, end)
    # one record for every run, so that MXU loads can recognise the same load by identity
    copy = Copy(core, instr.sram_addr, instr.sram_stride, instr.hbm_addr, instr.hbm_stride, instr.rows,
                instr.row_bytes, -1)

    def run() -> None:
        if deferred_load:
            deferred.defer(core, start, end, instr.hbm_addr, instr.row_bytes, hbm_stride)
        else:
            # pending copies there are settled first: the bytes between strided rows keep them
            deferred.settle(core, ((start, end),))
            np.copyto(dst, src)
        mark()
        copy.clock = memory.clock
        provenance.record(copy)

    return run


def _store(unit: Unit, instr: DmaStore) -> Step:
    src = unit.sram_tile(instr.sram_addr, instr.rows, instr.row_bytes, instr.sram_stride, _BYTES)
    dst = tile(unit.memory.hbm, "HBM", instr.hbm_addr, instr.rows, instr.row_bytes, instr.hbm_stride, _BYTES, True)
    memory, start = unit.memory, instr.hbm_addr
    end = start + (instr.rows - 1) * instr.hbm_stride + instr.row_bytes

    def run() -> None:
        memory.deferred.before_hbm_write(start, end)
        np.copyto(dst, src)
        memory.mark_hbm_written(start, end)

    return run


def _table(unit: Unit, instr: DmaGather | DmaScatter) -> tuple[np.ndarray, np.ndarray]:
    """The int32 index vector in SRAM and the HBM table as [rows that fit, row_bytes]."""
    if instr.table_stride < instr.row_bytes:
        raise ProgramError(
            f"table_stride {instr.table_stride} is below row_bytes {instr.row_bytes}: table rows would overlap"
        )
    hbm = unit.memory.hbm
    fits = (hbm.size - instr.table_addr - instr.row_bytes) // instr.table_stride + 1
    if fits < 1:
        raise ProgramError(f"HBM table at {instr.table_addr:#x} is outside its {hbm.size:#x} bytes")
    table = tile(hbm, "HBM", instr.table_addr, fits, instr.row_bytes, instr.table_stride, _BYTES)
    index = unit.sram_vector(instr.index_addr, instr.count, 4, _INDEX)
    return index, table


def _checked(index: np.ndarray, rows: int) -> np.ndarray:
    positions = index.copy()
    bad = np.flatnonzero((positions < 0) | (positions >= rows))
    if bad.size:
        at = int(bad[0])
        raise ProgramError(
            f"index[{at}] = {positions[at]} is outside the {rows} table rows that fit in HBM"
        )
    return positions


def _gather(unit: Unit, instr: DmaGather) -> Step:
    index, table = _table(unit, instr)
    dst = unit.sram_tile(instr.sram_addr, instr.count, instr.row_bytes, instr.sram_stride, _BYTES, True)

    def run() -> None:
        dst[...] = table[_checked(index, table.shape[0])]

    return run


def _scatter(unit: Unit, instr: DmaScatter) -> Step:
    index, table = _table(unit, instr)
    src = unit.sram_tile(instr.sram_addr, instr.count, instr.row_bytes, instr.sram_stride, _BYTES)

    memory, row_bytes, stride, base = unit.memory, instr.row_bytes, instr.table_stride, instr.table_addr

    def run() -> None:
        rows = _checked(index, table.shape[0])
        start, end = base + int(rows.min()) * stride, base + int(rows.max()) * stride + row_bytes
        memory.deferred.before_hbm_write(start, end)
        table[rows] = src
        memory.mark_hbm_written(start, end)

    return run


def _link_send(unit: Unit, instr: LinkSend) -> Step:
    raise ProgramError("link.send needs a multi-chip simulation; the functional simulator models one chip")


PREPARE: dict[type, Prepare] = {
    DmaLoad: _load,
    DmaStore: _store,
    DmaGather: _gather,
    DmaScatter: _scatter,
    LinkSend: _link_send,
}
