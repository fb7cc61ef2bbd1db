"""Read `.safetensors` files into float32 arrays, with a clear error for a damaged file.

The format is an 8-byte little-endian header length, a JSON header mapping each tensor to
its dtype, shape and byte span, then the raw data. Parsing it here (rather than through
`safetensors.safe_open`) lets every failure name the file and the tensor, and lets bf16
weights widen through `ml_dtypes` where numpy has no bf16.
"""

import json
from pathlib import Path

import ml_dtypes
import numpy as np

from fabless.errors import FablessError

_FLOAT_DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype(ml_dtypes.bfloat16),
}
_OTHER_ITEM_BYTES = {
    "I64": 8,
    "U64": 8,
    "I32": 4,
    "U32": 4,
    "I16": 2,
    "U16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
}
_MAX_HEADER_BYTES = 100 * 2**20


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every floating-point tensor of one file as a float32 array; integer buffers are skipped."""
    fix = "re-export or re-download the checkpoint"
    # A memory map keeps peak memory at one float32 copy of the weights.
    raw = (
        np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else np.zeros(0, np.uint8)
    )
    if len(raw) < 8:
        raise FablessError(f"{path}: {len(raw)} bytes is too short for a safetensors file; {fix}")
    header_bytes = int.from_bytes(raw[:8].tobytes(), "little")
    if header_bytes > min(_MAX_HEADER_BYTES, len(raw) - 8):
        raise FablessError(
            f"{path}: header length {header_bytes} exceeds the file; it is truncated or not "
            f"safetensors; {fix}"
        )
    try:
        header = json.loads(raw[8 : 8 + header_bytes].tobytes())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise FablessError(f"{path}: the safetensors header is not valid JSON; {fix}") from None
    if not isinstance(header, dict):
        raise FablessError(f"{path}: the safetensors header is not a JSON object; {fix}")
    data = raw[8 + header_bytes :]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (begin, end) = _entry(path, name, entry)
        if end > len(data):
            raise FablessError(
                f"{path}: tensor {name!r} ends at byte {end} but the data holds {len(data)}; "
                f"the file is truncated; {fix}"
            )
        item = _FLOAT_DTYPES[dtype].itemsize if dtype in _FLOAT_DTYPES else _OTHER_ITEM_BYTES[dtype]
        if (end - begin) != item * int(np.prod(shape, dtype=np.int64)):
            raise FablessError(
                f"{path}: tensor {name!r} spans {end - begin} bytes, not {shape} x {item}; {fix}"
            )
        if dtype in _FLOAT_DTYPES:
            array = data[begin:end].view(_FLOAT_DTYPES[dtype]).reshape(shape)
            tensors[name] = array.astype(np.float32)
    return tensors


def _entry(path: Path, name: str, entry: object) -> tuple[str, tuple[int, ...], tuple[int, int]]:
    bad = (
        f"{path}: tensor {name!r} has a malformed header entry {entry!r}; re-export the checkpoint"
    )
    if not isinstance(entry, dict):
        raise FablessError(bad)
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in _FLOAT_DTYPES and dtype not in _OTHER_ITEM_BYTES:
        raise FablessError(
            f"{path}: tensor {name!r} has unknown dtype {dtype!r}; re-export it as F32, F16 or BF16"
        )
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise FablessError(bad)
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(isinstance(o, int) for o in offsets)
        and 0 <= offsets[0] <= offsets[1]
    ):
        raise FablessError(bad)
    return dtype, tuple(shape), (offsets[0], offsets[1])
