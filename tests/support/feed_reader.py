"""Reading GET /gateway/feed (server-sent events) as a client does, one event at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson


@dataclass(frozen=True)
class FeedEvent:
    """`kind`: "comment" (`: ...`), "message" (a routing-log line) or the `event:` field's name."""

    kind: str
    data: bytes

    @classmethod
    def parse(cls, raw: bytes) -> FeedEvent:
        if raw.startswith(b":"):
            return cls("comment", raw[1:].strip())
        kind, data = "message", []
        for field in raw.split(b"\n"):
            name, _, value = field.partition(b": ")
            if name == b"event":
                kind = value.decode()
            elif name == b"data":
                data.append(value)
            else:
                raise AssertionError(f"unexpected field in an event: {raw!r}")
        return cls(kind, b"\n".join(data))

    def line(self) -> dict[str, Any]:
        assert self.kind == "message", self
        parsed: dict[str, Any] = orjson.loads(self.data)
        return parsed


def _split(buffer: bytearray) -> Iterator[bytes]:
    while (end := buffer.find(b"\n\n")) >= 0:
        raw = bytes(buffer[:end])
        del buffer[: end + 2]
        yield raw


class AsyncFeedReader:
    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200, response.status_code
        assert response.headers["content-type"].startswith("text/event-stream")
        self._chunks: AsyncIterator[bytes] = response.aiter_raw()
        self._buffer = bytearray()
        self._ready: list[bytes] = []
        self.raw = bytearray()  # every byte read, for tests that look for what must never be sent

    async def event(self) -> FeedEvent:
        while not self._ready:
            chunk = await anext(self._chunks)
            self.raw += chunk
            self._buffer += chunk
            self._ready.extend(_split(self._buffer))
        return FeedEvent.parse(self._ready.pop(0))

    async def line(self) -> dict[str, Any]:
        """The next routing-log line, past comments."""
        while (event := await self.event()).kind == "comment":
            pass
        return event.line()


class FeedReader:
    """AsyncFeedReader, for a test that reads from its own thread (the gateway served from another)."""

    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200, response.status_code
        assert response.headers["content-type"].startswith("text/event-stream")
        self._chunks: Iterator[bytes] = response.iter_raw()
        self._buffer = bytearray()
        self._ready: list[bytes] = []
        self.raw = bytearray()

    def event(self) -> FeedEvent:
        while not self._ready:
            chunk = next(self._chunks)
            self.raw += chunk
            self._buffer += chunk
            self._ready.extend(_split(self._buffer))
        return FeedEvent.parse(self._ready.pop(0))

    def line_of(self, request_id: str) -> dict[str, Any]:
        """The routing-log line of `request_id`, reading past every event before it."""
        while True:
            event = self.event()
            if event.kind == "message" and (line := event.line())["request_id"] == request_id:
                return line
