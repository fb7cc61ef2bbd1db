"""Reading what a user gives: never trust a file's size, encoding, nesting or numbers.

Every reader returns data or raises a `FablessError` whose one line names the file, what
is wrong and what to do; nothing here lets an `OSError`, `UnicodeDecodeError`,
`RecursionError` or `ValueError` through.
"""

import json
import math
import stat
import tomllib
from pathlib import Path
from typing import Any

from fabless.checks import clip
from fabless.errors import FablessError

KIB = 2**10
MIB = 2**20


def read_bytes(path: str | Path, what: str, limit_bytes: int) -> bytes:
    """The bytes of `path`, at most `limit_bytes` of them; `what` names the file in errors ("a chip description")."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FablessError(f"{path} does not exist: pass the path of {what}") from None
    except OSError as error:
        raise FablessError(f"cannot read {path}: {error.strerror or error}") from None
    if stat.S_ISDIR(mode):
        raise FablessError(f"{path} is a directory: pass the path of {what}, not a folder")
    try:
        with path.open("rb") as stream:
            data = stream.read(limit_bytes + 1)
    except OSError as error:
        raise FablessError(f"cannot read {path}: {error.strerror or error}") from None
    if len(data) > limit_bytes:
        raise FablessError(f"{path} is larger than {_size(limit_bytes)}, too large for {what}")
    return data


def decode_text(data: bytes, origin: str) -> str:
    """UTF-8 text (a byte-order mark is dropped); a binary file is named as such."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FablessError(f"{origin}: not UTF-8 text (byte {error.start} is {data[error.start]:#04x})") from None
    if "\x00" in text:
        raise FablessError(f"{origin}: not a text file (it holds NUL bytes)")
    return text


def read_text(path: str | Path, what: str, limit_bytes: int) -> str:
    return decode_text(read_bytes(path, what, limit_bytes), str(path))


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(text: str, origin: str) -> Any:
    """Standard JSON: no NaN or Infinity, no numbers past 4,300 digits, bounded nesting."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise FablessError(f"{origin}: not valid JSON ({error.msg} at {where})") from None
    except RecursionError:
        raise FablessError(f"{origin}: nested too deeply to be a real file") from None
    except ValueError as error:
        raise FablessError(f"{origin}: not valid JSON ({_short(error)})") from None


def parse_toml(text: str, origin: str) -> dict[str, Any]:
    """TOML, with the same limits as `parse_json`; nan and inf stay floats for the schema to refuse."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FablessError(f"{origin}: not valid TOML ({error})") from None
    except RecursionError:
        raise FablessError(f"{origin}: nested too deeply to be a real file") from None
    except ValueError as error:
        raise FablessError(f"{origin}: not valid TOML ({_short(error)})") from None


def read_json(path: str | Path, what: str, limit_bytes: int) -> Any:
    return parse_json(read_text(path, what, limit_bytes), str(path))


def read_toml(path: str | Path, what: str, limit_bytes: int) -> dict[str, Any]:
    return parse_toml(read_text(path, what, limit_bytes), str(path))


def _short(error: Exception) -> str:
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    return clip(message, 120)


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", MIB), ("KiB", KIB)):
        if n >= scale:
            value = n / scale
            return f"{value:g} {unit}" if math.isclose(value, round(value)) else f"{value:.1f} {unit}"
    return f"{n} bytes"
