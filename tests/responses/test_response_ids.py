from __future__ import annotations

from collections.abc import AsyncIterator

from gateway.responses.response_ids import remembering_stream, whole_response_id


def test_a_whole_answer_names_its_id() -> None:
    assert whole_response_id(b'{"id": "resp_abc", "object": "response"}') == "resp_abc"
    assert whole_response_id(b'{"id": "chatcmpl-1"}') is None
    assert whole_response_id(b"[1, 2]") is None
    assert whole_response_id(b"not json") is None
    assert whole_response_id(b'{"id": 5}') is None


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_a_stream_is_passed_on_unchanged_and_its_id_remembered_before_the_chunk_completing_it() -> None:
    events: list[str] = []

    async def remember(response_id: str) -> None:
        events.append("remembered " + response_id)

    created = (
        b"event: response.created\n"
        b'data: {"type":"response.created","response":{"id":"resp_12ab","status":"in_progress"}}\n\n'
    )
    parts = (created[:60], created[60:], b'event: response.output_text.delta\ndata: {"id": "resp_other"}\n\n')
    passed = []
    async for chunk in remembering_stream(_chunks(*parts), remember):
        passed.append(chunk)
        events.append(f"chunk {len(passed)}")
    assert b"".join(passed) == b"".join(parts)
    # The id is split over two chunks: it is remembered before the second one reaches the client, and once.
    assert events == ["chunk 1", "remembered resp_12ab", "chunk 2", "chunk 3"]


async def test_a_stream_without_an_id_soon_is_not_searched_further() -> None:
    remembered: list[str] = []

    async def remember(response_id: str) -> None:
        remembered.append(response_id)

    filler = b"data: " + b"x" * (70 * 1024) + b"\n\n"
    late = b'data: {"response": {"id": "resp_late"}}\n\n'
    passed = [chunk async for chunk in remembering_stream(_chunks(filler, late), remember)]
    assert passed == [filler, late] and remembered == []


async def test_closing_the_stream_closes_the_upstream_one() -> None:
    closed = []

    async def upstream() -> AsyncIterator[bytes]:
        try:
            yield b'data: {"id":"resp_1"}\n\n'
            yield b"more"
        finally:
            closed.append(True)

    async def remember(response_id: str) -> None:
        pass

    stream = remembering_stream(upstream(), remember)
    assert await anext(stream) == b'data: {"id":"resp_1"}\n\n'
    await stream.aclose()  # type: ignore[attr-defined]
    assert closed == [True]
