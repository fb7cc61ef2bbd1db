"""What every lowering rule shares while one program is compiled.

Rules emit for one core at a time: `Lowering.on(core)` selects it, and every stream name
and SRAM range a rule names ("vpu", "mxu0", "sram") is then that core's. Cores share
nothing but HBM, so the emitter derives cross-core synchronisation from HBM ranges alone.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fabless.chip.spec import ChipSpec
from fabless.compiler.emitter import Emitter, Span, strided
from fabless.compiler.layout import HbmLayout, Region
from fabless.compiler.sram import Buffer, SramPlan
from fabless.isa import DmaLoad, DmaStore, Dtype, Instruction

DTYPES = {"fp32": Dtype.FP32, "bf16": Dtype.BF16, "fp8": Dtype.FP8E4M3, "int8": Dtype.INT8}

WEIGHT_QUEUE = "dma0"
"""Weight tiles stream through their own DMA queue so they run ahead of everything else."""
DATA_QUEUE = "dma1"

_TILE_ALIGN = 64


@dataclass
class Lowering:
    """The chip, the memory map, the SRAM plan and the emitter of the program being built."""

    chip: ChipSpec
    layout: HbmLayout
    sram: SramPlan
    cores: int = 1
    """Cores the program spreads over (every core has the same SRAM plan)."""
    emitter: Emitter = field(default_factory=Emitter)
    weight_ring: Buffer | None = None
    """Each core's SRAM for weight tiles in flight, used as a ring (see `weight_tile`)."""
    core: int = 0
    _ring_cursor: dict[int, int] = field(default_factory=dict)
    _next_mxu: dict[int, int] = field(default_factory=dict)

    @contextmanager
    def on(self, core: int) -> Iterator[None]:
        """Emit for `core` inside the block."""
        previous, self.core = self.core, core
        try:
            yield
        finally:
            self.core = previous

    def next_mxu(self) -> str:
        """A core's MXUs take column blocks in turn."""
        index = self._next_mxu.get(self.core, 0)
        self._next_mxu[self.core] = (index + 1) % self.chip.core.matrix.count
        return f"mxu{index}"

    @property
    def weight_budget(self) -> int:
        """The SRAM a matmul's double-buffered tiles may plan on: half the ring, so at least
        four tiles are in flight and the weight DMA runs ahead across ops."""
        assert self.weight_ring is not None, "the weight ring is placed before any matmul"
        return self.weight_ring.nbytes // 2

    def weight_tile(self, rows: int, cols: int, dtype: Dtype) -> Buffer:
        """The next place in the current core's weight ring for a [rows, cols] tile.

        Tiles follow each other round the ring, so the weight queue keeps loading as long
        as any bytes are free, not only while one of two slots is: across an op boundary
        it can run a ring's worth ahead of the MXUs waiting on activations. The emitter
        makes each load wait for the MXU reads of the bytes it overwrites.
        """
        ring = self.weight_ring
        assert ring is not None, "the weight ring is placed before any matmul"
        size = rows * cols * dtype.itemsize
        assert size <= ring.nbytes, "tiles are planned within the ring"
        cursor = self._ring_cursor.get(self.core, 0)
        if cursor + size > ring.nbytes:
            cursor = 0
        self._ring_cursor[self.core] = -(-(cursor + size) // _TILE_ALIGN) * _TILE_ALIGN
        return Buffer("weights", ring.addr + cursor, rows, cols, dtype)

    def emit(
        self, stream: str, instruction: Instruction, reads: tuple[Span, ...] = (), writes: tuple[Span, ...] = ()
    ) -> None:
        if self.core:
            stream = f"c{self.core}.{stream}"
            reads, writes = self._own_sram(reads), self._own_sram(writes)
        self.emitter.emit(stream, instruction, reads, writes)

    def _own_sram(self, spans: tuple[Span, ...]) -> tuple[Span, ...]:
        """The spans with "sram" naming the current core's SRAM; HBM is shared."""
        return tuple((f"sram{self.core}", *span[1:]) if span[0] == "sram" else span for span in spans)  # type: ignore[misc]

    def load(
        self,
        region: Region,
        buffer: Buffer,
        *,
        hbm_offset: int = 0,
        rows: int = 1,
        row_bytes: int | None = None,
        hbm_stride: int | None = None,
        queue: str = DATA_QUEUE,
    ) -> None:
        """Copy `rows` rows of HBM (from `region` + `hbm_offset`) into the top of `buffer`."""
        row_bytes = buffer.stride if row_bytes is None else row_bytes
        hbm_stride = row_bytes if hbm_stride is None else hbm_stride
        start = region.offset + hbm_offset
        self.emit(
            queue,
            DmaLoad(
                hbm_addr=start,
                sram_addr=buffer.addr,
                rows=rows,
                row_bytes=row_bytes,
                hbm_stride=hbm_stride,
                sram_stride=buffer.stride,
            ),
            reads=(strided("hbm", start, rows, row_bytes, hbm_stride),),
            writes=(("sram", buffer.addr, buffer.addr + (rows - 1) * buffer.stride + row_bytes),),
        )

    def store(
        self,
        buffer: Buffer,
        region: Region,
        *,
        rows: int,
        row: int = 0,
        col: int = 0,
        cols: int | None = None,
        hbm_stride: int | None = None,
    ) -> None:
        """Copy rows [row, row + rows) of `buffer` (columns [col, col + cols)) to `region`.

        Buffer row r lands at `region` + r * `hbm_stride` + the window's byte offset in its
        row, so windows or row blocks of one buffer stored by different cores tile one HBM
        matrix.
        """
        cols = buffer.cols - col if cols is None else cols
        row_bytes = cols * buffer.dtype.itemsize
        hbm_stride = buffer.stride if hbm_stride is None else hbm_stride
        start = region.offset + row * hbm_stride + col * buffer.dtype.itemsize
        self.emit(
            DATA_QUEUE,
            DmaStore(
                sram_addr=buffer.at(row, col),
                hbm_addr=start,
                rows=rows,
                row_bytes=row_bytes,
                sram_stride=buffer.stride,
                hbm_stride=hbm_stride,
            ),
            reads=(("sram", buffer.at(row, col), buffer.at(row + rows - 1, col) + row_bytes),),
            writes=(strided("hbm", start, rows, row_bytes, hbm_stride),),
        )
