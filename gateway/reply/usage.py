"""Token usage read from Azure's answers, for the routing log, without parsing whole bodies.

Image responses can be megabytes of base64: only the `usage` object is located and parsed.
"""

from __future__ import annotations

from typing import Any

import orjson

_MARKER = b'"usage":'
_TAIL_BYTES = 16_384


def extract_usage(body: bytes) -> dict[str, Any] | None:
    """The last `"usage": {...}` object in a JSON body or SSE stream, or None."""
    position = body.rfind(_MARKER)
    while position >= 0:
        start = position + len(_MARKER)
        while start < len(body) and body[start] in b" \t\r\n":
            start += 1
        if start < len(body) and body[start : start + 1] == b"{":
            end = _object_end(body, start)
            if end is not None:
                try:
                    found = orjson.loads(body[start:end])
                except orjson.JSONDecodeError:
                    return None
                return found if isinstance(found, dict) else None
        position = body.rfind(_MARKER, 0, position)  # a null usage (streams): look further back
    return None


def _object_end(body: bytes, start: int) -> int | None:
    depth = 0
    in_string = False
    escaped = False
    for index in range(start, len(body)):
        byte = body[index]
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte == 0x7B:
            depth += 1
        elif byte == 0x7D:
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def total_tokens(usage: dict[str, Any] | None) -> int | None:
    """What a request really used, from Azure's usage object (chat, embeddings, images, transcription)."""
    if not usage:
        return None
    total = usage.get("total_tokens")
    if isinstance(total, int):
        return total
    parts = [usage.get(name) for name in ("prompt_tokens", "completion_tokens", "input_tokens", "output_tokens")]
    counted = [part for part in parts if isinstance(part, int)]
    return sum(counted) if counted else None


class StreamUsage:
    """Keeps just enough of a stream's end to find its usage chunk, which Azure sends last."""

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        joined = self._tail + chunk if self._tail else chunk
        # Keep the tail only once a usage object may have begun; most chunks carry none.
        if _MARKER + b"{" in joined[-(len(chunk) + 16) :] or self._tail:
            self._tail = joined[-_TAIL_BYTES:]
        else:
            self._tail = joined[-16:]

    def usage(self) -> dict[str, Any] | None:
        return extract_usage(self._tail)
