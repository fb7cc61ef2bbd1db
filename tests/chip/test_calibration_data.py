"""The published GPU measurements in data/calibration: every row is sourced, dated and
physically possible on the chip preset it calibrates (a copying slip shows up here)."""

import csv
import re
from importlib import resources

import pytest

from fabless.chip import DTYPE_BYTES, load_chip
from fabless.model.zoo import load_model_config

DATA = resources.files("fabless") / "data" / "calibration"
GEMM_FILES = ("h100_gemm.csv", "h200_gemm.csv", "mi300x_gemm.csv", "mi325x_gemm.csv")
GEMM_COLUMNS = ["m", "n", "k", "dtype", "measured_tflops", "source", "date"]
LATENCY_COLUMNS = ["chip", "model", "weights_dtype", "phase", "batch", "seq_or_context", "chips",
                   "measured_s", "framework", "source", "date"]


def read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (DATA / name).open() as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def gemm_rows() -> list[tuple[str, dict[str, str]]]:
    return [(name.removesuffix("_gemm.csv"), row) for name in GEMM_FILES for row in read(name)[1]]


def latency_rows() -> list[dict[str, str]]:
    return read("llm_latency.csv")[1]


def row_id(chip: str, row: dict[str, str]) -> str:
    keys = ("m", "n", "k", "dtype") if "m" in row else ("model", "phase", "batch", "seq_or_context")
    return f"{chip}-" + "-".join(row[key] for key in keys)


GEMM_PARAMS = [pytest.param(chip, row, id=row_id(chip, row)) for chip, row in gemm_rows()]
LATENCY_PARAMS = [pytest.param(row, id=row_id(row["chip"], row)) for row in latency_rows()]


def test_files_have_the_documented_columns():
    for name in GEMM_FILES:
        assert read(name)[0] == GEMM_COLUMNS
    assert read("llm_latency.csv")[0] == LATENCY_COLUMNS
    assert (DATA / "README.md").is_file()


def test_there_is_enough_data_to_fit():
    gemms = gemm_rows()
    h100 = [row for chip, row in gemms if chip == "h100"]
    assert len(h100) >= 15
    assert any(int(row["m"]) <= 64 for row in h100), "no decode-shaped GEMM"
    assert any(int(row["m"]) >= 512 for row in h100), "no prefill-shaped GEMM"
    assert {row["phase"] for row in latency_rows()} == {"prefill", "decode"}
    assert len(latency_rows()) >= 10


@pytest.mark.parametrize("row", [p.values[-1] for p in GEMM_PARAMS + LATENCY_PARAMS])
def test_every_row_names_a_source_and_a_date(row: dict[str, str]):
    assert len(row["source"]) > 20
    assert re.fullmatch(r"20\d\d(-\d\d(-\d\d)?)?", row["date"])


@pytest.mark.parametrize(("chip_name", "row"), GEMM_PARAMS)
def test_no_gemm_beats_the_roofline(chip_name: str, row: dict[str, str]):
    chip = load_chip(chip_name)
    m, n, k = int(row["m"]), int(row["n"]), int(row["k"])
    seconds = 2 * m * n * k / (float(row["measured_tflops"]) * 1e12)
    assert seconds >= 2 * m * n * k / chip.peak_matrix_ops_per_s(row["dtype"])
    # The weight matrix must come from HBM at least once; shapes with weights that fit in L2
    # can be re-read from cache across benchmark iterations, so only larger ones are checked.
    weight_bytes = n * k * DTYPE_BYTES[row["dtype"]]
    if weight_bytes > 2 * chip.shared_sram_mib * 2**20:
        assert seconds >= weight_bytes / chip.hbm.bytes_per_s


@pytest.mark.parametrize("row", LATENCY_PARAMS)
def test_no_latency_beats_the_roofline(row: dict[str, str]):
    chip = load_chip(row["chip"])
    config = load_model_config(row["model"])
    chips, batch, length = int(row["chips"]), int(row["batch"]), int(row["seq_or_context"])
    seconds = float(row["measured_s"])
    assert row["phase"] in ("prefill", "decode")
    if row["phase"] == "decode":
        # Every decode step streams all weights from the HBM of the chips that hold them.
        weight_bytes = config.params * DTYPE_BYTES[row["weights_dtype"]]
        assert seconds >= weight_bytes / (chips * chip.hbm.bytes_per_s)
    else:
        flops = 2 * config.params * batch * length
        assert seconds >= flops / (chips * chip.peak_matrix_ops_per_s(row["weights_dtype"]))


ATTENTION_COLUMNS = ["phase", "batch", "q_len", "kv_len", "heads", "kv_heads", "head_dim", "dtype", "time_s",
                     "source", "date"]


def test_h100_attention_rows_are_sourced_and_no_decode_beats_hbm():
    columns, rows = read("h100_attention.csv")
    assert columns == ATTENTION_COLUMNS and len(rows) == 13
    h100 = load_chip("h100")
    for row in rows:
        assert len(row["source"]) > 20 and re.fullmatch(r"20\d\d-\d\d-\d\d", row["date"])
        kv_bytes = 2 * int(row["batch"]) * int(row["kv_len"]) * int(row["kv_heads"]) * int(row["head_dim"]) * 2
        if row["phase"] == "decode" and kv_bytes > 2 * h100.shared_sram_mib * 2**20:
            assert float(row["time_s"]) >= kv_bytes / h100.hbm.bytes_per_s


def test_the_measured_h100_file_is_kept_with_its_provenance():
    import json

    raw = json.loads((DATA / "h100_kernels_2026-11-23.json").read_text())
    assert raw["device"] == "NVIDIA H100 80GB HBM3" and "CUDA graph" in raw["what"]
    measured = [row for chip, row in gemm_rows() if chip == "h100" and row["date"] == "2026-11-23"]
    assert len(measured) == len(raw["gemm"]) + len(raw["gemm_fp8"]) == 62
