"""Spreading a step over the cores of one chip: column shares and all-gathers through HBM.

Every core keeps whole activation rows in its own SRAM, so row-wide work (norms, the
embedding, the int8 row split) is repeated on each core, and column-wise work is shared:
each projection's output channels are cut into whole MXU column blocks, a contiguous
share per core, and attention is shared by KV head. Column shares compute exactly what
one core would, bit for bit, because every output element sums over the same K in the
same order. Where the next op needs whole rows, the shares meet in HBM: each core
stores its columns into the exchange region and then loads the whole rows back.
Attention over several tokens is shared by query rows instead, and gathered by rows.
"""

from fabless.compiler.context import Lowering
from fabless.compiler.sram import Buffer


def shares(total: int, cores: int, granule: int = 1) -> list[tuple[int, int]]:
    """[start, end) of each core's contiguous share of `total`, cut in whole `granule`s.

    Shares differ by at most one granule; the last granule may be partial, and when there
    are fewer granules than cores the last cores get empty shares.
    """
    granules = -(-total // granule)
    bounds = [min(total, (granules * core // cores) * granule) for core in range(cores + 1)]
    return [(bounds[core], bounds[core + 1]) for core in range(cores)]


def all_gather(lowering: Lowering, buffer: Buffer, rows: int, columns: list[tuple[int, int]], slot: int) -> None:
    """Make rows [0, rows) of `buffer` whole on every core, core c holding `columns[c]`.

    The exchange region has two slots that gathers take in turn, so one gather's stores
    need not wait for every core to have read the previous one.
    """
    if lowering.cores == 1:
        return
    region = lowering.layout[f"exchange{slot % 2}"]
    stride = buffer.cols * buffer.dtype.itemsize
    for core, (start, end) in enumerate(columns):
        if end > start:
            with lowering.on(core):
                lowering.store(buffer, region, rows=rows, col=start, cols=end - start, hbm_stride=stride)
    for core in range(lowering.cores):
        with lowering.on(core):
            lowering.load(region, buffer, rows=rows, row_bytes=stride, hbm_stride=stride)


def all_gather_rows(lowering: Lowering, buffer: Buffer, rows: list[tuple[int, int]], slot: int) -> None:
    """Make every row of `buffer` whole on every core, core c holding rows `rows[c]` (all columns)."""
    if lowering.cores == 1:
        return
    region = lowering.layout[f"exchange{slot % 2}"]
    stride = buffer.cols * buffer.dtype.itemsize
    for core, (start, end) in enumerate(rows):
        if end > start:
            with lowering.on(core):
                lowering.store(buffer, region, rows=end - start, row=start, hbm_stride=stride)
    total = max(end for _, end in rows)
    for core in range(lowering.cores):
        with lowering.on(core):
            lowering.load(region, buffer, rows=total, row_bytes=stride, hbm_stride=stride)
