"""Mutate a parsed TOML or JSON file: replace a value, drop or add a key, nest it deeply."""

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .cases import Expect
from .hostile import Slot, deep_list, replacement

Path = tuple[str | int, ...]
SlotOf = Callable[[Path], Slot]


@dataclass(frozen=True)
class TreeMutation:
    label: str
    tree: dict[str, Any]
    expect: Expect


def paths(tree: Any, prefix: Path = ()) -> list[tuple[Path, Any]]:
    """Every value in the tree, tables and lists included, by its path of keys and indices."""
    found: list[tuple[Path, Any]] = []
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for key, value in items:
        found.append(((*prefix, key), value))
        found.extend(paths(value, (*prefix, key)))
    return found


def mutate_tree(rng: random.Random, seed: dict[str, Any], slot_of: SlotOf) -> TreeMutation:
    """One structural mutation of `seed` (left untouched); `slot_of` says what each path may hold."""
    tree = copy.deepcopy(seed)
    where, value = rng.choice(paths(tree))
    slot = slot_of(where)
    shown = ".".join(str(part) for part in where)
    operation = rng.choices(("replace", "drop", "extra", "nest"), weights=(12, 2, 1, 1))[0]
    parent = _parent(tree, where)
    if operation == "drop":
        del parent[where[-1]]
        # Whether the key was required is the schema's business; dropping it must not crash.
        return TreeMutation(f"{shown} removed", tree, Expect.ANY)
    if operation == "extra" and isinstance(parent, dict):
        parent["unknown_key_" + str(where[-1])] = copy.deepcopy(value)
        return TreeMutation(f"unknown key beside {shown}", tree, Expect.ANY)
    if operation == "nest":
        parent[where[-1]] = deep_list()
        return TreeMutation(f"{shown} = a deeply nested list", tree, Expect.INVALID if slot.read else Expect.ANY)
    if isinstance(value, dict | list):
        parent[where[-1]] = rng.choice((0, "text", float("nan")))
        return TreeMutation(f"{shown} (a {type(value).__name__}) = {parent[where[-1]]!r}", tree, _bad(slot))
    chosen = replacement(rng, value, slot)
    parent[where[-1]] = chosen.value
    unchanged = type(chosen.value) is type(value) and chosen.value == value
    return TreeMutation(f"{shown} = {chosen.label}", tree, Expect.VALID if unchanged else chosen.expect)


def _parent(tree: Any, where: Path) -> Any:
    for part in where[:-1]:
        tree = tree[part]
    return tree


def _bad(slot: Slot) -> Expect:
    return Expect.INVALID if slot.read else Expect.ANY
