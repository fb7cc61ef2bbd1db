"""The safetensors reader against the safetensors library's own readers and writers."""

import json
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.numpy import load_file, save_file
from safetensors.torch import save_file as save_torch

from fabless.errors import FablessError
from fabless.model.safetensors_io import read_safetensors


def test_reads_float_tensors_like_the_safetensors_library(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    tensors = {
        "a.weight": rng.standard_normal((7, 13)).astype(np.float32),
        "b.bias": rng.standard_normal(5).astype(np.float16),
        "c": rng.standard_normal((2, 3, 4)),
        "empty": np.zeros((0, 3), np.float32),
        "position_ids": np.arange(9, dtype=np.int64)[None],
    }
    save_file(tensors, tmp_path / "m.safetensors")
    expected = load_file(tmp_path / "m.safetensors")
    got = read_safetensors(tmp_path / "m.safetensors")
    assert sorted(got) == ["a.weight", "b.bias", "c", "empty"]
    for name, array in got.items():
        assert array.dtype == np.float32
        np.testing.assert_array_equal(array, expected[name].astype(np.float32))


def test_widens_bf16_exactly(tmp_path: Path) -> None:
    values = torch.randn(6, 11, generator=torch.Generator().manual_seed(2)).to(torch.bfloat16)
    save_torch({"w": values}, str(tmp_path / "m.safetensors"))
    got = read_safetensors(tmp_path / "m.safetensors")["w"]
    np.testing.assert_array_equal(got, values.float().numpy())
    assert got.astype(ml_dtypes.bfloat16).astype(np.float32).tolist() == got.tolist()


@pytest.mark.parametrize("keep_bytes", [0, 5, 8, 40, -1])
def test_truncated_file_names_the_file(tmp_path: Path, keep_bytes: int) -> None:
    save_file({"w": np.ones((16, 16), np.float32)}, tmp_path / "full.safetensors")
    raw = (tmp_path / "full.safetensors").read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(raw[:keep_bytes])
    with pytest.raises(FablessError, match=r"cut\.safetensors.*(truncated|too short)"):
        read_safetensors(cut)


def test_corrupt_header_names_the_file(tmp_path: Path) -> None:
    header = b"{not json"
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(len(header).to_bytes(8, "little") + header)
    with pytest.raises(FablessError, match=r"bad\.safetensors: the safetensors header: not valid JSON"):
        read_safetensors(bad)


def test_span_that_disagrees_with_the_shape_is_rejected(tmp_path: Path) -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}).encode()
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(len(header).to_bytes(8, "little") + header + bytes(24))
    with pytest.raises(FablessError, match=r"tensor 'w' spans 20 bytes, not \(2, 3\) x 4"):
        read_safetensors(bad)


def test_unknown_dtype_is_rejected(tmp_path: Path) -> None:
    header = json.dumps({"w": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 1]}}).encode()
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(len(header).to_bytes(8, "little") + header + bytes(1))
    with pytest.raises(FablessError, match=r"tensor 'w' has unknown dtype 'Q9'"):
        read_safetensors(bad)


def write_raw(path: Path, header: object, data: bytes) -> Path:
    encoded = json.dumps(header).encode()
    path.write_bytes(len(encoded).to_bytes(8, "little") + encoded + data)
    return path


@pytest.mark.parametrize(
    ("header", "data", "message"),
    [
        ({"w": {"dtype": "F32", "shape": [2**19, 2**20], "data_offsets": [0, 16]}}, 16, "spans 16 bytes, not"),
        ({"w": {"dtype": "F32", "shape": [2**62, 4], "data_offsets": [0, 0]}}, 0, "shape.0 must be between 0 and"),
        ({"w": {"dtype": "F32", "shape": [2**32, 2**32, 0], "data_offsets": [0, 0]}}, 0, "past any real tensor"),
        ({"w": {"dtype": "F32", "shape": [1] * 9, "data_offsets": [0, 4]}}, 4, "shape"),
        ({"w": {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}}, 4, "shape.0 must be an integer"),
        ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 2**40]}}, 16, "the file is truncated"),
        ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [-4, 12]}}, 16, "data_offsets.0 must be between"),
        ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0]}}, 16, "data_offsets"),
        ({"w": {"dtype": "F32", "shape": [4]}}, 16, "data_offsets is missing"),
        ({"w": [1, 2]}, 16, "tensor 'w': the top level must be an object"),
        ({"w": {"dtype": 4, "shape": [4], "data_offsets": [0, 16]}}, 16, "dtype must be a string (got 4)"),
        (
            {
                "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]},
            },
            16,
            "overlaps the tensor before it",
        ),
        ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, 16, "leaves bytes 0..8 unused"),
        ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, 16, "8 bytes after the last tensor"),
        ([1, 2, 3], 0, "the safetensors header is not a JSON object"),
    ],
)
def test_hostile_header_is_refused_before_any_array(tmp_path: Path, header: object, data: int, message: str) -> None:
    bad = write_raw(tmp_path / "bad.safetensors", header, bytes(data))
    with pytest.raises(FablessError) as caught:
        read_safetensors(bad)
    assert str(caught.value).startswith(f"{bad}: ") and "\n" not in str(caught.value)
    assert message in str(caught.value)


def test_header_length_past_the_file_or_huge(tmp_path: Path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes((2**63).to_bytes(8, "little") + b"{}")
    with pytest.raises(FablessError, match=r"header length 9223372036854775808 exceeds the file"):
        read_safetensors(bad)
    bad.write_bytes((4).to_bytes(8, "little") + b"\xff\xfe{}")
    with pytest.raises(FablessError, match=r"the safetensors header: not UTF-8 text"):
        read_safetensors(bad)
    deep = b"[" * 50_000 + b"]" * 50_000
    bad.write_bytes(len(deep).to_bytes(8, "little") + deep)
    with pytest.raises(FablessError, match=r"the safetensors header: nested too deeply"):
        read_safetensors(bad)


def test_expected_shapes_are_checked_before_reading(tmp_path: Path) -> None:
    save_file({"w": np.ones((4, 6), np.float32), "ids": np.arange(3)}, tmp_path / "m.safetensors")
    with pytest.raises(FablessError, match=r"tensor 'w' has shape \(4, 6\) but config.json implies \(6, 4\)"):
        read_safetensors(tmp_path / "m.safetensors", {"w": (6, 4)})
    with pytest.raises(FablessError, match=r"tensor 'ids' is I64, not a float type"):
        read_safetensors(tmp_path / "m.safetensors", {"ids": (3,)})
    assert sorted(read_safetensors(tmp_path / "m.safetensors", {"w": (4, 6), "other": (1,)})) == ["w"]


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("st") / "m.safetensors"
    save_file({"a": np.ones((3, 5), np.float32), "b": np.arange(4, dtype=np.int32), "c": np.zeros(2, np.float16)}, path)
    return path.read_bytes()


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_any_corruption_loads_or_is_a_fablesserror(
    tmp_path_factory: pytest.TempPathFactory, small_file: bytes, data: st.DataObject
) -> None:
    raw = bytearray(small_file)
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    path = tmp_path_factory.mktemp("corrupt") / "m.safetensors"
    path.write_bytes(bytes(raw))
    try:
        tensors = read_safetensors(path)
    except FablessError as error:
        assert str(error).startswith(f"{path}: ") and "\n" not in str(error)
        return
    assert all(array.dtype == np.float32 for array in tensors.values())
