"""How many realtime sessions each client key holds open, to cap them (`realtime.max_sessions_per_key`).

Counted in this process only: the cap is per replica. A session is long and holds two sockets, so the
cap guards this replica's capacity; the key's token and request budgets are what is shared.
"""

from __future__ import annotations

from gateway.errors import TooManySessions


class SessionSlots:
    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def take(self, key_id: str, limit: int | None) -> None:
        """Count one more session for `key_id`; raises TooManySessions when it already holds `limit`."""
        held = self._open.get(key_id, 0)
        if limit is not None and held >= limit:
            raise TooManySessions(
                f"Too many realtime sessions: this key already holds {held} of the {limit} allowed at once "
                "(on this gateway replica). Close one and try again."
            )
        self._open[key_id] = held + 1

    def release(self, key_id: str) -> None:
        left = self._open.get(key_id, 0) - 1
        if left > 0:
            self._open[key_id] = left
        else:
            self._open.pop(key_id, None)

    def held(self, key_id: str) -> int:
        return self._open.get(key_id, 0)
