"""Trace files: CSV and JSONL rows of arrival_s, input_tokens, output_tokens."""

import subprocess
import sys

import pytest

from fabless.errors import FablessError
from fabless.serving import Request, load_trace


def test_csv_trace_is_read_and_sorted(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("arrival_s,input_tokens,output_tokens\n0.5,100,10\n0.25,200,20\n")
    assert load_trace(path) == [Request(0.25, 200, 20), Request(0.5, 100, 10)]


def test_jsonl_trace_is_read(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"arrival_s": 0, "input_tokens": 8, "output_tokens": 2}\n\n'
                    '{"arrival_s": 1.5, "input_tokens": 9, "output_tokens": 3}\n')
    assert load_trace(path) == [Request(0.0, 8, 2), Request(1.5, 9, 3)]


def test_malformed_csv_row_names_the_file_and_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("arrival_s,input_tokens,output_tokens\n0.1,100,10\n0.2,lots,10\n")
    with pytest.raises(FablessError) as error:
        load_trace(path)
    message = str(error.value)
    assert f"trace file {path} line 3:" in message and "'lots'" in message and "\n" not in message


def test_malformed_jsonl_rows_name_the_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"arrival_s": 0, "input_tokens": 8, "output_tokens": 2}\n{"arrival_s": 1\n')
    with pytest.raises(FablessError, match=r"line 2: not valid JSON"):
        load_trace(path)
    path.write_text('{"arrival_s": 0, "input_tokens": 8}\n')
    with pytest.raises(FablessError, match="line 1: missing output_tokens"):
        load_trace(path)
    path.write_text('{"arrival_s": -1, "input_tokens": 8, "output_tokens": 2}\n')
    with pytest.raises(FablessError, match="line 1: arrival_s must be >= 0"):
        load_trace(path)


def test_fractional_token_counts_and_missing_columns_are_errors(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("arrival_s,input_tokens,output_tokens\n0.1,10.5,10\n")
    with pytest.raises(FablessError, match="line 2"):
        load_trace(path)
    path.write_text("arrival_s,input_tokens\n0.1,10\n")
    with pytest.raises(FablessError, match="header lacks output_tokens"):
        load_trace(path)


def test_cli_reports_a_bad_trace_row_in_one_line_with_exit_code_2(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("arrival_s,input_tokens,output_tokens\n0.1,100,10\nsoon,100,10\n")
    done = subprocess.run(
        [sys.executable, "-c", "from fabless.cli.app import main; main()", "serve", "--model", "llama-3-8b",
         "--chip", "h100", "--chips", "1", "--trace", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "line 3" in done.stderr and done.stdout == ""
