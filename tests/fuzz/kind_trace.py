"""Serving traces (CSV and JSONL rows of arrival_s, input_tokens, output_tokens), loaded by `load_trace`."""

import csv
import io
import random
from pathlib import Path
from typing import Any

from fabless.serving import Request, load_trace

from . import hostile
from .calls import call_library
from .cases import Case, Expect, Verdict
from .emit import Raw, json_text
from .hostile import Slot, replacement
from .kinds import Kind

FIELDS = ("arrival_s", "input_tokens", "output_tokens")
Row = dict[str, Any]


def seed_rows(rng: random.Random) -> list[Row]:
    """A short trace such as `fabless serve --trace` reads: sorted arrivals, plausible lengths."""
    arrival = 0.0
    rows = []
    for _ in range(rng.randint(1, 12)):
        arrival += round(rng.expovariate(2.0), 3)
        rows.append({"arrival_s": arrival, "input_tokens": rng.randint(1, 4096), "output_tokens": rng.randint(1, 512)})
    return rows


def csv_text(rows: list[Row], header: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(row[f]) if f in row else "" for f in header])
    return out.getvalue()


def _cell(value: Any) -> str:
    return value.text if isinstance(value, Raw) else json_text(value) if isinstance(value, list | dict) else str(value)


def jsonl_text(rows: list[Any]) -> str:
    return "".join(json_text(row) + "\n" for row in rows)


def generate(rng: random.Random, index: int) -> Case:
    file = rng.choice(("trace.csv", "trace.jsonl", "trace.ndjson"))
    label, data, expect = _mutate(rng, seed_rows(rng), file.endswith(".csv"))
    return Case(
        kind="trace", index=index, mutation=f"{file}: {label}", expect=expect, files={file: data}, names=(file,)
    )


def _mutate(rng: random.Random, rows: list[Row], is_csv: bool) -> tuple[str, bytes, Expect]:
    header = list(FIELDS)
    emit = (lambda r: csv_text(r, header)) if is_csv else jsonl_text
    operation = rng.choices(
        ("value", "drop", "extra", "shuffle", "blank", "crlf", "empty", "not-a-row", "bytes"),
        weights=(20, 3, 1, 1, 1, 1, 1, 1, 5),
    )[0]
    at = rng.randrange(len(rows))
    if operation == "value":
        field = rng.choice(FIELDS)
        slot = Slot(zero_ok=field == "arrival_s", integer=field != "arrival_s")
        chosen = replacement(rng, rows[at][field], slot)
        rows[at][field] = chosen.value
        # A CSV cell is text: a quoted number is the same number there.
        expect = Expect.VALID if is_csv and chosen.label == "the number as a string" else chosen.expect
        return f"row {at} {field} = {chosen.label}", emit(rows).encode(), expect
    if operation == "drop":
        field = rng.choice(FIELDS)
        if is_csv and rng.random() < 0.5:
            header.remove(field)
            return f"column {field} removed", emit(rows).encode(), Expect.INVALID
        del rows[at][field]
        return f"row {at} lacks {field}", emit(rows).encode(), Expect.INVALID
    if operation == "extra":
        header.append("priority")
        for row in rows:
            row["priority"] = rng.randint(0, 3)
        return "an extra column", emit(rows).encode(), Expect.VALID
    if operation == "shuffle":
        rng.shuffle(rows)
        return "rows out of arrival order", emit(rows).encode(), Expect.VALID
    if operation == "blank":
        text = emit(rows)
        return "blank lines", text.replace("\n", "\n\n", rng.randint(1, 3)).encode(), Expect.VALID
    if operation == "crlf":
        return "CRLF line ends", emit(rows).replace("\n", "\r\n").encode(), Expect.VALID
    if operation == "empty":
        text = csv_text([], header) if is_csv and rng.random() < 0.5 else ""
        return "no rows", text.encode(), Expect.INVALID
    if operation == "not-a-row":
        if is_csv:
            return "a row of too many cells", (emit(rows) + "1,2,3,4,5\n").encode(), Expect.INVALID
        junk: list[Any] = [*rows]
        junk.insert(at, rng.choice(([1, 2, 3], 42, "text", None, hostile.deep_list())))
        return f"line {at + 1} is not an object", jsonl_text(junk).encode(), Expect.INVALID
    return hostile.mutate_bytes(rng, emit(rows).encode(), non_utf8=Expect.INVALID)


def execute(case: Case, folder: Path) -> Verdict:
    (file,) = case.files
    return call_library(lambda: load_trace(file), _use)


def _use(requests: list[Request]) -> str | None:
    for request in requests:
        if not (0 <= request.arrival_s < float("inf") and request.input_tokens >= 1 and request.output_tokens >= 1):
            return f"loaded an impossible request {request}"
    if [r.arrival_s for r in requests] != sorted(r.arrival_s for r in requests):
        return "requests are not in arrival order"
    return None


KIND = Kind("trace", "serving trace CSV / JSONL (load_trace)", generate, execute)
