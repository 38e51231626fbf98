"""A request's prompt tokens, counted offline with the tokenizer of the model that would serve it.

What each endpoint puts in the prompt, and how chat messages are framed, is in prompt_parts.py.

Conversations resend their whole history on every turn, so each text's count is cached (bounded LRU,
per instance, keyed by encoding and text; long texts are keyed by a digest so the cache never keeps a
megabyte prompt alive). Encoding 1,000 tokens takes ~150-250 us, a 1M-token prompt ~150-250 ms, so
`count_async` moves prompts with more than `offload_above_chars` characters of text to a worker thread
(tiktoken releases the GIL while encoding) and counts short ones inline, where the ~100 us thread hop would
cost more than the count. Gathering the prompt does Python work for every message, part and tool schema
node, which only the body's size bounds (a million tiny messages, a hostile schema), so a body of more than
`offload_above_chars` bytes is gathered in the worker thread too, before anything about it is known.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import tiktoken
from anyio import to_thread

from gateway.frozen import frozen
from gateway.routing.encodings import Encodings
from gateway.routing.held_inputs import HeldInput, largest_held
from gateway.routing.prompt_parts import PromptParts, gather_prompt

# Below this many characters encoding (~1-2 us) is about as cheap as a cache lookup, and caching such texts
# would only push long, expensive ones out of the LRU.
_UNCACHED_BELOW = 64
# Texts this short (roles, names) have their counts kept in a plain dict per encoding, up to _WORDS_KEPT of them.
_WORD_CHARS = 16
_WORDS_KEPT = 4096
# Above this many characters a text is cached under its digest, not itself: hashing costs ~1 ns per character,
# encoding ~40-70 ns.
_DIGEST_ABOVE = 512


@frozen
class PromptTokens:
    total: int  # prompt tokens as Azure would bill them (messages + tools + images, or prompt/input)
    text: int
    images: int
    tools: int
    encoding: str
    # For a request whose window holds its inputs one at a time (held_inputs.py): the largest; None otherwise.
    largest_input: HeldInput | None = None


@dataclass(frozen=True, slots=True)
class CacheStats:
    entries: int
    hits: int
    misses: int


class TokenCounter:
    def __init__(self, encodings: Encodings, cache_size: int = 4096, offload_above_chars: int = 32_768) -> None:
        self._encodings = encodings
        self._cache = _TextCache(cache_size)
        self._words: dict[str, dict[str, int]] = {}  # by encoding: short texts and their counts
        self._offload_above_chars = offload_above_chars

    @property
    def encodings(self) -> Encodings:
        return self._encodings

    @property
    def offload_above_chars(self) -> int:
        """Prompts with more text than this are counted in a worker thread."""
        return self._offload_above_chars

    def count(self, operation: str, body: Mapping[str, Any], model: str) -> PromptTokens:
        """Exact count, on the calling thread."""
        return self.count_parts(gather_prompt(operation, body), model)

    def count_parts(self, prompt: PromptParts, model: str) -> PromptTokens:
        """Exact count of a prompt already gathered (see prompt_parts.gather_prompt), on the calling thread."""
        return self._encode(prompt, self._encodings.for_model(model))

    async def count_async(self, operation: str, body: Mapping[str, Any], model: str, body_bytes: int) -> PromptTokens:
        """Inline for a small body with short text; in a worker thread for a large body (`body_bytes`: its size
        as received), for long text, or while the encoding still has to load."""
        if self.gathers_inline(body_bytes):
            return await self.count_parts_async(gather_prompt(operation, body), model)
        _, tokens = await self.gather_and_count_off_loop(operation, body, model)
        return tokens

    def gathers_inline(self, body_bytes: int) -> bool:
        """Whether a body of this many bytes is small enough to gather its prompt on the event loop."""
        return body_bytes <= self._offload_above_chars

    async def gather_and_count_off_loop(
        self, operation: str, body: Mapping[str, Any], model: str
    ) -> tuple[PromptParts, PromptTokens]:
        """The prompt gathered, and counted, in a worker thread."""
        return await to_thread.run_sync(self._gather_and_encode, operation, body, self._encodings.name_for_model(model))

    async def count_parts_async(self, prompt: PromptParts, model: str) -> PromptTokens:
        """`count_async` for a prompt already gathered."""
        name = self._encodings.name_for_model(model)
        if prompt.chars() <= self._offload_above_chars and self._encodings.is_loaded(name):
            return self._encode(prompt, self._encodings.get(name))
        return await to_thread.run_sync(self._encode_for, prompt, name)

    @staticmethod
    def text_length(operation: str, body: Mapping[str, Any]) -> int:
        """Characters of the text `count` would encode (message text and rendered tools; not images, not token ids).

        As a bound on tokens it holds for UTF-8 bytes, not characters: a rare character can take several tokens.
        """
        return gather_prompt(operation, body).chars()

    def cache_stats(self) -> CacheStats:
        return self._cache.stats()

    def _encode_for(self, prompt: PromptParts, encoding_name: str) -> PromptTokens:
        return self._encode(prompt, self._encodings.get(encoding_name))

    def _gather_and_encode(
        self, operation: str, body: Mapping[str, Any], encoding_name: str
    ) -> tuple[PromptParts, PromptTokens]:
        prompt = gather_prompt(operation, body)
        return prompt, self._encode_for(prompt, encoding_name)

    def _encode(self, prompt: PromptParts, encoding: tiktoken.Encoding) -> PromptTokens:
        text = prompt.fixed
        words = self._words.setdefault(encoding.name, {})
        for piece in prompt.texts:
            # A role or a name ("user", "assistant"), in every message of every request: looked up, not encoded.
            if len(piece) <= _WORD_CHARS:
                found = words.get(piece)
                if found is None:
                    found = len(encoding.encode_ordinary(piece))
                    if len(words) < _WORDS_KEPT:
                        words[piece] = found
                text += found
            else:
                text += self._text_tokens(encoding, piece)
        tools = self._text_tokens(encoding, prompt.tool_text) + prompt.tool_fixed if prompt.tool_text else 0
        largest = None
        if prompt.apart is not None:
            largest, held = largest_held(
                prompt.apart, prompt.apart_listed, lambda item: self._text_tokens(encoding, item)
            )
            text += held
        return PromptTokens(
            total=text + prompt.images + tools,
            text=text,
            images=prompt.images,
            tools=tools,
            encoding=encoding.name,
            largest_input=largest,
        )

    def _text_tokens(self, encoding: tiktoken.Encoding, text: str) -> int:
        if len(text) < _UNCACHED_BELOW:
            return len(encoding.encode_ordinary(text)) if text else 0
        key = (encoding.name, text if len(text) <= _DIGEST_ABOVE else _digest(text))
        tokens = self._cache.get(key)
        if tokens is None:
            tokens = sum(len(encoding.encode_ordinary(chunk)) for chunk in split_at_piece_boundaries(text))
            self._cache.put(key, tokens)
        return tokens


# encode_ordinary: a client's "<|endoftext|>" is billed as plain text, and must not raise. It returns a
# Python list, built while holding the GIL: a 1M-token text would hold it ~25 ms, stalling the event loop
# even from a worker thread. Chunks of this size keep each hold near half a millisecond.
_CHUNK_CHARS = 16_384


def split_at_piece_boundaries(text: str, size: int = _CHUNK_CHARS) -> list[str]:
    """`text` cut into chunks of about `size` characters, only where tiktoken's pre-tokenizer cuts anyway.

    Both encodings split text into pieces by regex before merging, and never merge across pieces. A
    piece never spans the end of a newline run followed by a letter, nor the gap between a non-space
    character and " word" (the space starts the word's piece), so summing the chunks' counts is exact.
    """
    if len(text) <= size:
        return [text]
    chunks: list[str] = []
    start = 0
    while len(text) - start > size:
        cut = _boundary_before(text, start + size, start)
        if cut is None:
            break
        chunks.append(text[start:cut])
        start = cut
    chunks.append(text[start:])
    return chunks


def _boundary_before(text: str, limit: int, floor: int) -> int | None:
    position = limit
    lowest = max(floor + 1, limit - 4096)
    while position > lowest:
        char, before, after = text[position], text[position - 1], text[position + 1 : position + 2]
        if char == " " and after.isalpha() and not before.isspace():
            return position
        if before == "\n" and char.isalpha():
            return position
        position -= 1
    return None


# Where each endpoint puts its output limit, first found first: chat's current and legacy names, completions'
# `max_tokens`, the Responses API's `max_output_tokens` (which includes reasoning tokens, as chat's
# `max_completion_tokens` does). No endpoint accepts another's name, so reading them all needs no operation.
_OUTPUT_LIMIT_FIELDS = ("max_completion_tokens", "max_tokens", "max_output_tokens")


def requested_output_tokens(body: Mapping[str, Any]) -> int | None:
    """The most output tokens one choice of a request may produce; None if unlimited."""
    for name in _OUTPUT_LIMIT_FIELDS:
        limit = _count_field(body, name)
        if limit is not None:
            return limit
    return None


def requested_choices(body: Mapping[str, Any]) -> int:
    """The choices a request has generated: `n`, or completions' `best_of` candidates, which are generated
    server-side and billed too (`n` <= `best_of` are returned)."""
    return max(_count_field(body, "n") or 1, _count_field(body, "best_of") or 1)


def _count_field(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _digest(text: str) -> bytes:
    # surrogatepass: JSON may carry lone surrogates ("\ud800"), which strict UTF-8 refuses.
    # SHA-256 rather than hash(): a collision would let one prompt pass for another's size. It is also the
    # fastest of hashlib's digests here (~0.7 ns per character with SHA-NI, blake2b ~1.3 ns).
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class _TextCache:
    """A bounded LRU of token counts, safe to share between the event loop and worker threads."""

    __slots__ = ("_entries", "_hits", "_lock", "_misses", "_size")

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, str | bytes], int] = OrderedDict()
        self._lock = threading.Lock()  # held for dictionary operations only, never while encoding
        self._hits = 0
        self._misses = 0

    def get(self, key: tuple[str, str | bytes]) -> int | None:
        with self._lock:
            tokens = self._entries.get(key)
            if tokens is None:
                self._misses += 1
            else:
                self._hits += 1
                self._entries.move_to_end(key)
            return tokens

    def put(self, key: tuple[str, str | bytes], tokens: int) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._entries[key] = tokens
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(entries=len(self._entries), hits=self._hits, misses=self._misses)
