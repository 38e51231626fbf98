from __future__ import annotations

import asyncio

from gateway.inbound.response_writes import HeadWithBody


class RecordingTransport:
    """What reached the socket, one entry per system call the transport would make."""

    def __init__(self) -> None:
        self.calls: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.calls.append(data)

    def writelines(self, parts: tuple[bytes, ...]) -> None:
        self.calls.append(b"".join(parts))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"


async def test_a_whole_answer_goes_out_in_one_write() -> None:
    transport = RecordingTransport()
    writes = HeadWithBody(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
    writes.write(HEAD)
    assert transport.calls == []  # held for the body
    writes.write(b"hello")
    assert transport.calls == [HEAD + b"hello"]
    await asyncio.sleep(0)  # the turn ends: nothing more is written
    assert transport.calls == [HEAD + b"hello"]


async def test_a_head_whose_body_does_not_follow_goes_out_alone_at_the_end_of_the_turn() -> None:
    transport = RecordingTransport()
    writes = HeadWithBody(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
    writes.write(HEAD)
    await asyncio.sleep(0)
    assert transport.calls == [HEAD]
    writes.write(b"chunk 1")
    writes.write(b"chunk 2")
    assert transport.calls == [HEAD, b"chunk 1", b"chunk 2"]  # once the head is out, each write goes at once


async def test_closing_sends_a_held_head_first_and_the_rest_is_the_transports() -> None:
    transport = RecordingTransport()
    writes = HeadWithBody(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
    writes.write(HEAD)
    writes.close()
    assert (transport.calls, transport.closed, writes.is_closing()) == ([HEAD], True, True)
    await asyncio.sleep(0)
    assert transport.calls == [HEAD]  # not written twice
    assert writes.get_extra_info("peername") == "info:peername"


async def test_a_closed_transport_is_not_written_to_when_the_turn_ends() -> None:
    transport = RecordingTransport()
    writes = HeadWithBody(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
    writes.write(HEAD)
    transport.closed = True  # the connection went away meanwhile
    await asyncio.sleep(0)
    assert transport.calls == []
