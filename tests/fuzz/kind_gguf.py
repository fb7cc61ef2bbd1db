"""GGUF checkpoints: a random Llama converted as llama.cpp would, mutated, read by `load_checkpoint`."""

import random
import struct
from pathlib import Path

import gguf

from fabless.model import load_checkpoint

from . import hostile
from .calls import call_library
from .cases import Case, Expect, Verdict
from .kinds import Kind
from .seed_checkpoint import Metadata, gguf_bytes, gguf_parts

FILE = "model.gguf"
_T = gguf.GGUFValueType
# Hostile values per metadata type; any of them contradicts the tensors or is impossible.
_HOSTILE = {
    _T.UINT32: (0, 2**32 - 1, 1, 7),
    _T.FLOAT32: (float("nan"), float("inf"), -1.0, 0.0, 3.0e38),
    _T.STRING: ("", "mamba", hostile.CONTROL_TEXT, hostile.LONG_TEXT),
}
# What the header says, at fixed offsets: version, then tensor and key-value counts (u64).
_TOKEN_IDS = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"}
_HEADER_FIELDS = {"tensor count": 8, "key-value count": 16, "first key length": 24}


def generate(rng: random.Random, index: int) -> Case:
    label, data, expect = _mutate(rng)
    return Case(kind="gguf", index=index, mutation=label, expect=expect, files={FILE: data}, names=(FILE,))


def _mutate(rng: random.Random) -> tuple[str, bytes, Expect]:
    seed_metadata, seed_tensors = gguf_parts()
    metadata: Metadata = list(seed_metadata)
    tensors = list(seed_tensors)
    operation = rng.choices(
        ("same", "value", "wrong-type", "drop-key", "drop-tensor", "tokens", "header", "truncate", "flip", "random"),
        weights=(1, 8, 2, 2, 1, 2, 3, 2, 3, 1),
    )[0]
    at = rng.randrange(len(metadata))
    key, kind, value = metadata[at]
    if operation == "same":
        return "the seed", gguf_bytes(metadata, tensors), Expect.VALID
    if operation == "value" and kind in _HOSTILE:
        bad = rng.choice(_HOSTILE[kind])
        metadata[at] = (key, kind, bad)
        return f"{key} = {str(bad)[:20]!r}", gguf_bytes(metadata, tensors), _expect(key, value, bad)
    if operation in ("value", "wrong-type"):
        replacement = (_T.STRING, "abc") if kind is not _T.STRING else (_T.UINT32, 7)
        metadata[at] = (key, *replacement)
        expect = Expect.ANY if key == "tokenizer.ggml.pre" else Expect.INVALID
        return f"{key} as {replacement[0].name}", gguf_bytes(metadata, tensors), expect
    if operation == "drop-key":
        del metadata[at]
        return f"{key} removed", gguf_bytes(metadata, tensors), Expect.ANY
    if operation == "drop-tensor":
        name, _ = tensors.pop(rng.randrange(len(tensors)))
        # Without output.weight llama.cpp ties the head to token_embd, and so does the loader.
        expect = Expect.ANY if name == "output.weight" else Expect.INVALID
        return f"tensor {name} removed", gguf_bytes(metadata, tensors), expect
    if operation == "tokens":
        tokens = list(next(v for k, _, v in metadata if k == "tokenizer.ggml.tokens"))  # type: ignore[call-overload]
        spot = rng.randrange(len(tokens))
        tokens[spot] = rng.choice(("", hostile.CONTROL_TEXT, hostile.LONG_TEXT, *hostile.INJECTIONS))
        index = next(i for i, (k, _, _) in enumerate(metadata) if k == "tokenizer.ggml.tokens")
        metadata[index] = ("tokenizer.ggml.tokens", _T.ARRAY, tokens)
        return f"token {spot} = {tokens[spot][:20]!r}", gguf_bytes(metadata, tensors), Expect.ANY
    data = gguf_bytes(metadata, tensors)
    if operation == "header":
        field, offset = rng.choice(sorted(_HEADER_FIELDS.items()))
        value = rng.choice((2**63, 2**40, 2**64 - 1))
        return f"{field} = {value}", data[:offset] + struct.pack("<Q", value) + data[offset + 8 :], Expect.INVALID
    if operation == "truncate":
        return (*hostile.truncate(rng, data), Expect.INVALID)
    if operation == "flip":
        return (*hostile.flip_bits(rng, data), Expect.ANY)
    return (*hostile.random_bytes(rng), Expect.INVALID)


def _expect(key: str, seed: object, value: object) -> Expect:
    if value == seed:
        return Expect.VALID
    if key == "tokenizer.ggml.pre":
        return Expect.ANY  # the pre-tokenizer's name is advisory
    # A small count or id may happen to agree with the tensors; 0 and 2^32 - 1 never do.
    small = value in (1, 7) or (value == 0 and key in _TOKEN_IDS)
    return Expect.ANY if small else Expect.INVALID


def execute(case: Case, folder: Path) -> Verdict:
    return call_library(lambda: load_checkpoint(FILE))


KIND = Kind("gguf", "GGUF checkpoint file (load_checkpoint)", generate, execute)
