"""GET /gateway/feed: this process's routing-log lines, live, as server-sent events, for operators.

An admin key (inbound/admin_auth.py) in the headers only, `Authorization: Bearer` or `api-key`: never in
the URL, which proxies and access logs keep. A browser reads the feed with fetch() and a streamed body,
since EventSource cannot send headers.

The stream opens with a comment, then sends the lines the process keeps (admin.feed.recent_lines), then
each new line as it is written: one event per line, `data: <the JSON line>`, the very bytes the routing
log has (which never hold a key). A client that reads too slowly loses its oldest pending lines and is told
how many by `event: dropped` with `data: {"dropped": N}`. On a quiet feed a comment every
admin.feed.keep_alive_seconds keeps proxies from closing the connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.errors import GatewayError
from gateway.observe.live_lines import Batch, LiveLines
from gateway.reply.headers import error_response, gateway_headers
from gateway.services import Services

OPENED = b": the routing log of this gateway process\n\n"
KEEP_ALIVE = b": keep-alive\n\n"


async def feed(request: Request) -> Response:
    services: Services = request.app.state.services
    headers = gateway_headers(request.state.request_id)
    try:
        services.admin_keys.authenticate(request.headers)
    except GatewayError as error:
        return error_response(error, headers)
    return StreamingResponse(
        events(services.routing_log.live, services.config.admin.feed.keep_alive_seconds),
        media_type="text/event-stream",
        # nginx buffers a proxied response unless told not to: the feed would arrive in bursts.
        headers={**headers, "cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def events(live: LiveLines, keep_alive_seconds: float) -> AsyncIterator[bytes]:
    """The feed's bytes, until the client leaves (Starlette then cancels this) or the gateway stops."""
    with live.watch() as watcher:
        yield OPENED  # the watcher exists from here on: every line written later reaches this client
        while True:
            batch = await watcher.take(keep_alive_seconds)
            if batch.lines or batch.dropped:
                yield encoded(batch)
            elif watcher.closed:
                return
            else:
                yield KEEP_ALIVE


def encoded(batch: Batch) -> bytes:
    # orjson never writes a raw newline, so each line is one `data:` field.
    events = [b"data: " + line + b"\n\n" for line in batch.lines]
    if batch.dropped:
        events.insert(0, b"event: dropped\ndata: " + orjson.dumps({"dropped": batch.dropped}) + b"\n\n")
    return b"".join(events)
