"""A chip description as the TOML text `fabless.chip.parse_chip` reads back to the same spec."""

import json
from typing import Any

from fabless.chip import ChipSpec

_TABLES = ("core.matrix", "core.vector", "core.sram", "hbm", "links")


def chip_toml(chip: ChipSpec) -> str:
    """The description of `chip`, top-level fields first, then its tables and `[sources]`."""
    raw = chip.model_dump(exclude_none=True)
    lines = [f"{key} = {_value(value)}" for key, value in raw.items()
             if key not in ("core", "hbm", "links", "sources", "notes")]
    lines.append(f"notes = {_value(raw.get('notes', ''))}")
    for table in _TABLES:
        node: Any = raw
        for part in table.split("."):
            node = node[part]
        lines += ["", f"[{table}]"] + [f"{key} = {_value(value)}" for key, value in node.items()]
    lines += ["", "[sources]"] + [f"{json.dumps(key)} = {_value(text)}" for key, text in raw["sources"].items()]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # A JSON string is a TOML basic string: the same escapes, all on one line.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_value(item)}" for key, item in value.items()) + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")
