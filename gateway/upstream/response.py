"""Azure's answer as the upstream client hands it over: its status and headers in, its body still to read.

Only what the gateway uses of aiohttp's response, so that aiohttp stays inside gateway/upstream: the
status, the headers, the body whole or chunk by chunk as it arrives, and giving the connection back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from multidict import CIMultiDictProxy

# What reading Azure's body can raise: aiohttp wraps a reset or closed socket, a cut or malformed body and a
# read timeout (a SocketTimeoutError, also a TimeoutError) in ClientError. Some are OSErrors too
# (ClientOSError): a caller that also handles its own client's socket failing catches this first.
UpstreamReadFailure = aiohttp.ClientError


class UpstreamResponse:
    __slots__ = ("_response", "headers", "raw_headers", "status_code")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code: int = response.status
        # Case-insensitive; `items()` gives every pair, a repeated header's each value.
        self.headers: CIMultiDictProxy[str] = response.headers
        # The same headers as Azure sent their bytes, names in its case.
        self.raw_headers: tuple[tuple[bytes, bytes], ...] = response.raw_headers

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body's chunks as they arrive, decoded when Azure compressed it (Content-Encoding)."""
        return self._response.content.iter_any()

    async def aread(self) -> bytes:
        """The whole body, decoded; the connection goes back to the pool."""
        return await self._response.read()

    async def aclose(self) -> None:
        """Done with the answer: its connection goes back to the pool when the body was read to its end,
        and is closed otherwise, which tells Azure to stop (a stream the client left, a capped error body)."""
        self._response.release()
