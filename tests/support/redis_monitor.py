"""What a Redis server was asked to do, read with MONITOR: for tests that count round trips."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import redis.asyncio as aioredis

_END_MARK = "end of call"
_END_COMMAND = f"ECHO {_END_MARK}"  # as MONITOR shows it


async def commands_sent(redis_url: str, call: Awaitable[object]) -> list[str]:
    """The names of the commands clients sent while `call` ran, in order; commands that scripts ran are left
    out (MONITOR shows them too, as sent by a "lua" client)."""
    async with (
        aioredis.Redis.from_url(redis_url, decode_responses=True) as watcher,
        aioredis.Redis.from_url(redis_url, decode_responses=True) as marker,
    ):
        await marker.ping()  # connected before MONITOR starts, so its handshake is not seen
        async with watcher.monitor() as monitor:
            await call
            await marker.echo(_END_MARK)  # MONITOR shows it after everything the call sent
            sent: list[str] = []
            while (command := await asyncio.wait_for(monitor.next_command(), 5))["command"] != _END_COMMAND:
                if command["client_type"] != "lua":
                    sent.append(command["command"].split()[0])
            return sent
