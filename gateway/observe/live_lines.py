"""The routing log's recent lines, kept in memory, and each new line handed to whoever watches it live.

One per gateway process (each replica and worker keeps its own). Writing a line costs one append to a
bounded ring when nobody watches, and one more append per watcher when some do: the request that wrote it
never waits for a watcher. A watcher that falls behind (its client reads slowly) holds at most as many
pending lines as the ring; past that its oldest pending lines are dropped and counted, so memory stays
bounded and the watcher still sees the newest lines.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Batch:
    """What a watcher takes at once: `dropped` lines were lost just before `lines` (it fell behind)."""

    lines: list[bytes]
    dropped: int


class LineWatcher:
    """One watcher's pending lines: the ring's lines when it started watching, then each new one."""

    def __init__(self, recent: Iterable[bytes], limit: int) -> None:
        self._pending: deque[bytes] = deque(recent)
        self._limit = limit
        self._dropped = 0
        self._arrived = asyncio.Event()
        self.closed = False

    def offer(self, line: bytes) -> None:
        if len(self._pending) >= self._limit:
            self._pending.popleft()
            self._dropped += 1
        self._pending.append(line)
        self._arrived.set()

    def close(self) -> None:
        self.closed = True
        self._arrived.set()

    async def take(self, wait_seconds: float) -> Batch:
        """Every pending line, as soon as there is one, or an empty batch after `wait_seconds` without any
        (or once the feed is closed)."""
        if not self._pending and not self._dropped and not self.closed:
            self._arrived.clear()
            try:
                async with asyncio.timeout(wait_seconds):
                    await self._arrived.wait()
            except TimeoutError:
                pass
        batch = Batch(list(self._pending), self._dropped)
        self._pending.clear()
        self._dropped = 0
        return batch


class LiveLines:
    def __init__(self, size: int) -> None:
        """`size`: the lines the ring keeps, and the most a watcher may have pending."""
        self._ring: deque[bytes] = deque(maxlen=size)
        self._size = size
        self._watchers: list[LineWatcher] = []

    @property
    def recent(self) -> list[bytes]:
        return list(self._ring)

    @property
    def watching(self) -> int:
        return len(self._watchers)

    def add(self, line: bytes) -> None:
        self._ring.append(line)
        for watcher in self._watchers:
            watcher.offer(line)

    @contextmanager
    def watch(self) -> Iterator[LineWatcher]:
        """A watcher for as long as the block runs: first the ring's lines, then each new one."""
        watcher = LineWatcher(self._ring, self._size)
        self._watchers.append(watcher)
        try:
            yield watcher
        finally:
            self._watchers.remove(watcher)

    def close(self) -> None:
        """The gateway is stopping: every watcher takes what it has pending, then ends."""
        for watcher in self._watchers:
            watcher.close()
