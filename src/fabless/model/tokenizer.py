"""Text to token ids and back, plus the chat prompt a model was trained on.

A Hugging Face checkpoint brings its own `tokenizer.json`; a GGUF file carries its BPE
vocabulary and merges, from which an equivalent `tokenizers` pipeline is rebuilt here.
"""

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tokenizers
from tokenizers import AddedToken, decoders, models, pre_tokenizers, processors

from fabless.errors import FablessError

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
        try:
            backend = tokenizers.Tokenizer.from_file(str(file))
        except Exception as error:  # the Rust library raises a bare Exception for any parse failure
            raise FablessError(
                f"{file}: not a valid tokenizer.json ({str(error).splitlines()[0]}); "
                "re-export it with the tokenizers library"
            ) from None
        settings = _read_json(directory / "tokenizer_config.json")
        model = _read_json(directory / "config.json")
        template = settings.get("chat_template")
        if isinstance(template, list):
            template = next(
                (t.get("template") for t in template if t.get("name") == "default"), None
            )
        jinja = directory / "chat_template.jinja"
        if template is None and jinja.is_file():
            template = jinja.read_text()

        def special(key: str) -> int | None:
            token = settings.get(f"{key}_token")
            token = token.get("content") if isinstance(token, dict) else token
            if isinstance(token, str) and backend.token_to_id(token) is not None:
                return backend.token_to_id(token)
            fallback = model.get(f"{key}_token_id")
            if isinstance(fallback, list):  # generation configs may list several EOS ids
                fallback = fallback[0] if fallback else None
            return fallback if isinstance(fallback, int) else None

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
                f"{source}: GGUF pre-tokenizer {pre!r} is not supported (known: "
                f"{', '.join(sorted(_GGUF_PRE_DIGITS))}); load the Hugging Face checkpoint instead"
            )
        pairs = []
        for merge in merges:
            left, space, right = merge.partition(" ")
            if not space or " " in right:
                raise FablessError(
                    f"{source}: tokenizer.ggml.merges entry {merge!r} is not two tokens; "
                    "re-convert the GGUF"
                )
            pairs.append((left, right))
        vocab = {token: index for index, token in enumerate(tokens)}
        backend = tokenizers.Tokenizer(
            models.BPE(vocab=vocab, merges=pairs, fuse_unk=False, byte_fallback=False)
        )
        split = [pre_tokenizers.Digits(individual_digits=True)] if _GGUF_PRE_DIGITS[pre] else []
        backend.pre_tokenizer = pre_tokenizers.Sequence(
            [*split, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
        )
        backend.decoder = decoders.ByteLevel()
        kinds = list(zip(tokens, token_types, strict=True))
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


def _read_json(file: Path) -> dict[str, Any]:
    if not file.is_file():
        return {}
    try:
        loaded = json.loads(file.read_text())
    except json.JSONDecodeError as error:
        raise FablessError(f"{file}: not valid JSON ({error}); fix or delete the file") from None
    return loaded if isinstance(loaded, dict) else {}
