"""The id of the response an answer from Azure's Responses API carries, so its home can be remembered.

A whole answer is the response object itself. A stream names it in its first event (`response.created`,
whose `response.id` is the first `"id"` in the stream), so only the stream's start is searched, and the
chunk holding the id is passed on only once the caller has remembered it: a client that reads the id and
at once asks for the response (retrieve, cancel, a follow-up) must find its home known.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson

# Azure's ids are "resp_" and letters or digits; anything up to the closing quote is taken as sent.
_STREAMED_ID = re.compile(rb'"id"[ \t]*:[ \t]*"(resp_[^"\\]{1,200})"')
# The `response.created` event is a few KiB at most: past this, the stream names no id worth waiting for.
_SEARCHED_BYTES = 64 * 1024


def whole_response_id(body: bytes) -> str | None:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    found = parsed.get("id") if isinstance(parsed, dict) else None
    return found if isinstance(found, str) and found.startswith("resp_") else None


async def remembering_stream(
    chunks: AsyncIterator[bytes], remember: Callable[[str], Awaitable[None]]
) -> AsyncIterator[bytes]:
    """`chunks` unchanged; `remember(id)` is awaited before the chunk completing the response's id is yielded."""
    seen: bytes | None = b""
    try:
        async for chunk in chunks:
            if seen is not None:
                seen += chunk
                found = _STREAMED_ID.search(seen)
                if found is not None:
                    await remember(found.group(1).decode())
                    seen = None
                elif len(seen) > _SEARCHED_BYTES:
                    seen = None
            yield chunk
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
