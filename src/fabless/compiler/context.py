"""What every lowering rule shares while one program is compiled."""

from dataclasses import dataclass, field

from fabless.chip.spec import ChipSpec
from fabless.compiler.emitter import Emitter, Span
from fabless.compiler.layout import HbmLayout, Region
from fabless.compiler.sram import Buffer, SramPlan
from fabless.isa import DmaLoad, DmaStore, Dtype, Instruction

DTYPES = {"fp32": Dtype.FP32, "bf16": Dtype.BF16, "fp8": Dtype.FP8E4M3, "int8": Dtype.INT8}

WEIGHT_QUEUE = "dma0"
"""Weight tiles stream through their own DMA queue so they run ahead of everything else."""
DATA_QUEUE = "dma1"


@dataclass
class Lowering:
    """The chip, the memory map, the SRAM plan and the emitter of the program being built."""

    chip: ChipSpec
    layout: HbmLayout
    sram: SramPlan
    emitter: Emitter = field(default_factory=Emitter)
    weight_slots: tuple[Buffer, Buffer] | None = None
    _next_slot: int = 0
    _next_mxu: int = 0

    def next_mxu(self) -> str:
        """MXUs take column blocks in turn."""
        name = f"mxu{self._next_mxu}"
        self._next_mxu = (self._next_mxu + 1) % self.chip.core.matrix.count
        return name

    def next_slot(self) -> Buffer:
        """Weight tiles alternate between two slots: double buffering."""
        assert self.weight_slots is not None, "weight slots are placed before any matmul"
        slot = self.weight_slots[self._next_slot]
        self._next_slot ^= 1
        return slot

    def emit(
        self, stream: str, instruction: Instruction, reads: tuple[Span, ...] = (), writes: tuple[Span, ...] = ()
    ) -> None:
        self.emitter.emit(stream, instruction, reads, writes)

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
        end = start + (rows - 1) * hbm_stride + row_bytes
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
            reads=(("hbm", start, end),),
            writes=(("sram", buffer.addr, buffer.addr + (rows - 1) * buffer.stride + row_bytes),),
        )

    def store(self, buffer: Buffer, region: Region, *, rows: int, row: int = 0) -> None:
        """Copy rows [row, row + rows) of `buffer` to the start of `region`."""
        start = region.offset
        size = rows * buffer.stride
        self.emit(
            DATA_QUEUE,
            DmaStore(
                sram_addr=buffer.at(row),
                hbm_addr=start,
                rows=rows,
                row_bytes=buffer.stride,
                sram_stride=buffer.stride,
                hbm_stride=buffer.stride,
            ),
            reads=(buffer.span(row, rows),),
            writes=(("hbm", start, start + size),),
        )
