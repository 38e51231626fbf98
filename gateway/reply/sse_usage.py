"""Usage chunks in SSE streams: removed on the way back for clients that did not ask for one.

The gateway asks Azure for every text stream's usage chunk (upstream/outbound.py); a client that did not
ask for that chunk must not receive it, since it has no choices and clients that read `choices[0]` break
on it.
"""

from __future__ import annotations

from typing import Any

from gateway.reply.usage import extract_usage

_USAGE_OBJECT = b'"usage":{'
_NO_CHOICES = b'"choices":[]'


class UsageChunkStripper:
    """Passes SSE events through as they complete, holding back the usage-only event and keeping its usage."""

    def __init__(self) -> None:
        self._pending = b""
        self.usage: dict[str, Any] | None = None

    def feed(self, chunk: bytes) -> bytes:
        data = self._pending + chunk if self._pending else chunk
        end = data.rfind(b"\n\n")
        if end < 0:
            self._pending = data
            return b""
        complete, self._pending = data[: end + 2], data[end + 2 :]
        if _USAGE_OBJECT not in complete:
            return complete  # the common case: no event to drop, nothing to copy
        kept = []
        for event in complete.split(b"\n\n")[:-1]:
            if _USAGE_OBJECT in event and _NO_CHOICES in event:
                self.usage = extract_usage(event) or self.usage
                continue
            kept.append(event + b"\n\n")
        return b"".join(kept)

    def flush(self) -> bytes:
        rest, self._pending = self._pending, b""
        return rest
