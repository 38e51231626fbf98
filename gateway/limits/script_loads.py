"""Running a Lua script by its SHA, loading it once when Redis has lost it, however many calls notice at once.

redis-py's `Script.__call__` answers NOSCRIPT with its own `SCRIPT LOAD` in every call that got it: after a
Redis restart, a failover to a replica without the scripts, or a cold Cluster client, a burst of N requests
sends N loads (to every master, on a Cluster) before any of them is admitted. Here the first call to see
NOSCRIPT loads the script and the others wait for that one load, then all send their EVALSHA again. A
client's first call loads its script before any EVALSHA, so a cold client's first burst finds it loaded
rather than all of it answered NOSCRIPT (on a Cluster client the load would wait behind that burst).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError


class ScriptRunner:
    """EVALSHA through one client, with at most one `SCRIPT LOAD` of a script in flight."""

    def __init__(self, client: Redis | RedisCluster) -> None:
        self._client = client
        self._loading: dict[str, asyncio.Task[object]] = {}
        # Loads of each script that succeeded: a NOSCRIPT for an EVALSHA sent before the latest of them
        # needs no load of its own, just the EVALSHA again.
        self._loads: dict[str, int] = {}

    async def run(self, script: AsyncScript, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        loads_before = self._loads.get(script.sha, 0)
        if loads_before == 0:
            await self._load_since(script, loads_before)
            loads_before = self._loads.get(script.sha, 0)
        try:
            return await self._client.evalsha(script.sha, len(keys), *keys, *args)
        except NoScriptError:
            await self._load_since(script, loads_before)
            return await self._client.evalsha(script.sha, len(keys), *keys, *args)

    async def _load_since(self, script: AsyncScript, loads_before: int) -> None:
        """Load `script` unless a load succeeded after `loads_before`, or wait for the load under way.

        A failed load fails every waiter.
        """
        if self._loads.get(script.sha, 0) > loads_before:
            return
        task = self._loading.get(script.sha)
        if task is None:
            task = asyncio.ensure_future(self._client.script_load(script.script))
            self._loading[script.sha] = task
            task.add_done_callback(lambda done: self._load_ended(script.sha, done))
        # Shielded: one waiter's deadline cancels its wait, not the load the others wait for.
        await asyncio.shield(task)

    def _load_ended(self, sha: str, task: asyncio.Task[object]) -> None:
        del self._loading[sha]
        if not task.cancelled() and task.exception() is None:
            self._loads[sha] = self._loads.get(sha, 0) + 1
