"""Text to token ids and back, plus the chat prompt a model was trained on.

A Hugging Face checkpoint brings its own `tokenizer.json`; a GGUF file carries its BPE
vocabulary and merges, from which an equivalent `tokenizers` pipeline is rebuilt here.
"""

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import tokenizers
from pydantic import BeforeValidator
from tokenizers import AddedToken, decoders, models, pre_tokenizers, processors

from fabless.checks import shown
from fabless.errors import FablessError
from fabless.files import MIB, parse_json, read_json, read_text
from fabless.model.hf_config import MAX_VOCAB
from fabless.model.validation import Schema, StrictModel, between, validated

# GGUF token types (llama.cpp's llama_token_type).
_CONTROL = 3
_USER_DEFINED = 4

# llama.cpp's `tokenizer.ggml.pre` names a pre-tokenizer; these are the byte-level ones
# whose Hugging Face equivalent is the GPT-2 split, optionally after splitting digits apart.
_GGUF_PRE_DIGITS = {
    "gpt-2": False,
    "default": False,
    "smollm": True,
    "starcoder": True,
    "refact": True,
}

# The largest tokenizer.json files (Gemma's, 262 k tokens) are ~35 MB; settings and
# templates are kilobytes, a megabyte or two with a large added_tokens_decoder.
_TOKENIZER_LIMIT_BYTES = 64 * MIB
_SETTINGS_LIMIT_BYTES = 16 * MIB
_TEMPLATE_LIMIT_BYTES = MIB

TokenId = Annotated[int, between(0, MAX_VOCAB - 1)]


def _token_content(value: object) -> object:
    """A special token is a string or an AddedToken object; its text is what matters."""
    return value.get("content") if isinstance(value, dict) else value


def _default_template(value: object) -> object:
    """A list of named templates stands for its "default" one."""
    if not isinstance(value, list):
        return value
    for entry in value:
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str)):
            raise ValueError("entries must be objects with a name and a template")
        if entry["name"] == "default":
            return entry.get("template")
    return None


def _first_id(value: object) -> object:
    # generation configs may list several EOS ids
    return (value[0] if value else None) if isinstance(value, list) else value


SpecialToken = Annotated[str | None, BeforeValidator(_token_content)]
SpecialId = Annotated[TokenId | None, BeforeValidator(_first_id)]


class _SettingsJson(StrictModel):
    """`tokenizer_config.json`: the special tokens and the chat template."""

    bos_token: SpecialToken = None
    eos_token: SpecialToken = None
    chat_template: Annotated[str | None, BeforeValidator(_default_template)] = None


class _SpecialIdsJson(StrictModel):
    """`config.json`'s fallback special token ids."""

    bos_token_id: SpecialId = None
    eos_token_id: SpecialId = None


_CHATML_START = "<|im_start|>"
_CHATML_SYSTEM = re.compile(r"<\|im_start\|>system(?:\n|\\n)(.*?)<\|im_end\|>", re.DOTALL)


class Tokenizer:
    """Encode and decode text; `chat_prompt` wraps one user turn in the model's chat template."""

    def __init__(
        self,
        backend: tokenizers.Tokenizer,
        *,
        bos_token_id: int | None,
        eos_token_id: int | None,
        chat_template: str | None,
        source: str,
    ) -> None:
        backend.no_padding()
        backend.no_truncation()
        self._backend = backend
        self.bos_token_id = bos_token_id
        self.eos_token_id = eos_token_id
        self.chat_template = chat_template
        self._source = source

    @property
    def vocab_size(self) -> int:
        return self._backend.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> list[int]:
        """Token ids, with the special tokens the post-processor adds (BERT's [CLS] ... [SEP])."""
        return list(self._backend.encode(text).ids)

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        return self._backend.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def token_to_id(self, token: str) -> int | None:
        return self._backend.token_to_id(token)

    def chat_prompt(self, user_message: str) -> list[int]:
        """One user turn ready for generation; without a chat template, the plain text."""
        if self.chat_template is None:
            return self.encode(user_message)
        if _CHATML_START not in self.chat_template:
            raise FablessError(
                f"{self._source}: its chat template is not ChatML, the only kind Fabless renders; "
                "encode the prompt yourself with Tokenizer.encode"
            )
        system = _CHATML_SYSTEM.search(self.chat_template)
        default_system = system.group(1) if system and "{" not in system.group(1) else None
        turns = [("system", default_system)] if default_system is not None else []
        turns.append(("user", user_message))
        text = "".join(f"<|im_start|>{role}\n{content}<|im_end|>\n" for role, content in turns)
        return self._backend.encode(text + "<|im_start|>assistant\n", add_special_tokens=False).ids

    @classmethod
    def from_directory(cls, directory: Path) -> "Tokenizer":
        """`tokenizer.json`, with special tokens and chat template from `tokenizer_config.json`."""
        file = directory / "tokenizer.json"
        if not file.is_file():
            raise FablessError(
                f"checkpoint {directory} has no tokenizer.json; copy the model's tokenizer.json "
                "next to its config.json"
            )
        text = read_text(file, "a tokenizer.json", _TOKENIZER_LIMIT_BYTES)
        _check_bpe_merges(parse_json(text, str(file)), file)
        backend = _backend(text, file)
        settings = _settings(directory / "tokenizer_config.json", _SettingsJson)
        model = _settings(directory / "config.json", _SpecialIdsJson)
        template = settings.chat_template
        jinja = directory / "chat_template.jinja"
        if template is None and jinja.is_file():
            template = read_text(jinja, "a chat template", _TEMPLATE_LIMIT_BYTES)

        def special(key: str) -> int | None:
            token = getattr(settings, f"{key}_token")
            if token is not None and backend.token_to_id(token) is not None:
                return backend.token_to_id(token)
            fallback: int | None = getattr(model, f"{key}_token_id")
            if fallback is not None and fallback >= backend.get_vocab_size(with_added_tokens=True):
                raise FablessError(
                    f"{directory / 'config.json'}: {key}_token_id {fallback} is outside the tokenizer's "
                    f"{backend.get_vocab_size(with_added_tokens=True)} tokens; fix it or remove it"
                )
            return fallback

        return cls(
            backend,
            bos_token_id=special("bos"),
            eos_token_id=special("eos"),
            chat_template=template,
            source=str(directory),
        )

    @classmethod
    def from_gguf_vocab(
        cls,
        *,
        tokens: Sequence[str],
        merges: Sequence[str],
        token_types: Sequence[int],
        pre: str,
        bos_token_id: int | None,
        eos_token_id: int | None,
        add_bos: bool,
        chat_template: str | None,
        source: str,
    ) -> "Tokenizer":
        """Rebuild a GPT-2-style byte-level BPE tokenizer from a GGUF's tokenizer.ggml.* fields."""
        if pre not in _GGUF_PRE_DIGITS:
            raise FablessError(
                f"{source}: GGUF pre-tokenizer {shown(pre)} is not supported (known: "
                f"{', '.join(sorted(_GGUF_PRE_DIGITS))}); load the Hugging Face checkpoint instead"
            )
        vocab = _gguf_vocab(tokens, token_types, (bos_token_id, eos_token_id), source)
        pairs = _gguf_merges(merges, vocab, source)
        backend = tokenizers.Tokenizer(
            models.BPE(vocab=vocab, merges=pairs, fuse_unk=False, byte_fallback=False)
        )
        split = [pre_tokenizers.Digits(individual_digits=True)] if _GGUF_PRE_DIGITS[pre] else []
        backend.pre_tokenizer = pre_tokenizers.Sequence(
            [*split, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
        )
        backend.decoder = decoders.ByteLevel()
        kinds = list(zip(tokens, token_types, strict=True))  # lengths checked by _gguf_vocab
        backend.add_special_tokens(
            [AddedToken(t, special=True, normalized=False) for t, k in kinds if k == _CONTROL]
        )
        backend.add_tokens(
            [AddedToken(t, normalized=False) for t, k in kinds if k == _USER_DEFINED]
        )
        if add_bos and bos_token_id is not None:
            bos = tokens[bos_token_id]
            backend.post_processor = processors.TemplateProcessing(
                single=f"{bos} $A", pair=f"{bos} $A $B", special_tokens=[(bos, bos_token_id)]
            )
        return cls(
            backend,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            chat_template=chat_template,
            source=source,
        )


def _gguf_vocab(
    tokens: Sequence[str], token_types: Sequence[int], special_ids: Sequence[int | None], source: str
) -> dict[str, int]:
    if len(token_types) != len(tokens):
        raise FablessError(
            f"{source}: tokenizer.ggml.token_type has {len(token_types)} entries for {len(tokens)} tokens; "
            "re-convert the GGUF"
        )
    vocab = {token: index for index, token in enumerate(tokens)}
    if len(vocab) != len(tokens):
        twice = next(token for index, token in enumerate(tokens) if vocab[token] != index)
        raise FablessError(f"{source}: tokenizer.ggml.tokens lists {shown(twice)} twice; re-convert the GGUF")
    for special in special_ids:
        if special is not None and not 0 <= special < len(tokens):
            raise FablessError(
                f"{source}: special token id {special} is outside the {len(tokens)} tokens; re-convert the GGUF"
            )
    return vocab


def _gguf_merges(merges: Sequence[str], vocab: dict[str, int], source: str) -> list[tuple[str, str]]:
    """Merge pairs whose parts and result are all tokens: the tokenizers library panics otherwise."""
    pairs = []
    for merge in merges:
        left, space, right = merge.partition(" ")
        if not space or " " in right:
            raise FablessError(
                f"{source}: tokenizer.ggml.merges entry {shown(merge)} is not two tokens; re-convert the GGUF"
            )
        if left not in vocab or right not in vocab or left + right not in vocab:
            raise FablessError(
                f"{source}: tokenizer.ggml.merges entry {shown(merge)} joins tokens not in the vocabulary; "
                "re-convert the GGUF"
            )
        pairs.append((left, right))
    return pairs


def _check_bpe_merges(spec: object, file: Path) -> None:
    """A BPE merge must join two tokens into a third: the tokenizers library panics, not raises, otherwise."""
    model = spec.get("model") if isinstance(spec, dict) else None
    if not (isinstance(model, dict) and model.get("type") == "BPE"):
        return
    vocab, merges, prefix = model.get("vocab"), model.get("merges"), model.get("continuing_subword_prefix") or ""
    if not (isinstance(vocab, dict) and isinstance(merges, list) and isinstance(prefix, str)):
        return  # the library's own parse rejects these with an ordinary error
    skip = len(prefix.encode())
    for merge in merges:
        pair = merge.split(" ", 1) if isinstance(merge, str) else merge
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)):
            continue
        left, right = pair
        try:
            joined = left + right.encode()[skip:].decode()
        except UnicodeDecodeError:
            joined = None
        if left not in vocab or right not in vocab or joined not in vocab or len(right.encode()) < skip:
            raise FablessError(
                f"{file}: model.merges entry {shown(pair)} does not join two tokens into one of the "
                "vocabulary; re-export it with the tokenizers library"
            )


def _backend(text: str, file: Path) -> tokenizers.Tokenizer:
    try:
        return tokenizers.Tokenizer.from_str(text)
    except Exception as error:  # the Rust library raises a bare Exception for any parse failure
        if type(error) is not Exception:
            raise
        reason = (str(error).splitlines() or ["unreadable"])[0][:120]
        raise FablessError(
            f"{file}: not a valid tokenizer.json ({reason}); "
            "re-export it with the tokenizers library"
        ) from None


def _settings(file: Path, schema: type[Schema]) -> Schema:
    """The keys Fabless reads from an optional JSON file beside the tokenizer; all of them optional."""
    if not file.exists():
        return schema()
    return validated(schema, read_json(file, f"a {file.name}", _SETTINGS_LIMIT_BYTES), str(file))
