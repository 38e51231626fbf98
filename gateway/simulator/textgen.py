"""Deterministic filler text and rough token counts.

Content is drawn from a hash of the request's meaningful fields, so the same request always gets the
same answer (and a streamed request the same text as its non-streamed twin). One word counts as one
token, which makes `max_tokens` cuts easy to predict in tests.
"""

from __future__ import annotations

import hashlib
from typing import Any

# fmt: off
_WORDS = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo",
    "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor",
    "whiskey", "xray", "yankee", "zulu", "amber", "azure", "cobalt", "coral", "crimson", "ember", "forest",
    "golden", "indigo", "ivory", "jade", "lemon", "lilac", "maroon", "mint", "navy", "olive", "orchid",
    "pearl", "plum", "rose", "ruby", "saffron", "sage", "scarlet", "silver", "slate", "teal", "topaz",
    "umber", "violet", "walnut", "wheat", "willow", "zinc", "apple", "river", "stone",
)
# fmt: on


def digest(*parts: bytes) -> bytes:
    return hashlib.blake2b(b"\x1f".join(parts), digest_size=32).digest()


def reply_words(model: str, seed: bytes, noun: str = "reply") -> list[str]:
    """8 to 24 words: a recognisable prefix naming the model, then hash-chosen filler."""
    count = 4 + seed[0] % 17
    filler = [_WORDS[b % len(_WORDS)] for b in seed[1 : 1 + count]]
    return ["Simulated", noun, "from", f"{model}:", *filler]


def cut(words: list[str], limit: int | None) -> tuple[list[str], bool]:
    """The words that fit in `limit` tokens, and whether the whole reply fitted."""
    if limit is None or limit >= len(words):
        return words, True
    return words[:limit], False


def render(words: list[str], complete: bool) -> str:
    return " ".join(words) + ("." if complete else "")


def pieces(words: list[str], complete: bool) -> list[str]:
    """Stream deltas whose concatenation is exactly `render(words, complete)`."""
    out = [w if i == 0 else " " + w for i, w in enumerate(words)]
    if complete and out:
        out[-1] += "."
    return out


def estimate_tokens(chars: int) -> int:
    return max(1, (chars + 3) // 4)


def message_chars(messages: list[Any]) -> int:
    """Characters of text in chat messages; non-text parts (images, audio) count as ~85 tokens each."""
    total = 0
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += len(content)
        elif isinstance(content, list):
            for part in content:
                text = part.get("text") if isinstance(part, dict) else None
                total += len(text) if isinstance(text, str) else 340
    return total
