"""Reading Azure's answer once its headers are in: an error status becomes an UpstreamError; a body is
read whole, or left to stream (SSE, and binary audio from text-to-speech)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from gateway.errors import FirstChunkTimeout, UpstreamError, UpstreamUnreachable
from gateway.upstream.client import transport_failure
from gateway.upstream.headers import inbound_response_headers
from gateway.upstream.response import UpstreamReadFailure, UpstreamResponse

_STREAMED_CONTENT_TYPES = ("text/event-stream", "audio/", "application/octet-stream")
_MAX_ERROR_BODY = 1024 * 1024


def is_streamed(response: UpstreamResponse) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith(_STREAMED_CONTENT_TYPES)


async def raise_for_error(response: UpstreamResponse, deployment_id: str) -> None:
    """An error status: read (at most 1 MiB of) its body, close the response, and raise it as Azure sent it."""
    if response.status_code < 400:
        return
    try:
        raw = await _read_capped(response)
    except UpstreamReadFailure as exc:
        raise transport_failure(exc, deployment_id) from None
    finally:
        await response.aclose()
    # Only the headers a client may see (retry-after, x-ratelimit-*, ...), never framing ones; named in lower
    # case, as the error's readers look them up (aiohttp keeps Azure's own case).
    passed_on = {name.lower(): _as_sent(value) for name, value in inbound_response_headers(response.headers.items())}
    raise UpstreamError(response.status_code, raw, passed_on)


def _as_sent(value: str) -> str:
    """`value` such that its Latin-1 encoding, how an error response writes its headers, is the bytes Azure
    sent: aiohttp decodes them as UTF-8, and keeps any other byte as a surrogate."""
    return value if value.isascii() else value.encode("utf-8", "surrogateescape").decode("latin-1")


async def read_whole(response: UpstreamResponse, deployment_id: str) -> bytes:
    try:
        return await response.aread()
    except UpstreamReadFailure as exc:
        raise transport_failure(exc, deployment_id) from None
    finally:
        await response.aclose()


async def first_chunk(response: UpstreamResponse, deployment_id: str, within_s: float) -> AsyncIterator[bytes]:
    """The stream's chunks, its first one already read within `within_s` seconds: until then nothing has
    reached the client, so a stalled or empty stream can still go elsewhere."""
    chunks = response.aiter_bytes()
    try:
        # asyncio.timeout, not wait_for: no extra task per stream on the way to the first byte.
        async with asyncio.timeout(max(0.001, within_s)):
            first = await anext(chunks)
    # Before TimeoutError: a read timeout of the upstream client is one too, and is not this wait's.
    except UpstreamReadFailure as exc:
        await response.aclose()
        raise transport_failure(exc, deployment_id) from None
    except TimeoutError:
        await response.aclose()
        raise FirstChunkTimeout(
            f"Azure deployment {deployment_id} sent no first chunk within {within_s:.3g} s."
        ) from None
    except StopAsyncIteration:
        await response.aclose()
        raise UpstreamUnreachable(f"Azure deployment {deployment_id} ended the stream before any data.") from None
    return _prepend(first, chunks)


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def _read_capped(response: UpstreamResponse) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= _MAX_ERROR_BODY:
            break
    return bytes(body)
