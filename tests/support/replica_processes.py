"""Gateway replicas in processes of their own (tests/support/replica.py), for tests of what replicas share."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from tests.support.replica import READY

REPO_ROOT = Path(__file__).resolve().parents[2]
# Only a safety net for a replica that never starts: importing and loading the model table takes seconds.
STARTUP_SECONDS = 60.0


@asynccontextmanager
async def replica_processes(
    config: Path, count: int, environ: Mapping[str, str], *, clock_scale: float = 1.0
) -> AsyncIterator[list[str]]:
    """`count` replicas serving `config`, their budgets' clocks `clock_scale` times as fast as the wall clock
    from one shared start; yields their base URLs (`.../v1`) once all are ready, and stops them after."""
    env = {**os.environ, **environ}
    argv = ["-m", "tests.support.replica", str(config), "--clock-epoch", str(time.time())]
    argv += ["--clock-scale", str(clock_scale)]
    pipes = {"stdin": asyncio.subprocess.PIPE, "stdout": asyncio.subprocess.PIPE}
    processes = [
        await asyncio.create_subprocess_exec(sys.executable, *argv, **pipes, env=env, cwd=REPO_ROOT)
        for _ in range(count)
    ]
    try:
        yield [await asyncio.wait_for(_ready_url(process), STARTUP_SECONDS) for process in processes]
    finally:
        for process in processes:
            assert process.stdin is not None
            process.stdin.close()  # the replica's signal to stop
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _ready_url(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = (await process.stdout.readline()).decode().split()
    if len(line) != 2 or line[0] != READY:
        raise RuntimeError(f"a replica did not start (exit code {await process.wait()})")
    return f"{line[1]}/v1"
