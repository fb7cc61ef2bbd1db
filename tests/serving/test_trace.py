"""Trace files: CSV and JSONL rows of arrival_s, input_tokens, output_tokens."""

import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.errors import FablessError
from fabless.serving import Request, load_trace, trace


def test_csv_trace_is_read_and_sorted(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("arrival_s,input_tokens,output_tokens\n0.5,100,10\n0.25,200,20\n")
    assert load_trace(path) == [Request(0.25, 200, 20), Request(0.5, 100, 10)]


def test_jsonl_trace_is_read(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"arrival_s": 0, "input_tokens": 8, "output_tokens": 2}\n\n'
                    '{"arrival_s": 1.5, "input_tokens": 9, "output_tokens": 3}\n')
    assert load_trace(path) == [Request(0.0, 8, 2), Request(1.5, 9, 3)]


def test_malformed_csv_row_names_the_file_line_column_and_value(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("arrival_s,input_tokens,output_tokens\n0.1,100,10\n0.2,lots,10\n")
    with pytest.raises(FablessError) as error:
        load_trace(path)
    assert str(error.value) == (
        f"{path}: line 3, input_tokens: must be a whole number from 1 to 1,048,576 (got 'lots')"
    )


def test_malformed_jsonl_rows_name_the_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"arrival_s": 0, "input_tokens": 8, "output_tokens": 2}\n{"arrival_s": 1\n')
    with pytest.raises(FablessError, match=r"t.jsonl: line 2: not valid JSON"):
        load_trace(path)
    path.write_text('{"arrival_s": 0, "input_tokens": 8}\n')
    with pytest.raises(FablessError, match="line 1, output_tokens: missing; every row needs arrival_s"):
        load_trace(path)
    path.write_text('{"arrival_s": -1, "input_tokens": 8, "output_tokens": 2}\n')
    with pytest.raises(FablessError, match=r"line 1, arrival_s: must be a finite number from 0 to [0-9,]+ \(got -1"):
        load_trace(path)
    path.write_text('[1, 2, 3]\n')
    with pytest.raises(FablessError, match="line 1: expected an object with arrival_s"):
        load_trace(path)


def test_fractional_token_counts_and_missing_columns_are_errors(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("arrival_s,input_tokens,output_tokens\n0.1,10.5,10\n")
    with pytest.raises(FablessError, match=r"line 2, input_tokens: must be a whole number .* \(got 10.5\)"):
        load_trace(path)
    path.write_text("arrival_s,input_tokens\n0.1,10\n")
    with pytest.raises(FablessError, match="header lacks output_tokens"):
        load_trace(path)
    path.write_text("arrival_s,input_tokens,output_tokens\n0.1,10\n")
    with pytest.raises(FablessError, match="line 2, output_tokens: missing"):
        load_trace(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("nan,10,10", r"arrival_s: must be a finite number from 0 to 100,000,000 \(got nan\)"),
        ("inf,10,10", r"arrival_s: .* \(got inf\)"),
        ("-0.5,10,10", r"arrival_s: .* \(got -0.5\)"),
        ("1e9,10,10", r"arrival_s: .* \(got 1000000000.0\)"),
        ("0,0,10", r"input_tokens: must be a whole number from 1 to 1,048,576 \(got 0\)"),
        ("0,-3,10", r"input_tokens: .* \(got -3\)"),
        ("0,10,2000000", r"output_tokens: .* \(got 2000000\)"),
        ("0,10,1e400", r"output_tokens: .* \(got inf\)"),
        ("0,10," + "9" * 5000, r"output_tokens: .* \(got inf\)"),
        ("0,10,", r"output_tokens: .* \(got ''\)"),
    ],
)
def test_impossible_values_name_the_column_and_value(tmp_path, row, message):
    path = tmp_path / "t.csv"
    path.write_text(f"arrival_s,input_tokens,output_tokens\n{row}\n")
    with pytest.raises(FablessError, match=f"^{path}: line 2, {message}$"):
        load_trace(path)


def test_json_types_other_than_numbers_are_refused(tmp_path):
    path = tmp_path / "t.jsonl"
    for value, shown in (("true", "True"), ("null", "None"), ('"8"', "'8'"), ("[8]", r"\[8\]")):
        path.write_text(f'{{"arrival_s": 0, "input_tokens": {value}, "output_tokens": 2}}\n')
        with pytest.raises(FablessError, match=rf"line 1, input_tokens: must be a whole number .* \(got {shown}\)"):
            load_trace(path)


def test_csv_field_past_the_csv_modules_limit_is_a_one_line_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('arrival_s,input_tokens,output_tokens\n0,"' + "1" * 200_000 + '",1\n')
    with pytest.raises(FablessError, match=r"t.csv: line 2: not valid CSV \(field larger than field limit"):
        load_trace(path)


def test_undecodable_bytes_and_nul_bytes_are_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"arrival_s,input_tokens,output_tokens\n0,\xff\xfe,1\n")
    with pytest.raises(FablessError, match=r"t.csv: not UTF-8 text \(byte 39 is 0xff\)"):
        load_trace(path)
    path.write_bytes(b"arrival_s,input_tokens,output_tokens\n0,1\x00,1\n")
    with pytest.raises(FablessError, match="not a text file"):
        load_trace(path)


def test_a_trace_past_the_size_or_row_limit_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    path.write_text("arrival_s,input_tokens,output_tokens\n" + "0,1,1\n" * 5)
    monkeypatch.setattr(trace, "MAX_REQUESTS", 4)
    with pytest.raises(FablessError, match=r"t.csv: more than 4 requests; split or sample the trace"):
        load_trace(path)
    monkeypatch.setattr(trace, "TRACE_LIMIT_BYTES", 16)
    with pytest.raises(FablessError, match=r"t.csv is larger than 16 bytes, too large for a request trace"):
        load_trace(path)


def test_missing_files_folders_and_unknown_suffixes_are_named(tmp_path):
    with pytest.raises(FablessError, match=r"nope.csv does not exist: pass the path of a request trace"):
        load_trace(tmp_path / "nope.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(FablessError, match=r"dir.csv is a directory"):
        load_trace(tmp_path / "dir.csv")
    with pytest.raises(FablessError, match=r"unknown format '.txt'; use .csv or .jsonl"):
        load_trace(tmp_path / "t.txt")


def test_empty_traces_and_headers_with_spaces(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("")
    with pytest.raises(FablessError, match="header lacks arrival_s"):
        load_trace(path)
    path.write_text(" arrival_s , input_tokens , output_tokens, note\n\n")
    with pytest.raises(FablessError, match="no requests"):
        load_trace(path)
    path.write_text(" arrival_s , input_tokens , output_tokens, note\n1, 5 ,6.0,hi\n")
    assert load_trace(path) == [Request(1.0, 5, 6)]


VALID_TRACE = b"arrival_s,input_tokens,output_tokens\n0.5,100,10\n0.25,200,20\n3,4,5\n"


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".jsonl"]))
def test_random_bytes_give_requests_or_a_one_line_error(tmp_path_factory, data, suffix):
    _load_or_fail(tmp_path_factory.mktemp("t") / f"t{suffix}", data)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_mutated_traces_give_requests_or_a_one_line_error(tmp_path_factory, data):
    raw = bytearray(VALID_TRACE)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        if action == "flip":
            raw[at] = data.draw(st.integers(0, 255))
        elif action == "insert":
            raw[at:at] = data.draw(st.sampled_from([b",", b"\n", b'"', b"nan", b"-", b"1e999", b"9" * 50, b"\xff"]))
        else:
            del raw[at]
    _load_or_fail(tmp_path_factory.mktemp("t") / "t.csv", bytes(raw))


def _load_or_fail(path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        requests = load_trace(path)
    except FablessError as error:
        assert "\n" not in str(error) and str(path) in str(error)
        return
    assert requests == sorted(requests, key=lambda r: r.arrival_s)
    assert all(math.isfinite(r.arrival_s) and r.arrival_s >= 0 and r.input_tokens >= 1 for r in requests)


def test_cli_reports_a_bad_trace_row_in_one_line_with_exit_code_2(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("arrival_s,input_tokens,output_tokens\n0.1,100,10\nsoon,100,10\n")
    done = subprocess.run(
        [sys.executable, "-c", "from fabless.cli.app import main; main()", "serve", "--model", "llama-3-8b",
         "--chip", "h100", "--num-chips", "1", "--trace", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "line 3" in done.stderr and done.stdout == ""


def test_jsonl_numbers_written_as_strings_are_refused(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"arrival_s": "0.5", "input_tokens": 10, "output_tokens": 5}\n')
    with pytest.raises(FablessError, match=r"t.jsonl: line 1, arrival_s: must be a finite number .*\(got '0.5'\)"):
        load_trace(path)


def test_a_csv_row_with_more_cells_than_the_header_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("arrival_s,input_tokens,output_tokens\n0.1,10,5\n1,2,3,4,5\n")
    with pytest.raises(FablessError, match=r"t.csv: line 3: 5 cells but the header names 3 columns"):
        load_trace(path)
