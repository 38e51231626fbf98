"""Where each response lives: response id -> the id of the deployment ("resource/name") that made it.

Azure keeps a stored response for 30 days (shared/reference/azure-openai-wire.md §1.4), so a home is kept as
long. With Redis configured (rate_limits.redis_url), homes are shared by every replica; this process also keeps
what it wrote or read, so a follow-up on the same replica needs no round trip, and a Redis outage loses only
what other replicas learnt meanwhile. Without Redis, homes live in this process's memory, bounded: the oldest
are forgotten first.

Sharing must not fail a request: a failed write is logged (once per outage) and the home kept locally; a failed
read raises `HomesUnavailable`, so the caller can tell "not known" from "cannot look it up now".
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

AZURE_RETENTION_SECONDS = 30 * 24 * 3600
# About 150 bytes an entry: 100,000 homes hold ~15 MiB.
DEFAULT_MEMORY_ENTRIES = 100_000


class HomesUnavailable(Exception):
    """The shared store did not answer: a home may exist that this replica cannot see now."""


class ResponseHomes(Protocol):
    async def remember(self, response_id: str, deployment_id: str) -> None: ...

    async def home_of(self, response_id: str) -> str | None:
        """The deployment id that made the response; None when no home is known for it."""
        ...

    async def forget(self, response_id: str) -> None: ...

    async def aclose(self) -> None: ...


class MemoryHomes:
    def __init__(
        self,
        max_entries: int = DEFAULT_MEMORY_ENTRIES,
        lifetime_seconds: float = AZURE_RETENTION_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()  # id -> (deployment id, expires at)
        self._max_entries = max_entries
        self._lifetime = lifetime_seconds
        self._clock = clock

    def put(self, response_id: str, deployment_id: str) -> None:
        self._entries[response_id] = (deployment_id, self._clock() + self._lifetime)
        self._entries.move_to_end(response_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def get(self, response_id: str) -> str | None:
        entry = self._entries.get(response_id)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._entries[response_id]
            return None
        return entry[0]

    def drop(self, response_id: str) -> None:
        self._entries.pop(response_id, None)

    async def remember(self, response_id: str, deployment_id: str) -> None:
        self.put(response_id, deployment_id)

    async def home_of(self, response_id: str) -> str | None:
        return self.get(response_id)

    async def forget(self, response_id: str) -> None:
        self.drop(response_id)

    async def aclose(self) -> None:
        self._entries.clear()
