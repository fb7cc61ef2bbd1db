"""`fabless rtl generate|synth|sim` through the real entry point."""

import json
import subprocess
import sys
import time
from pathlib import Path

from fabless.isa import Dtype, MxuLoadWeights, MxuMatmul, MxuStore, Program, disassemble


def fabless(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from fabless.cli.app import main; main()", *args],
        capture_output=True, text=True, timeout=timeout,
    )


def test_generate_writes_fab1_verilog_with_one_module_per_block_shape_in_seconds(tmp_path: Path):
    started = time.perf_counter()
    result = fabless("rtl", "generate", "--chip", "fab1", "--out", str(tmp_path / "rtl"))
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (tmp_path / "rtl").iterdir()] == ["fabless_core.v"]
    text = (tmp_path / "rtl" / "fabless_core.v").read_text()
    assert "module fabless_pe(" in text and "module fabless_pe_block_128x128(" in text
    # 128x128 halves down to 1x2 in 14 block shapes, each a module with two instances.
    assert text.count("\nmodule fabless_pe_block_") == 14
    assert "DEPTH(32'd4096)" in text  # an accumulator bank: 2048 KiB / (128 x 4 B)
    assert elapsed < 90
    # fab1 asks for two int8 MACs per PE per cycle; the generated PE does one, and says so.
    assert "fab1 declares 2 int8 MACs per PE per cycle" in " ".join(result.stdout.split())


def test_generate_with_an_unknown_chip_fails_cleanly_and_writes_nothing(tmp_path: Path):
    result = fabless("rtl", "generate", "--chip", "fab9", "--out", str(tmp_path / "rtl"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown chip 'fab9'")
    assert not (tmp_path / "rtl").exists()


def test_synth_reports_cells_flops_and_the_per_pe_breakdown():
    result = fabless("rtl", "synth", "--chip", "small-test", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["rows"], report["cols"], report["pes"]) == (8, 8, 64)
    # A PE registers its weight, its activation and its int32 partial sum.
    assert report["pe_flops"] == 8 + 8 + 32
    assert report["flops"] >= 64 * report["pe_flops"]
    assert sum(m["cells"] * m["instances"] for m in report["modules"]) == report["cells"]
    assert 0.5 < report["array_share"] < 1
    assert report["sram_bits"]["accumulator"] == 4 * 1024 * 8


def test_sim_runs_an_assembler_program_and_checks_it_against_funcsim(tmp_path: Path):
    program = Program({"mxu0": (
        MxuLoadWeights(w_addr=5, w_stride=9, k=8, n=8, dtype=Dtype.INT8),
        MxuMatmul(x_addr=301, x_stride=11, m=6, k=8, x_dtype=Dtype.INT8, acc_row=3),
        MxuStore(acc_row=3, m=6, n=8, acc_dtype=Dtype.INT32, out_addr=1001, out_stride=40,
                 out_dtype=Dtype.INT8),
    )})
    path = tmp_path / "prog.s"
    path.write_text(disassemble(program))
    result = fabless("rtl", "sim", "--chip", "small-test", "--program", str(path), "--engine", "pysim", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["bit_exact"] and record["instructions"] == 3
    # ldw 8 + matmul 6 + 8 + 8 + store 6 x 1 chunk, plus at most 5 per step and 1.
    assert record["analytical_cycles"] == 36
    assert 36 <= record["rtl_cycles"] <= 36 + 3 * 5 + 1


def test_sim_with_a_corrupted_pe_reports_the_mismatch_and_exits_1():
    result = fabless("rtl", "sim", "--chip", "small-test", "--engine", "pysim", "--fault", "2,3,0",
                     "--random", "6", "--seed", "4")
    assert result.returncode == 1
    assert "MISMATCH against fabless.funcsim" in result.stdout


def test_sim_rejects_what_the_core_does_not_run_with_the_reason(tmp_path: Path):
    path = tmp_path / "dma.s"
    path.write_text(".stream dma0\ndma.load hbm_addr=0 sram_addr=0 rows=1 row_bytes=4 hbm_stride=4 sram_stride=4\n")
    result = fabless("rtl", "sim", "--chip", "small-test", "--program", str(path), "--engine", "pysim")
    assert result.returncode == 2
    assert result.stderr.startswith("error: the RTL core runs one mxu0 stream, the program has dma0")
    bad = fabless("rtl", "sim", "--chip", "small-test", "--fault", "2,x", "--engine", "pysim")
    assert bad.returncode == 2 and "--fault takes row,col,bit" in bad.stderr
