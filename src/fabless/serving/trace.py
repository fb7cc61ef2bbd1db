"""Read a request trace: CSV or JSONL rows of arrival_s, input_tokens, output_tokens."""

import csv
import json
import math
from pathlib import Path
from typing import Any

from fabless.errors import FablessError
from fabless.serving.requests import Request

FIELDS = ("arrival_s", "input_tokens", "output_tokens")


def load_trace(path: str | Path) -> list[Request]:
    """Requests sorted by arrival; a bad row raises one error naming the file and the row."""
    file = Path(path)
    if not file.is_file():
        raise FablessError(f"trace file {file} does not exist: pass a .csv or .jsonl file")
    if file.suffix.lower() == ".csv":
        rows = _csv_rows(file)
    elif file.suffix.lower() in (".jsonl", ".ndjson"):
        rows = _jsonl_rows(file)
    else:
        raise FablessError(f"trace file {file}: unknown format {file.suffix!r}; use .csv or .jsonl")
    requests = [_request(file, where, row) for where, row in rows]
    if not requests:
        raise FablessError(f"trace file {file} has no requests: add rows of {', '.join(FIELDS)}")
    return sorted(requests, key=lambda r: r.arrival_s)


def _csv_rows(file: Path) -> list[tuple[str, dict[str, Any]]]:
    with file.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [f for f in FIELDS if f not in (reader.fieldnames or [])]
        if missing:
            raise FablessError(f"trace file {file}: header lacks {', '.join(missing)}; it needs {', '.join(FIELDS)}")
        # Line numbers count the header as line 1, as an editor shows them.
        return [(f"line {i}", row) for i, row in enumerate(reader, start=2)]


def _jsonl_rows(file: Path) -> list[tuple[str, dict[str, Any]]]:
    rows = []
    for i, line in enumerate(file.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise FablessError(f"trace file {file} line {i}: not valid JSON ({error.msg})") from None
        if not isinstance(row, dict):
            raise FablessError(f"trace file {file} line {i}: expected an object with {', '.join(FIELDS)}")
        rows.append((f"line {i}", row))
    return rows


def _request(file: Path, where: str, row: dict[str, Any]) -> Request:
    try:
        arrival = float(row["arrival_s"])
        inputs = _whole(row["input_tokens"])
        outputs = _whole(row["output_tokens"])
    except KeyError as missing:
        raise FablessError(f"trace file {file} {where}: missing {missing.args[0]}") from None
    except (TypeError, ValueError):
        shown = {f: row.get(f) for f in FIELDS}
        raise FablessError(
            f"trace file {file} {where}: {shown} is not a number of seconds and two whole token counts"
        ) from None
    if not math.isfinite(arrival) or arrival < 0 or inputs < 1 or outputs < 1:
        raise FablessError(
            f"trace file {file} {where}: arrival_s must be >= 0 and token counts >= 1 "
            f"(got {arrival}, {inputs}, {outputs})"
        )
    return Request(arrival, inputs, outputs)


def _whole(value: Any) -> int:
    number = float(value)
    if not number.is_integer():
        raise ValueError(value)
    return int(number)
