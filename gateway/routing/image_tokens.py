"""Prompt tokens of an image in a prompt, from its size, which is read from the image's first bytes.

The rule is OpenAI's tile rule for GPT-4o / GPT-4.1 / GPT-4 Turbo with vision:
- `detail: low` costs 85 tokens whatever the size;
- `high` and `auto` (and no detail) scale the image to fit 2048x2048, then down so its shortest side is at
  most 768 px (never up), and cost 85 + 170 per 512 px tile.

The size of a `data:` URL image is read from its header (PNG IHDR, GIF screen descriptor, WebP VP8/VP8L/VP8X,
JPEG SOF) by decoding only the few base64 characters that hold it: a JPEG's SOF may follow large EXIF
segments, which are skipped by reading each segment's length, never its body. The size of an http(s) image
would need a download, so it is assumed to be 1024x1024 (765 tokens at high detail, OpenAI's own example), as is
an image given by file id. Bare base64 (a Responses API `image_generation_call` result) is read the same way.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any

LOW_DETAIL_TOKENS = 85
TILE_TOKENS = 170
TILE_SIZE = 512
ASSUMED_SIZE = (1024, 1024)  # for images given by http(s) URL, or whose header cannot be read

_MAX_SIDE = 65_535  # larger sides mean the header was misread (whitespace in the base64, say)
_JPEG_MAX_SEGMENTS = 128
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # markers without a length field
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def image_part_tokens(image_url: Any) -> int:
    """Tokens of a chat `image_url` part's value: `{"url": ..., "detail": ...}` (a bare URL string is accepted)."""
    if isinstance(image_url, str):
        return image_url_tokens(image_url, "auto")
    if isinstance(image_url, Mapping):
        return image_url_tokens(image_url.get("url"), image_url.get("detail"))
    return tile_tokens(*ASSUMED_SIZE, "auto")


def image_url_tokens(url: Any, detail: Any) -> int:
    """Tokens of an image given by URL (a `data:` URL is measured; anything else is assumed 1024x1024)."""
    if detail == "low":
        return LOW_DETAIL_TOKENS
    size = data_url_image_size(url) if isinstance(url, str) else None
    return tile_tokens(*(size or ASSUMED_SIZE), "high")


def base64_image_tokens(payload: Any, detail: Any) -> int:
    """Tokens of an image given as bare base64, without a `data:` prefix."""
    if detail == "low":
        return LOW_DETAIL_TOKENS
    size = base64_image_size(payload) if isinstance(payload, str) else None
    return tile_tokens(*(size or ASSUMED_SIZE), "high")


def tile_tokens(width: int, height: int, detail: str) -> int:
    if detail == "low":
        return LOW_DETAIL_TOKENS
    # Integer arithmetic, so that exact multiples of 512 never become one tile more through rounding.
    longest = max(width, height)
    if longest > 2048:
        width, height = width * 2048 // longest, height * 2048 // longest
    shortest = min(width, height)
    if shortest > 768:
        width, height = width * 768 // shortest, height * 768 // shortest
    tiles = -(-max(width, 1) // TILE_SIZE) * -(-max(height, 1) // TILE_SIZE)
    return LOW_DETAIL_TOKENS + TILE_TOKENS * tiles


def data_url_image_size(url: str) -> tuple[int, int] | None:
    """(width, height) of a base64 `data:` URL's PNG, JPEG, GIF or WebP image; None if unknown."""
    if not url.startswith("data:"):
        return None
    comma = url.find(",", 5, 512)
    if comma < 0 or not url[5:comma].endswith(";base64"):
        return None
    return _image_size(_Base64Window(url, comma + 1))


def base64_image_size(payload: str) -> tuple[int, int] | None:
    """`data_url_image_size` of an image's bare base64."""
    return _image_size(_Base64Window(payload, 0))


def _image_size(payload: _Base64Window) -> tuple[int, int] | None:
    head = payload.read(0, 30)
    size: tuple[int, int] | None
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        size = _be(head[16:20]), _be(head[20:24])
    elif head[:6] in (b"GIF87a", b"GIF89a"):
        size = _le(head[6:8]), _le(head[8:10])
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        size = _webp_size(head)
    elif head[:2] == b"\xff\xd8":
        size = _jpeg_size(payload)
    else:
        return None
    if size is None or not (0 < size[0] <= _MAX_SIDE and 0 < size[1] <= _MAX_SIDE):
        return None
    return size


class _Base64Window:
    """Random access to the bytes of a base64 payload, decoding only the 4-character groups asked for."""

    __slots__ = ("_start", "_text")

    def __init__(self, text: str, start: int) -> None:
        self._text = text
        self._start = start

    def read(self, offset: int, size: int) -> bytes:
        first_group = offset // 3
        last_group = -(-(offset + size) // 3)
        chunk = self._text[self._start + 4 * first_group : self._start + 4 * last_group]
        try:
            raw = binascii.a2b_base64(chunk)
        except (binascii.Error, ValueError):  # bad padding, non-ASCII
            return b""
        skip = offset - 3 * first_group
        return raw[skip : skip + size]

    def bytes_available(self) -> int:
        return (len(self._text) - self._start) // 4 * 3


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        return _le(head[26:28]) & 0x3FFF, _le(head[28:30]) & 0x3FFF
    if chunk == b"VP8L" and head[20:21] == b"\x2f":
        bits = _le(head[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return _le(head[24:27]) + 1, _le(head[27:30]) + 1
    return None


def _jpeg_size(payload: _Base64Window) -> tuple[int, int] | None:
    end = payload.bytes_available()
    position = 2
    for _ in range(_JPEG_MAX_SEGMENTS):
        if position + 9 > end:
            return None
        header = payload.read(position, 9)
        if len(header) < 9 or header[0] != 0xFF:
            return None
        marker = header[1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
        elif marker in _JPEG_STANDALONE:
            position += 2
        elif marker in _JPEG_SOF:
            return _be(header[7:9]), _be(header[5:7])  # the frame header stores height, then width
        else:
            position += 2 + _be(header[2:4])
    return None


def _be(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _le(data: bytes) -> int:
    return int.from_bytes(data, "little")
