"""The one error type that user-facing code raises for bad input.

The CLI turns a `FablessError` into a single line on stderr and exit code 2, so its
message must name the problem and the fix on its own.
"""

import difflib
from collections.abc import Iterable


class FablessError(Exception):
    """Bad input: an unknown name, an impossible spec, a model that does not fit."""


def unknown_name_error(kind: str, name: str, known: Iterable[str]) -> FablessError:
    """An error for an unknown `kind` called `name` that suggests the nearest known names."""
    known = sorted(known)
    near = difflib.get_close_matches(name.lower(), known, n=3, cutoff=0.4)
    hint = f"did you mean {', '.join(near)}?" if near else f"known: {', '.join(known)}"
    return FablessError(f"unknown {kind} {name!r}: {hint}")
