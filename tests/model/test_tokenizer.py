"""Tokenizers: SmolLM2's rebuilt from its GGUF against a from-scratch byte-level BPE, MiniLM's ids."""

import json
import re
import string
from collections.abc import Callable
from functools import cache
from itertools import pairwise
from pathlib import Path

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.errors import FablessError
from fabless.model.checkpoint import Checkpoint
from fabless.model.random_checkpoint import RandomModel, write_random_checkpoint
from fabless.model.tokenizer import Tokenizer

# GPT-2's split, with \p{L} as "a word character that is not a digit or _" and \p{N} as a digit:
# the same on the letters, digits and symbols these tests use, and stdlib `re` has no \p{..}.
_LETTER, _NUMBER = r"[^\W\d_]", r"\d"
_GPT2_SPLIT = re.compile(
    rf"""'s|'t|'re|'ve|'m|'ll|'d| ?{_LETTER}+| ?{_NUMBER}+| ?(?:(?!{_LETTER}|{_NUMBER})[^\s])+|\s+(?!\S)|\s+"""
)
_SAMPLES = [
    "Hello world",
    "What is the capital of France?",
    "I'm sure they've said it's 2024, isn't it? 1234567 + 89 = 1234656",
    "  leading spaces,\ttabs\n\nand   runs    of spaces  ",
    "Ünïcödé façade — naïve café; 東京タワー and emoji 🚀🔥!",
    "def f(x):\n    return x**2  # square\n",
    "URLs: https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct?x=1&y=2",
]


@cache
def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable characters."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            mapping[byte] = chr(byte)
        else:
            mapping[byte] = chr(256 + extra)
            extra += 1
    return mapping


def reference_bpe(text: str, vocab: dict[str, int], ranks: dict[tuple[str, str], int]) -> list[int]:
    """SmolLM2's encoding from first principles: digits apart, GPT-2 split, bytes, lowest-rank merges."""
    ids = []
    for chunk in re.split(r"(\d)", text):
        for piece in _GPT2_SPLIT.findall(chunk):
            parts = [_byte_to_unicode()[b] for b in piece.encode()]
            while len(parts) > 1:
                pairs = [(ranks.get(pair, len(ranks)), i) for i, pair in enumerate(pairwise(parts))]
                rank, at = min(pairs)
                if rank == len(ranks):
                    break
                parts[at : at + 2] = [parts[at] + parts[at + 1]]
            ids.extend(vocab[p] for p in parts)
    return ids


@pytest.fixture(scope="module")
def reference(smollm2: Checkpoint) -> Callable[[str], list[int]]:
    """`reference_bpe` over the GGUF's own vocabulary and merges (a closure keeps reprs short)."""
    import gguf

    reader = gguf.GGUFReader(smollm2.source)
    vocab = {t: i for i, t in enumerate(reader.fields["tokenizer.ggml.tokens"].contents())}
    merges = reader.fields["tokenizer.ggml.merges"].contents()
    ranks = {tuple(m.split(" ")): r for r, m in enumerate(merges)}

    def encode(text: str) -> list[int]:
        return reference_bpe(text, vocab, ranks)

    return encode


@pytest.fixture(scope="module")
def smol(smollm2: Checkpoint) -> Tokenizer:
    return smollm2.tokenizer


@pytest.mark.parametrize("text", _SAMPLES)
def test_smollm2_encodes_like_reference_bpe(smol: Tokenizer, reference, text: str) -> None:
    assert smol.encode(text) == reference(text)


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + string.punctuation + " \n\té", max_size=60))
def test_smollm2_matches_reference_bpe_on_random_text(smol: Tokenizer, reference, text: str) -> None:
    assert smol.encode(text) == reference(text)


# SmolLM2's vocabulary lacks a few bytes (0x04, 0xf1, ...), so control characters and planes
# 4 and up cannot be encoded by the original tokenizer either: they are left out.
@settings(max_examples=50, deadline=None)
@given(st.text(st.characters(max_codepoint=0x3FFFF, exclude_categories=("Cc", "Cs")), max_size=80))
def test_smollm2_round_trips_any_text(smol: Tokenizer, text: str) -> None:
    assert smol.decode(smol.encode(text)) == text


def test_smollm2_special_tokens(smol: Tokenizer, reference) -> None:
    assert (smol.bos_token_id, smol.eos_token_id) == (1, 2)
    assert smol.encode("<|im_start|>user<|im_end|><|endoftext|>") == [1, *reference("user"), 2, 0]
    assert smol.decode([1, *reference("user"), 2]) == "user"
    assert smol.decode([1, 2, 0], skip_special_tokens=False) == "<|im_start|><|im_end|><|endoftext|>"


def test_smollm2_chat_prompt_renders_the_gguf_chat_template(smollm2: Checkpoint) -> None:
    message = "What is the capital of France?"
    template = jinja2.Environment().from_string(smollm2.tokenizer.chat_template)
    text = template.render(messages=[{"role": "user", "content": message}], add_generation_prompt=True)
    ids = smollm2.tokenizer.chat_prompt(message)
    assert smollm2.tokenizer.decode(ids, skip_special_tokens=False) == text
    assert ids[0] == 1 and ids[-4:] == [1, *smollm2.tokenizer.encode("assistant\n")]
    assert ids.count(1) == 3 and ids.count(2) == 2
    assert text.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")


def test_minilm_wordpiece_ids(minilm: Checkpoint) -> None:
    tokenizer = minilm.tokenizer
    # bert-base-uncased's vocabulary: [CLS] 101, [SEP] 102, hello 7592, world 2088, ! 999.
    assert tokenizer.encode("Hello World!") == [101, 7592, 2088, 999, 102]
    assert tokenizer.decode(tokenizer.encode("Hello World!")) == "hello world!"
    assert len(tokenizer.encode("word " * 300)) == 302  # no padding or truncation to 128
    assert tokenizer.chat_prompt("Hello World!") == tokenizer.encode("Hello World!")
    assert (tokenizer.bos_token_id, tokenizer.eos_token_id) == (None, None)


def test_random_llama_tokenizer_chat_prompt(tmp_path) -> None:
    from fabless.model.checkpoint import load_checkpoint

    tokenizer = load_checkpoint(write_random_checkpoint(tmp_path, RandomModel())).tokenizer
    ids = tokenizer.chat_prompt("hi")
    assert tokenizer.decode(ids, skip_special_tokens=False) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert (tokenizer.bos_token_id, tokenizer.eos_token_id) == (1, 2)


def test_non_chatml_template_is_rejected(tmp_path) -> None:
    from fabless.model.checkpoint import load_checkpoint

    write_random_checkpoint(tmp_path, RandomModel())
    settings_file = tmp_path / "tokenizer_config.json"
    settings_file.write_text(json.dumps({"chat_template": "[INST] {{ messages[0]['content'] }} [/INST]"}))
    tokenizer = load_checkpoint(tmp_path).tokenizer
    with pytest.raises(FablessError, match="chat template is not ChatML"):
        tokenizer.chat_prompt("hi")


def test_special_ids_fall_back_to_config_json(tmp_path) -> None:
    from fabless.model.checkpoint import load_checkpoint

    write_random_checkpoint(tmp_path, RandomModel())
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"bos_token": "<not a token>"}))
    raw = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**raw, "bos_token_id": 0, "eos_token_id": [2, 0]}))
    tokenizer = load_checkpoint(tmp_path).tokenizer
    assert (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.chat_template) == (0, 2, None)
    assert tokenizer.chat_prompt("hi there") == tokenizer.encode("hi there")


def _llama_dir(tmp_path: Path) -> Path:
    return write_random_checkpoint(tmp_path, RandomModel())


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("tokenizer.json", b'{"model": 3}', r"tokenizer\.json: not a valid tokenizer\.json \(data did not match"),
        ("tokenizer.json", b"\xff\xfe", r"tokenizer\.json: not UTF-8 text"),
        ("tokenizer.json", b"[" * 100_000, r"tokenizer\.json: nested too deeply"),
        ("tokenizer_config.json", b'{"bos_token": 3}', r"tokenizer_config\.json: bos_token must be a string \(got 3\)"),
        ("tokenizer_config.json", b'{"chat_template": [1]}', r"chat_template entries must be objects with a name"),
        ("tokenizer_config.json", b'{"chat_template": {"a": 1}}', r"chat_template must be a string"),
        ("tokenizer_config.json", b"{", r"tokenizer_config\.json: not valid JSON"),
        ("config.json", None, r"eos_token_id must be between 0 and 4194303 \(got -1\)"),
        ("config.json", 1_000_000, r"config\.json: eos_token_id 1000000 is outside the tokenizer's 300 tokens"),
        ("chat_template.jinja", b"\x00\x01", r"chat_template\.jinja: not a text file"),
    ],
)
def test_bad_tokenizer_files_name_the_file_and_field(tmp_path, file: str, content, message: str) -> None:
    directory = _llama_dir(tmp_path)
    if file == "config.json":
        raw = json.loads((directory / file).read_text())
        (directory / file).write_text(json.dumps({**raw, "eos_token_id": -1 if content is None else content}))
        (directory / "tokenizer_config.json").write_text("{}")
    else:
        if file == "chat_template.jinja":
            (directory / "tokenizer_config.json").write_text("{}")
        (directory / file).write_bytes(content)
    with pytest.raises(FablessError, match=message) as caught:
        Tokenizer.from_directory(directory)
    assert "\n" not in str(caught.value)


def test_bpe_merge_outside_the_vocabulary_is_an_error_not_a_panic(tmp_path) -> None:
    directory = _llama_dir(tmp_path)
    spec = json.loads((directory / "tokenizer.json").read_text())
    vocab = spec["model"]["vocab"]
    pair = next([a, b] for a in vocab for b in vocab if a + b not in vocab)
    spec["model"]["merges"].append(pair)
    (directory / "tokenizer.json").write_text(json.dumps(spec))
    with pytest.raises(FablessError, match=r"tokenizer\.json: model\.merges entry .* does not join two tokens"):
        Tokenizer.from_directory(directory)


def test_oversized_tokenizer_json_is_refused(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fabless.model import tokenizer

    directory = _llama_dir(tmp_path)
    monkeypatch.setattr(tokenizer, "_TOKENIZER_LIMIT_BYTES", 1024)
    with pytest.raises(FablessError, match=r"tokenizer\.json is larger than 1 KiB, too large for a tokenizer\.json"):
        Tokenizer.from_directory(directory)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"token_types": [1]}, r"tokenizer\.ggml\.token_type has 1 entries for 3 tokens"),
        ({"tokens": ["a", "b", "a"]}, r"tokenizer\.ggml\.tokens lists 'a' twice"),
        ({"bos_token_id": 7}, r"special token id 7 is outside the 3 tokens"),
        ({"merges": ["a"]}, r"tokenizer\.ggml\.merges entry 'a' is not two tokens"),
        ({"merges": ["b a"]}, r"tokenizer\.ggml\.merges entry 'b a' joins tokens not in the vocabulary"),
        ({"pre": "p" * 100_000}, r"GGUF pre-tokenizer 'p{36}\.\.\. is not supported \(known: default, "),
    ],
)
def test_gguf_vocabulary_is_checked_before_the_library_sees_it(change: dict, message: str) -> None:
    fields = {
        "tokens": ["a", "b", "ab"],
        "merges": ["a b"],
        "token_types": [1, 1, 1],
        "pre": "default",
        "bos_token_id": None,
        "eos_token_id": None,
        "add_bos": False,
        "chat_template": None,
        "source": "m.gguf",
        **change,
    }
    with pytest.raises(FablessError, match=rf"^m\.gguf: {message}"):
        Tokenizer.from_gguf_vocab(**fields)
