"""Redis round trips, script calls and commands, read from redis-server's own counters around a measured run.

A round trip is one request the gateway writes and then waits for: one command, one script call, or one
whole pipeline. Redis counts these as read events on client sockets (`total_reads_processed`): a client
writes a pipeline at once and Redis reads it at once, so it counts once however many commands it holds.
A `SCRIPT EXISTS` redis-py may send before a pipeline holding Script objects would count as one more (the
limiter sends EVALSHA itself to avoid it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis

_SCRIPT_COMMANDS = ("evalsha", "eval", "evalsha_ro", "eval_ro")
_OWN_COMMAND = "info"


@dataclass(frozen=True)
class RedisTraffic:
    round_trips: int
    # Every command Redis ran by name ("evalsha", "script|exists"), those inside scripts included.
    commands: dict[str, int] = field(default_factory=dict)

    @property
    def script_calls(self) -> int:
        return sum(self.commands.get(name, 0) for name in _SCRIPT_COMMANDS)


class RedisCounters:
    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url)

    def read(self) -> RedisTraffic:
        info: dict[str, Any] = self._client.info("all")
        commands = {
            name.removeprefix("cmdstat_"): int(stats["calls"])
            for name, stats in info.items()
            if name.startswith("cmdstat_")
        }
        return RedisTraffic(int(info["total_reads_processed"]), commands)

    def since(self, before: RedisTraffic) -> RedisTraffic:
        """What other clients sent after `before` was read: this counter's own INFO call is taken off."""
        now = self.read()
        commands = {name: calls - before.commands.get(name, 0) for name, calls in now.commands.items()}
        commands[_OWN_COMMAND] = commands.get(_OWN_COMMAND, 0) - 1
        return RedisTraffic(now.round_trips - before.round_trips - 1, {k: v for k, v in commands.items() if v})

    def close(self) -> None:
        self._client.close()
