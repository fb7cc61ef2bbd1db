"""Read `.safetensors` files into float32 arrays, with a clear error for a damaged file.

The format is an 8-byte little-endian header length, a JSON header mapping each tensor to
its dtype, shape and byte span, then the raw data. Parsing it here (rather than through
`safetensors.safe_open`) lets every failure name the file and the tensor, and lets bf16
weights widen through `ml_dtypes` where numpy has no bf16. Every claim the header makes
is checked against the file's length before any array is built, so a hostile header can
neither allocate nor reshape past what the file holds.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import ml_dtypes
import numpy as np
from pydantic import Field, ValidationError

from fabless.checks import shown
from fabless.errors import FablessError
from fabless.files import MIB, decode_text, parse_json
from fabless.model.validation import StrictModel, between, problem_line

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
# A header lists ~100 bytes per tensor: even a 405B model's shard stays far below 16 MiB.
_HEADER_LIMIT_BYTES = 16 * MIB
_FIX = "re-export or re-download the checkpoint"

_MAX_ELEMENTS = 2**40
Dim = Annotated[int, between(0, _MAX_ELEMENTS)]
Offset = Annotated[int, between(0, 2**62)]


class _EntryJson(StrictModel):
    dtype: str
    shape: Annotated[list[Dim], Field(max_length=8)]
    data_offsets: Annotated[list[Offset], Field(min_length=2, max_length=2)]


@dataclass(frozen=True)
class _Entry:
    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


def read_safetensors(path: Path, expected: Mapping[str, tuple[int, ...]] | None = None) -> dict[str, np.ndarray]:
    """Floating-point tensors of one file as float32 arrays; integer buffers are skipped.

    With `expected` (tensor name to shape), only those tensors are read, and a shape that
    disagrees is an error raised before any of them is.
    """
    raw = _map(path)
    entries, data = _index(path, raw)
    if expected is None:
        chosen = [entry for entry in entries if entry.dtype in _FLOAT_DTYPES]
    else:
        chosen = [entry for entry in entries if entry.name in expected]
        for entry in chosen:
            _check_expected(path, entry, expected[entry.name])
    return {entry.name: _array(data, entry) for entry in chosen}


def _array(data: np.ndarray, entry: _Entry) -> np.ndarray:
    return data[entry.begin : entry.end].view(_FLOAT_DTYPES[entry.dtype]).reshape(entry.shape).astype(np.float32)


def _map(path: Path) -> np.ndarray:
    # A memory map keeps peak memory at one float32 copy of the weights.
    try:
        size = path.stat().st_size
        raw = np.memmap(path, dtype=np.uint8, mode="r") if size else np.zeros(0, np.uint8)
    except OSError as error:
        raise FablessError(f"cannot read {path}: {error.strerror or error}") from None
    if len(raw) < 8:
        raise FablessError(f"{path}: {len(raw)} bytes is too short for a safetensors file; {_FIX}")
    return raw


def _index(path: Path, raw: np.ndarray) -> tuple[list[_Entry], np.ndarray]:
    """The header's entries, each checked to lie inside the data, tiling it without overlap."""
    header_bytes = int.from_bytes(raw[:8].tobytes(), "little")
    if header_bytes > min(_HEADER_LIMIT_BYTES, len(raw) - 8):
        raise FablessError(
            f"{path}: header length {header_bytes} exceeds the file or 16 MiB; it is truncated or not "
            f"safetensors; {_FIX}"
        )
    origin = f"{path}: the safetensors header"
    header = parse_json(decode_text(raw[8 : 8 + header_bytes].tobytes(), origin), origin)
    if not isinstance(header, dict):
        raise FablessError(f"{path}: the safetensors header is not a JSON object; {_FIX}")
    data = raw[8 + header_bytes :]
    entries = sorted(
        (_entry(path, name, value) for name, value in header.items() if name != "__metadata__"),
        key=lambda entry: (entry.begin, entry.end),
    )
    cursor = 0
    for entry in entries:
        _check_span(path, entry, len(data))
        if entry.begin != cursor:
            gap = f"leaves bytes {cursor}..{entry.begin} unused"
            what = "overlaps the tensor before it" if entry.begin < cursor else gap
            raise FablessError(f"{path}: tensor {shown(entry.name)} {what}; the header is damaged; {_FIX}")
        cursor = entry.end
    if cursor != len(data):
        raise FablessError(f"{path}: {len(data) - cursor} bytes after the last tensor belong to none; {_FIX}")
    return entries, data


def _entry(path: Path, name: str, value: object) -> _Entry:
    try:
        entry = _EntryJson.model_validate(value)
    except ValidationError as error:
        raise FablessError(f"{path}: tensor {shown(name)}: {problem_line(error, 'the header')}; {_FIX}") from None
    if entry.dtype not in _FLOAT_DTYPES and entry.dtype not in _OTHER_ITEM_BYTES:
        raise FablessError(
            f"{path}: tensor {shown(name)} has unknown dtype {shown(entry.dtype)}; re-export it as F32, F16 or BF16"
        )
    begin, end = entry.data_offsets
    return _Entry(name=name, dtype=entry.dtype, shape=tuple(entry.shape), begin=begin, end=end)


def _check_span(path: Path, entry: _Entry, data_bytes: int) -> None:
    # numpy cannot even describe a shape like (2^32, 2^32, 0), though it holds no elements.
    if math.prod(max(dim, 1) for dim in entry.shape) > _MAX_ELEMENTS:
        raise FablessError(f"{path}: tensor {shown(entry.name)} has shape {entry.shape}, past any real tensor; {_FIX}")
    if entry.end > data_bytes:
        raise FablessError(
            f"{path}: tensor {shown(entry.name)} ends at byte {entry.end} but the data holds {data_bytes}; "
            f"the file is truncated; {_FIX}"
        )
    item = _FLOAT_DTYPES[entry.dtype].itemsize if entry.dtype in _FLOAT_DTYPES else _OTHER_ITEM_BYTES[entry.dtype]
    # Python integers: a numpy product of a hostile shape would wrap around to a small number.
    if entry.end - entry.begin != item * math.prod(entry.shape):
        raise FablessError(
            f"{path}: tensor {shown(entry.name)} spans {entry.end - entry.begin} bytes, "
            f"not {entry.shape} x {item}; {_FIX}"
        )


def _check_expected(path: Path, entry: _Entry, shape: tuple[int, ...]) -> None:
    if entry.shape != shape:
        raise FablessError(
            f"{path}: tensor {shown(entry.name)} has shape {entry.shape} but config.json implies {shape}; "
            "fix config.json or the weights"
        )
    if entry.dtype not in _FLOAT_DTYPES:
        raise FablessError(
            f"{path}: tensor {shown(entry.name)} is {entry.dtype}, not a float type; re-export it as F32, F16 or BF16"
        )
