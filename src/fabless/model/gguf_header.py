"""Walk a GGUF file's header with every length checked, before `gguf.GGUFReader` sees it.

The reader trusts the file: an array claiming 2^63 elements past the end of the file loops
(each read comes back empty and never advances), a tensor's shape is reshaped as given,
names are decoded as they come. This walk bounds every count by the bytes left, checks
each tensor's byte size and span against the file's length, and decodes every string, so
that what the reader is then handed cannot make it hang, allocate or raise.
"""

import math
import mmap
import struct
from pathlib import Path

from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

from fabless.checks import shown
from fabless.errors import FablessError

_MAGIC = b"GGUF"
_VERSIONS = (2, 3)
_STRING, _ARRAY = 8, 9
_SCALAR_BYTES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_UINT32 = 4
# llama.cpp's own limits: four dimensions (GGML_MAX_DIMS), keys and names of at most 64 KiB.
_MAX_DIMS = 4
_MAX_NAME_BYTES = 2**16
_MAX_TENSORS = 2**20
_MAX_DIM = 2**40
FIX = "re-download or re-convert it"
"""What to do about a GGUF file that cannot be read: the loader says it too."""


class _Walk:
    """A read position in the mapped file; every read past the end is an error naming the part."""

    def __init__(self, data: mmap.mmap, path: Path, order: str) -> None:
        self.data, self.path, self.order, self.at = data, path, order, 0

    def fail(self, problem: str) -> FablessError:
        return FablessError(f"{self.path}: not a readable GGUF file ({problem}); {FIX}")

    def left(self) -> int:
        return len(self.data) - self.at

    def skip(self, n: int, what: str) -> int:
        if n > self.left():
            raise self.fail(f"{what} runs past the end of the file at byte {len(self.data)}: it is truncated")
        start, self.at = self.at, self.at + n
        return start

    def number(self, fmt: str, what: str) -> int:
        start = self.skip(struct.calcsize(fmt), what)
        value: int = struct.unpack_from(self.order + fmt, self.data, start)[0]
        return value

    def text(self, what: str, limit: int | None = None) -> str:
        size = self.number("Q", what)
        if limit is not None and size > limit:
            raise self.fail(f"{what} claims {size} bytes, more than {limit}")
        start = self.skip(size, what)
        try:
            return self.data[start : start + size].decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"{what} is not UTF-8") from None


def check_gguf_header(path: Path) -> None:
    """Raise a one-line `FablessError` unless `path` is a GGUF file whose header and spans hold together."""
    try:
        with path.open("rb") as stream:
            if path.stat().st_size < 24:
                raise FablessError(f"{path}: not a readable GGUF file (too short: truncated); {FIX}")
            with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
                _check(data, path)
    except OSError as error:
        raise FablessError(f"cannot read {path}: {error.strerror or error}") from None


def _check(data: mmap.mmap, path: Path) -> None:
    if data[:4] != _MAGIC:
        raise FablessError(f"{path}: not a readable GGUF file (it does not start with 'GGUF'); {FIX}")
    # A file written on a big-endian machine reads as version 2 << 16 or 3 << 16 here.
    little = struct.unpack_from("<I", data, 4)[0]
    walk = _Walk(data, path, "<" if little & 0xFFFF else ">")
    walk.at = 4
    version = walk.number("I", "the version")
    if version not in _VERSIONS:
        raise walk.fail(f"version {version}; Fabless reads GGUF versions 2 and 3")
    tensor_count = walk.number("Q", "the tensor count")
    kv_count = walk.number("Q", "the metadata count")
    if tensor_count > _MAX_TENSORS or kv_count > walk.left() // 13:
        raise walk.fail(f"it claims {tensor_count} tensors and {kv_count} metadata keys, more than it can hold")
    alignment = 32
    for _ in range(kv_count):
        key = walk.text("a metadata key", _MAX_NAME_BYTES)
        kind = walk.number("I", f"metadata {shown(key)}")
        if key == "general.alignment":
            if kind != _UINT32:
                raise walk.fail("general.alignment is not a uint32")
            alignment = walk.number("I", "general.alignment")
            if alignment == 0 or alignment & (alignment - 1):
                raise walk.fail(f"general.alignment {alignment} is not a power of two")
        else:
            _value(walk, kind, key, nested=False)
    spans = [_tensor_info(walk) for _ in range(tensor_count)]
    _check_spans(walk, spans, -(-walk.at // alignment) * alignment)


def _value(walk: _Walk, kind: int, key: str, *, nested: bool) -> None:
    what = f"metadata {shown(key)}"
    if kind in _SCALAR_BYTES:
        walk.skip(_SCALAR_BYTES[kind], what)
    elif kind == _STRING:
        walk.text(what)
    elif kind == _ARRAY and not nested:
        item = walk.number("I", what)
        length = walk.number("Q", what)
        size = _SCALAR_BYTES.get(item, 8)
        if length > walk.left() // size:
            raise walk.fail(f"{what} claims {length} items, more than the file holds")
        if item in _SCALAR_BYTES:
            walk.skip(length * size, what)
        else:
            for _ in range(length):
                _value(walk, item, key, nested=True)
    else:
        raise walk.fail(f"{what} has value type {kind}, which GGUF readers do not handle")


def _tensor_info(walk: _Walk) -> tuple[str, int, int]:
    """(name, offset from the data start, bytes) of one tensor, its type and shape checked."""
    name = walk.text("a tensor name", _MAX_NAME_BYTES)
    what = f"tensor {shown(name)}"
    n_dims = walk.number("I", what)
    if not 1 <= n_dims <= _MAX_DIMS:
        raise walk.fail(f"{what} has {n_dims} dimensions, not 1 to {_MAX_DIMS}")
    dims = [walk.number("Q", what) for _ in range(n_dims)]
    if any(dim > _MAX_DIM for dim in dims):
        raise walk.fail(f"{what} has shape {dims}, past any real model")
    raw_type = walk.number("I", what)
    try:
        kind = GGMLQuantizationType(raw_type)
        block, block_bytes = GGML_QUANT_SIZES[kind]
    except (ValueError, KeyError):
        raise walk.fail(f"{what} has unknown type {raw_type}") from None
    if dims[0] % block:
        raise walk.fail(f"{what} has a first dimension of {dims[0]}, not a multiple of {kind.name}'s block of {block}")
    offset = walk.number("Q", what)
    return name, offset, math.prod(dims) // block * block_bytes


def _check_spans(walk: _Walk, spans: list[tuple[str, int, int]], data_start: int) -> None:
    names = set()
    for name, offset, size in spans:
        if name in names:
            raise walk.fail(f"tensor {shown(name)} appears twice")
        names.add(name)
        end = data_start + offset + size
        if end > len(walk.data):
            raise walk.fail(
                f"tensor {shown(name)} ends at byte {end} but the file holds {len(walk.data)}: it is truncated"
            )
