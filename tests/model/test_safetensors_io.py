"""The safetensors reader against the safetensors library's own readers and writers."""

import json
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
import torch
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
    with pytest.raises(FablessError, match=r"bad\.safetensors: the safetensors header is not valid JSON"):
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
