"""The state a core run starts from and ends with: instruction words and memory images."""

from dataclasses import dataclass

import numpy as np

from fabless.rtl.config import RtlConfig


@dataclass(frozen=True)
class CoreImage:
    """Scratchpad bytes and accumulator words (uint32 [acc_rows, cols]) of one core."""

    spad: np.ndarray
    acc: np.ndarray

    @classmethod
    def blank(cls, config: RtlConfig) -> "CoreImage":
        """Memories as the ISA defines them at power-up: every byte 0xFF."""
        return cls(
            np.full(config.spad_bytes, 0xFF, dtype=np.uint8),
            np.full((config.acc_rows, config.cols), 0xFFFFFFFF, dtype=np.uint32),
        )

    def spad_rows(self, config: RtlConfig) -> list[int]:
        """The scratchpad as integers, one per physical row (byte 0 in the low bits)."""
        width = config.spad_row_bytes
        return [int.from_bytes(self.spad[i : i + width].tobytes(), "little")
                for i in range(0, config.spad_bytes, width)]

    def acc_rows(self) -> list[int]:
        return [int.from_bytes(row.tobytes(), "little") for row in self.acc.astype("<u4")]


@dataclass(frozen=True)
class RtlRun:
    """What a program left in the core's memories, and the cycles it took."""

    image: CoreImage
    cycles: int
    error: bool


def image_from_rows(config: RtlConfig, spad_rows: list[int], acc_rows: list[int]) -> CoreImage:
    width = config.spad_row_bytes
    spad = np.frombuffer(b"".join(r.to_bytes(width, "little") for r in spad_rows), dtype=np.uint8)
    acc_bytes = b"".join(r.to_bytes(config.acc_row_bytes, "little") for r in acc_rows)
    acc = np.frombuffer(acc_bytes, dtype="<u4").reshape(config.acc_rows, config.cols)
    return CoreImage(spad.copy(), acc.astype(np.uint32))
