"""Safetensors checkpoints: a random Llama directory whose model.safetensors is mutated, read by `load_checkpoint`."""

import json
import random
import struct
from pathlib import Path
from typing import Any

from fabless.model import load_checkpoint

from . import hostile
from .calls import call_library
from .cases import Case, Expect, Verdict
from .emit import json_text
from .hostile import Slot
from .kinds import Kind
from .seed_checkpoint import safetensors_files
from .tree import Path as TreePath
from .tree import mutate_tree

FOLDER = "checkpoint"
FILE = f"{FOLDER}/model.safetensors"


def split(data: bytes) -> tuple[dict[str, Any], bytes]:
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def join(header: dict[str, Any] | bytes, body: bytes, declared: int | None = None) -> bytes:
    raw = header if isinstance(header, bytes) else json_text(header).encode()
    return struct.pack("<Q", len(raw) if declared is None else declared) + raw + body


def slot_of(where: TreePath) -> Slot:
    # Every byte of a tensor entry is checked against config.json; the metadata is free-form.
    return Slot(read=where[0] != "__metadata__", integer=True)


def generate(rng: random.Random, index: int) -> Case:
    files = dict(safetensors_files())
    label, files["model.safetensors"], expect = _mutate(rng, files["model.safetensors"])
    return Case(
        kind="safetensors",
        index=index,
        mutation=label,
        expect=expect,
        files={f"{FOLDER}/{name}": data for name, data in files.items()},
        folders=(FOLDER,),
        names=(FILE, FOLDER),
    )


def _mutate(rng: random.Random, data: bytes) -> tuple[str, bytes, Expect]:
    header, body = split(data)
    operation = rng.choices(
        ("header", "length", "header-bytes", "truncate", "flip-data", "flip-header", "random"),
        weights=(12, 3, 2, 2, 2, 2, 1),
    )[0]
    if operation == "header":
        changed = mutate_tree(rng, header, slot_of)
        # Entries of tensors the checkpoint needs: dropping or renaming one leaves it missing.
        expect = (
            Expect.INVALID
            if changed.label.endswith("removed") and "__metadata__" not in changed.label
            else changed.expect
        )
        return f"header {changed.label}", join(changed.tree, body), expect
    if operation == "length":
        value = rng.choice((2**64 - 1, 2**40, 0, len(json_text(header)) + 1, 7))
        return f"header length = {value}", join(header, body, value), Expect.INVALID
    if operation == "header-bytes":
        raw = rng.choice((b"\xff\xfe{}", hostile.deep_list().text.encode(), b"[1, 2]", b'{"a": NaN}', b""))
        return f"header = {raw[:20]!r}", join(raw, body), Expect.INVALID
    if operation == "truncate":
        return (*hostile.truncate(rng, data), Expect.INVALID)
    if operation == "flip-data":
        start = len(data) - len(body)
        label, flipped = hostile.flip_bits(rng, body)
        return f"data {label}", data[:start] + flipped, Expect.ANY
    if operation == "flip-header":
        label, flipped = hostile.flip_bits(rng, data[: len(data) - len(body)])
        return f"header {label}", flipped + body, Expect.ANY
    return (*hostile.random_bytes(rng), Expect.INVALID)


def execute(case: Case, folder: Path) -> Verdict:
    return call_library(lambda: load_checkpoint(FOLDER))


KIND = Kind("safetensors", "safetensors checkpoint directory (load_checkpoint)", generate, execute)
