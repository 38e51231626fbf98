"""One byte budget for the request bodies this process holds at once (`limits.buffered_bytes`).

Each request's body limit bounds one body; nothing bounded them together, so a few concurrent large
uploads could take the process's memory wherever they liked. A request now takes room in the budget before
it buffers its body (all of a declared Content-Length at once, a chunked upload as its chunks arrive) and
gives it back when it ends. A request that finds no room is refused with 503 and retry-after: the room
comes back as soon as the requests holding it end, so trying again shortly is the right answer.

The budget is never smaller than the largest body limit (the config checks it), so a body within its
limit always fits once the budget is empty: the refusal is never permanent.
"""

from __future__ import annotations

from types import TracebackType

from gateway.errors import ServerBusy


class BodyBudget:
    """Bytes of request bodies held at once. One per process: the event loop is its only user, so a lease
    takes and gives back room without a lock."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("a body budget needs room for at least one byte")
        self.capacity = capacity
        self._held = 0

    @property
    def held(self) -> int:
        """Bytes the live leases hold."""
        return self._held

    def lease(self) -> BodyLease:
        """An empty lease for one request's body; it holds nothing until `cover` is called."""
        return BodyLease(self)

    def _take(self, size: int) -> None:
        if self._held + size > self.capacity:
            raise ServerBusy("The gateway is holding as many request bodies as it can at once; try again shortly.")
        self._held += size

    def _give_back(self, size: int) -> None:
        self._held -= size


class BodyLease:
    """The room one request's body holds. `cover` grows it as the body becomes known, `release` gives all of
    it back; both are safe to call again (release after release does nothing)."""

    def __init__(self, budget: BodyBudget) -> None:
        self._budget = budget
        self._held = 0
        self._released = False

    @property
    def held(self) -> int:
        return self._held

    def cover(self, size: int) -> None:
        """Hold room for `size` bytes of body in all: a declared Content-Length before reading, or the running
        total of a chunked upload after each chunk. Raises ServerBusy, holding no more than before, when the
        budget lacks the difference."""
        if self._released:
            raise RuntimeError("a released body lease cannot cover more bytes")
        more = size - self._held
        if more > 0:
            self._budget._take(more)
            self._held = size

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._budget._give_back(self._held)
            self._held = 0

    def __enter__(self) -> BodyLease:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()
