"""Write mutated trees back as TOML or JSON text, including values no library would write.

`Raw` carries text that goes out verbatim: a 5,000-digit integer (Python refuses to turn one
into a string), 50,000 levels of nesting (a recursive writer would overflow), a NaN literal.
"""

import json
import math
import re
from dataclasses import dataclass
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Raw:
    text: str


def toml_text(tree: dict[str, Any]) -> str:
    lines: list[str] = []
    _toml_table(tree, (), lines)
    return "\n".join(lines) + "\n"


def _toml_table(table: dict[str, Any], path: tuple[str, ...], lines: list[str]) -> None:
    if path:
        lines.append(f"[{'.'.join(_toml_key(part) for part in path)}]")
    for key, value in table.items():
        if not isinstance(value, dict):
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in table.items():
        if isinstance(value, dict):
            _toml_table(value, (*path, key), lines)


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if value is None:
        return "null"  # TOML has no null: the file becomes one a parser must refuse
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_string(text: str) -> str:
    # TOML basic strings allow no raw control characters or DEL; escape them as \uXXXX.
    escaped = (
        f"\\{ch}" if ch in '"\\' else f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch for ch in text
    )
    return '"' + "".join(escaped) + '"'


def json_text(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(json_text(item) for item in value) + "]"
    return json.dumps(value)  # NaN and Infinity come out as the non-standard literals, on purpose
