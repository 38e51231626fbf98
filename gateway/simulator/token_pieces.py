"""Text cut into token-sized pieces: how the simulator counts, limits and streams JSON it writes.

A piece is a run of word characters or a run of punctuation, each with the spaces before it, which is
roughly how a BPE tokenizer splits JSON (`{"`, `name`, `":"`, ...). The pieces always join back to the text.
"""

from __future__ import annotations

import re

_PIECE = re.compile(r"\s*\w+|\s*[^\w\s]+|\s+")


def pieces(text: str) -> list[str]:
    """`text` as token-sized pieces whose concatenation is exactly `text`."""
    return _PIECE.findall(text)


def cut(parts: list[str], limit: int | None) -> tuple[list[str], bool]:
    """The pieces that fit in `limit` tokens, and whether they all did."""
    if limit is None or limit >= len(parts):
        return parts, True
    return parts[:limit], False
