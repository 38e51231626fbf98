"""The tiktoken encodings of the models the gateway serves, read offline from files whose SHA-256 we check.

tiktoken downloads its BPE files on first use, which locked-down networks forbid. The files are read from
`routing.tokenizer_dir` when the config sets it, else from litellm's wheel, which carries cl100k_base and
o200k_base under `litellm/litellm_core_utils/tokenizers/`. Both name a file by tiktoken's cache key (the
SHA-1 of its download URL). Whichever package ships them, each file must match the SHA-256 that tiktoken
publishes for it: a missing or altered file stops the gateway at start-up with the file's path. Importing
litellm costs seconds and ~165 MB, so its package is located with `importlib.util.find_spec` (which does not
import it) and the files are parsed here.

`tiktoken.load.load_tiktoken_bpe` is not used on purpose: given a local path it still copies the file
into tiktoken's cache directory. The regex and special tokens are copied from `tiktoken_ext.openai_public`
(whose constructors would download); tests/routing/test_encodings.py checks that they still match.
"""

from __future__ import annotations

import binascii
import hashlib
import importlib.util
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import tiktoken

O200K_BASE = "o200k_base"
CL100K_BASE = "cl100k_base"

_ENDOFTEXT = "<|endoftext|>"
_ENDOFPROMPT = "<|endofprompt|>"


class EncodingUnavailable(Exception):
    """A tiktoken file is missing or not the published one, so tokens cannot be counted offline."""


@dataclass(frozen=True, slots=True)
class _Spec:
    file: str  # tiktoken's cache key: sha1 of the blob URL
    sha256: str  # tiktoken's expected hash of the blob
    pat_str: str
    special_tokens: dict[str, int]


_SPECS: dict[str, _Spec] = {
    CL100K_BASE: _Spec(
        file="9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=(
            r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
            r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
        ),
        special_tokens={
            _ENDOFTEXT: 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            _ENDOFPROMPT: 100276,
        },
    ),
    O200K_BASE: _Spec(
        file="fb374d419588a4632f3f557e76b4b70aebbca790",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str="|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        special_tokens={_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018},
    ),
}

# Largest first: the smaller one's parse then reuses the memory freed by the larger one's, so start-up peaks
# ~15 MiB lower.
_LOAD_ORDER = (O200K_BASE, CL100K_BASE)
LOADED_ON_FIRST_USE = frozenset({CL100K_BASE})

# Checked before the cl100k families because "gpt-4" is a prefix of "gpt-4o" and "gpt-4.1".
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-image", "gpt-5", "chatgpt-4o", "o1", "o3", "o4")
_CL100K_EXACT = frozenset({"gpt-4", "text-embedding-ada-002"})
_CL100K_PREFIXES = ("gpt-4-", "gpt-35-turbo", "gpt-3.5", "text-embedding-ada-002-", "text-embedding-3-")


def encoding_name_for_model(model: str) -> str:
    """o200k_base for the GPT-4o generation and later, cl100k_base for GPT-4 / GPT-3.5 / ada-002 / embedding-3.

    Models this table does not know are assumed to be new, and new OpenAI models use o200k_base.
    """
    name = model.lower().removeprefix("azure/")
    if name.startswith(_O200K_PREFIXES):
        return O200K_BASE
    if name in _CL100K_EXACT or name.startswith(_CL100K_PREFIXES):
        return CL100K_BASE
    return O200K_BASE


def litellm_tokenizers_dir() -> Path | None:
    """litellm's bundled tokenizer directory, found without importing litellm (None if it is not installed)."""
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"


class Encodings:
    """Loads o200k_base / cl100k_base lazily from checked files; one instance per app (built in lifespan).

    Loading one encoding takes ~0.2-0.3 s (parsing ~200k base64 lines, then building tiktoken's BPE table),
    so call `preload()` from the lifespan, in a worker thread, rather than on the first request. A loaded
    encoding holds ~45 MiB (o200k_base) or ~20 MiB (cl100k_base) for the life of the process, so `preload()`
    loads only the encodings of `served_models` (all of them when not given).
    `tokenizers` (model -> encoding, from the model table) wins over the naming rule of
    `encoding_name_for_model`, which serves models the table does not list.
    """

    def __init__(
        self,
        directory: Path | None = None,
        tokenizers: Mapping[str, str] | None = None,
        served_models: Iterable[str] | None = None,
    ) -> None:
        directory = directory if directory is not None else litellm_tokenizers_dir()
        if directory is None:
            raise EncodingUnavailable(
                "litellm is not installed, and its package holds the tokenizer files used to count tokens offline "
                "(or set routing.tokenizer_dir to a directory that holds them)."
            )
        for name, spec in _SPECS.items():
            if not (directory / spec.file).is_file():
                raise EncodingUnavailable(f"The {name} tokenizer file {directory / spec.file} is missing.")
        unknown = {model: name for model, name in (tokenizers or {}).items() if name not in _SPECS}
        if unknown:
            raise EncodingUnavailable(f"Unknown encodings for models: {unknown}; known: {', '.join(_SPECS)}.")
        self._dir = directory
        self._by_model = dict(tokenizers or {})
        self._in_use = (
            frozenset(_SPECS) if served_models is None else frozenset(map(self.name_for_model, served_models))
        )
        self._loaded: dict[str, tiktoken.Encoding] = {}
        self._lock = threading.Lock()  # a worker thread and the event loop may both ask first

    def for_model(self, model: str) -> tiktoken.Encoding:
        return self.get(self.name_for_model(model))

    def name_for_model(self, model: str) -> str:
        return self._by_model.get(model) or encoding_name_for_model(model)

    def get(self, name: str) -> tiktoken.Encoding:
        encoding = self._loaded.get(name)
        if encoding is not None:
            return encoding
        with self._lock:
            encoding = self._loaded.get(name)
            if encoding is None:
                encoding = self._loaded[name] = self._load(name)
            return encoding

    def verify(self) -> None:
        """Check every file against its published SHA-256 without building the encodings (~20 ms)."""
        for name in _SPECS:
            self._read(name)

    def is_loaded(self, name: str) -> bool:
        return name in self._loaded

    @property
    def in_use(self) -> frozenset[str]:
        """The encodings the served models use: what `preload()` loads."""
        return self._in_use

    def preload(self) -> None:
        """Load the served models' encodings now, except the legacy models' cl100k_base: ~21 MiB of every
        worker's idle memory for the models fewer deployments still serve. It loads on the first request that
        needs it, in a worker thread (prompt_size.py), so that request waits ~0.3 s and no other does."""
        for name in sorted(self._in_use - LOADED_ON_FIRST_USE, key=_LOAD_ORDER.index):
            self.get(name)

    def _load(self, name: str) -> tiktoken.Encoding:
        spec = _SPECS.get(name)
        if spec is None:
            raise EncodingUnavailable(f"Unknown encoding {name!r}; known: {', '.join(_SPECS)}.")
        ranks = _parse_ranks(self._read(name))
        encoding = tiktoken.Encoding(
            name, pat_str=spec.pat_str, mergeable_ranks=ranks, special_tokens=dict(spec.special_tokens)
        )
        # The Encoding keeps this very dict only to be pickled (which nothing here does; unpickling would
        # then fail loudly), while its Rust core encodes and decodes from its own copy. As Python objects the
        # ranks of both encodings held ~34 MiB of the idle process.
        ranks.clear()
        return encoding

    def _read(self, name: str) -> bytes:
        spec = _SPECS[name]
        path = self._dir / spec.file
        try:
            blob = path.read_bytes()
        except OSError as exc:
            raise EncodingUnavailable(f"Cannot read the {name} tokenizer file {path}: {exc}") from exc
        digest = hashlib.sha256(blob).hexdigest()
        if digest != spec.sha256:
            raise EncodingUnavailable(
                f"The {name} tokenizer file {path} has SHA-256 {digest}, not the published {spec.sha256}."
            )
        return blob


def _parse_ranks(blob: bytes) -> dict[bytes, int]:
    # Each line is "<base64 token> <rank>"; splitting the whole blob at once is ~3x faster than per line.
    fields = blob.split()
    return dict(zip(map(binascii.a2b_base64, fields[0::2]), map(int, fields[1::2]), strict=True))
