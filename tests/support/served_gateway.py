"""A `gateway serve` subprocess in a test, and what it has written to stderr so far, read as it comes."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ServedProcess:
    process: asyncio.subprocess.Process
    port: int
    stderr: list[str] = field(default_factory=list)
    _news: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def read_stderr(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            async with self._news:
                self.stderr.append(line.decode(errors="replace"))
                self._news.notify_all()

    async def said(self, text: str, times: int = 1) -> list[str]:
        """The lines containing `text`, once the gateway has logged `times` of them."""

        def found() -> list[str]:
            return [line for line in self.stderr if text in line]

        async with self._news:
            await self._news.wait_for(lambda: len(found()) >= times)
        return found()


@asynccontextmanager
async def reading_stderr(served: ServedProcess) -> AsyncIterator[None]:
    """Reads `served`'s stderr while the block runs; then kills the process if it still runs."""
    reading = asyncio.create_task(served.read_stderr())
    try:
        yield
    finally:
        if served.process.returncode is None:
            served.process.kill()
            await served.process.wait()
        await reading


async def start_gateway_serve(
    config: Path, port: int, environ: Mapping[str, str], *extra: str
) -> asyncio.subprocess.Process:
    """`gateway serve --config config` on 127.0.0.1:`port` in a process of its own, as operators run it: this
    process's environment without its AZURE_/GATEWAY_ variables, plus `environ`; stderr piped (`ServedProcess`)."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("AZURE_", "GATEWAY_"))}
    argv = ["serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port), *extra]
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "gateway", *argv),
        env={**inherited, **environ},
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
