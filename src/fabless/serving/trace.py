"""Read a request trace: CSV or JSONL rows of arrival_s, input_tokens, output_tokens.

The file is read whole, at most `TRACE_LIMIT_BYTES`, as UTF-8. Every row becomes a checked
`Request`, and a bad row is one error naming the file, the line, the column and the value:
"t.csv: line 12, input_tokens: must be a whole number from 1 to 1,048,576 (got 'abc')".
Token counts may be written as integral floats (100.0), as pandas writes them. JSONL values
must be JSON numbers ("0.5" is a string, refused); a CSV row may not hold more cells than
the header names.

Rows need not be in arrival order: traces merged from several logs interleave, and the
simulator serves by arrival time anyway, so `load_trace` returns the requests sorted.
"""

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fabless.errors import FablessError
from fabless.files import MIB, parse_json, read_text
from fabless.serving.requests import MAX_REQUESTS, Request

FIELDS = ("arrival_s", "input_tokens", "output_tokens")
TRACE_LIMIT_BYTES = 64 * MIB
"""A million rows of about 40 bytes fit with room to spare."""

Rows = Iterator[tuple[int, dict[str, Any]]]


def load_trace(path: str | Path) -> list[Request]:
    """Requests sorted by arrival; a bad row raises one error naming the file, line and column."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise FablessError(f"trace file {file}: unknown format {file.suffix!r}; use .csv or .jsonl")
    text = read_text(file, "a request trace (.csv or .jsonl)", TRACE_LIMIT_BYTES)
    rows = _csv_rows(text, file) if suffix == ".csv" else _jsonl_rows(text, file)
    requests: list[Request] = []
    for line, row in rows:
        if len(requests) == MAX_REQUESTS:
            raise FablessError(f"{file}: more than {MAX_REQUESTS:,} requests; split or sample the trace")
        requests.append(_request(file, line, row))
    if not requests:
        raise FablessError(f"{file}: no requests; add rows of {', '.join(FIELDS)}")
    return sorted(requests, key=lambda r: r.arrival_s)


def _csv_rows(text: str, file: Path) -> Rows:
    """Rows by line number as an editor shows it (the header is line 1)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
        missing = [f for f in FIELDS if f not in header]
        if missing:
            raise FablessError(f"{file}: header lacks {', '.join(missing)}; it needs {', '.join(FIELDS)}")
        columns = {f: header.index(f) for f in FIELDS}
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                raise FablessError(
                    f"{file}: line {reader.line_num}: {len(cells)} cells but the header names {len(header)} columns"
                )
            yield reader.line_num, {f: _cell(cells[i]) for f, i in columns.items() if i < len(cells)}
    except csv.Error as error:
        # e.g. a field past the csv module's limit of 131,072 characters
        raise FablessError(f"{file}: line {reader.line_num}: not valid CSV ({error})") from None


def _jsonl_rows(text: str, file: Path) -> Rows:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        row = parse_json(line, f"{file}: line {number}")
        if not isinstance(row, dict):
            raise FablessError(f"{file}: line {number}: expected an object with {', '.join(FIELDS)}")
        yield number, row


def _request(file: Path, line: int, row: dict[str, Any]) -> Request:
    where = f"{file}: line {line}"
    for name in FIELDS:
        if name not in row:
            raise FablessError(f"{where}, {name}: missing; every row needs {', '.join(FIELDS)}")
    try:
        return Request(row["arrival_s"], _count(row["input_tokens"]), _count(row["output_tokens"]))
    except FablessError as error:
        raise FablessError(f"{where}, {error}") from None


def _cell(text: str) -> float | str:
    """A CSV cell as a float where it reads as one; anything else is left for `Request` to refuse."""
    try:
        return float(text)
    except ValueError:
        return text.strip()


def _count(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
