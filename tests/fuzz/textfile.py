"""Mutations of a structured text file (a chip TOML, a config.json): through its tree or its bytes."""

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import hostile
from .cases import Case, Expect
from .emit import json_text
from .tree import SlotOf, mutate_tree

Emit = Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class FileMutation:
    label: str
    data: bytes
    expect: Expect


def mutate_text_file(
    rng: random.Random, tree: dict[str, Any], emit: Emit, slot_of: SlotOf, duplicate: Expect
) -> FileMutation:
    """A mutated file of `tree`; `duplicate` is what a repeated key must do in this format."""
    text = emit(tree).encode()
    operation = rng.choices(
        ("tree", "same", "duplicate", "truncate", "flip", "random", "non-utf8", "bom"),
        weights=(24, 1, 2, 2, 2, 1, 1, 1),
    )[0]
    if operation == "tree":
        changed = mutate_tree(rng, tree, slot_of)
        return FileMutation(changed.label, emit(changed.tree).encode(), changed.expect)
    if operation == "same":
        return FileMutation("the seed as written back", text, Expect.VALID)
    if operation == "duplicate":
        return _duplicate_line(rng, tree, text, duplicate)
    if operation == "truncate":
        label, data = hostile.truncate(rng, text)
        return FileMutation(label, data, Expect.ANY)
    if operation == "flip":
        label, data = hostile.flip_bits(rng, text)
        return FileMutation(label, data, Expect.ANY)
    if operation == "random":
        label, data = hostile.random_bytes(rng)
        return FileMutation(label, data, Expect.INVALID)
    if operation == "non-utf8":
        label, data = hostile.insert_non_utf8(rng, text)
        return FileMutation(label, data, Expect.INVALID)
    label, data = hostile.add_bom(text)
    return FileMutation(label, data, Expect.VALID)


def mutated_file_case(
    rng: random.Random,
    index: int,
    kind: str,
    seed: str,
    tree: dict[str, Any],
    file: str,
    emit: Emit,
    slot_of: SlotOf,
    duplicate: Expect,
) -> Case:
    """The case of one kind that writes a mutation of `tree` (the seed named `seed`) as `file`."""
    mutation = mutate_text_file(rng, tree, emit, slot_of, duplicate)
    return Case(
        kind=kind,
        index=index,
        mutation=f"{seed}: {mutation.label}",
        expect=mutation.expect,
        files={file: mutation.data},
        names=(file,),
    )


def _duplicate_line(rng: random.Random, tree: dict[str, Any], text: bytes, expect: Expect) -> FileMutation:
    if text.startswith(b"{"):
        # JSON: repeat a top-level member at the front, so the later copy is the one read.
        key = rng.choice(list(tree))
        member = (json.dumps(key) + ": " + json_text(tree[key]) + ", ").encode()
        return FileMutation(f"key {key!r} repeated", b"{" + member + text[1:], expect)
    lines = text.split(b"\n")
    at = rng.choice([i for i, line in enumerate(lines) if b" = " in line])
    lines.insert(at, lines[at])
    return FileMutation(f"line {at + 1} repeated", b"\n".join(lines), expect)
