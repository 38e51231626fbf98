"""Read a request body without ever holding more than its limit in memory.

A client that hangs up part-way through is a `ClientDisconnected`: the request ends as a refusal of its own
(logged, nothing left reserved), not as an unexpected error with a traceback.
"""

from __future__ import annotations

from starlette.requests import Request

from gateway.errors import ClientDisconnected, InvalidRequest, PayloadTooLarge
from gateway.inbound.body_budget import BodyLease


async def read_body(request: Request, limit: int, room: BodyLease) -> bytes:
    """`room`: this request's share of the process's body budget, taken before the bytes are held."""
    declared = request.headers.get("content-length")
    if declared is not None:
        room.cover(_declared_length(declared, limit))
    chunks: list[bytes] = []
    size = 0
    # ASGI's messages read directly: Starlette's request.stream() is an async generator, a few microseconds
    # more for every request, and the body is read once, here.
    receive = request.receive
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.disconnect":
            raise ClientDisconnected(
                f"The client closed the connection after sending {size:,} bytes of its request body."
            )
        if kind != "http.request":
            continue
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:  # chunked uploads declare no length: count as they arrive
                raise _too_large(limit)
            room.cover(size)
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _declared_length(declared: str, limit: int) -> int:
    """The Content-Length, once it is known to be within `limit`."""
    # str.isdigit() also takes "²" and other digits int() refuses; only ASCII digits are a Content-Length.
    if not (declared.isascii() and declared.isdigit()):
        raise InvalidRequest("The Content-Length header is not a number.", code="invalid_content_length")
    digits = declared.lstrip("0")
    # Longer than the limit's digits is larger, and int() refuses over 4,300 digits: compare lengths first.
    if len(digits) > len(str(limit)) or int(digits or "0") > limit:
        raise _too_large(limit)
    return int(digits or "0")


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than this endpoint's limit of {limit:,} bytes.")
