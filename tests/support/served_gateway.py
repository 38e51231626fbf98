"""A `gateway serve` subprocess in a test, and what it has written to stderr so far, read as it comes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


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
