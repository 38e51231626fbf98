"""A response's status line and headers sent in one system call with its first body bytes.

uvicorn writes an answer's head as soon as the application starts the response and its body when that
follows: two `send` system calls on the socket for every whole answer, uvicorn's largest cost in the
gateway's profile. `HeadWithBody` stands in for the transport of one response: it keeps the head and
writes it with the first body write (one `writelines`); every later write passes straight through. A head
whose body does not follow within the same turn of the event loop (a stream still waiting for its first
chunk) is written on its own at the end of that turn, so nothing waits on it.
"""

from __future__ import annotations

import asyncio
from typing import Any


class HeadWithBody:
    __slots__ = ("_head", "_loop", "_passing", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None
        self._passing = False  # the head went out: every write now goes straight to the transport

    def write(self, data: bytes) -> None:
        if self._passing:
            self._transport.write(data)
        elif self._head is None:
            self._head = data
            self._loop.call_soon(self._release)
        else:
            head, self._head, self._passing = self._head, None, True
            self._transport.writelines((head, data))

    def close(self) -> None:
        self._release()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def _release(self) -> None:
        """The head on its own, when no body followed it in the turn it was written in."""
        if self._head is not None:
            head, self._head, self._passing = self._head, None, True
            if not self._transport.is_closing():
                self._transport.write(head)
