"""The routing-log lines of a running gateway, read from its live feed (GET /gateway/feed, server-sent events).

The feed sends each line as one `data:` event; comments (`:`, keep-alives) carry nothing, and `event: dropped`
says how many lines a slow reader missed, which `on_dropped` is told. The admin key comes from the
environment, never the command line (where `ps` shows it to everyone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import orjson

ADMIN_KEY_VARIABLE = "GATEWAY_ADMIN_KEY"
FEED_PATH = "/gateway/feed"


class FeedRefused(Exception):
    """The gateway answered the feed request with an error status: the message says what it said."""


def feed_lines(base_url: str, admin_key: str | None, on_dropped: Callable[[int], None]) -> Iterator[bytes]:
    """Every line the feed sends, until it ends (or the caller stops reading)."""
    headers = {"authorization": f"Bearer {admin_key}"} if admin_key else {}
    url = base_url.rstrip("/") + FEED_PATH
    # No read timeout: a quiet feed sends a keep-alive comment every 15 s, and the reader waits for lines.
    with httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(10.0, read=None)) as response:
        if response.status_code != 200:
            message = _error_message(response.read())
            raise FeedRefused(f"{url} answered {response.status_code}: {message}")
        kind, data = "message", b""
        for line in response.iter_lines():
            if not line:  # an event ends at a blank line
                if kind == "message" and data:
                    yield data + b"\n"  # as the log file holds it (--json passes lines on byte for byte)
                elif kind == "dropped" and data:
                    on_dropped(_dropped_count(data))
                kind, data = "message", b""
            elif line.startswith(":"):
                continue
            elif line.startswith("event:"):
                kind = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data = line[len("data:") :].lstrip(" ").encode()


def _error_message(body: bytes) -> str:
    try:
        error = orjson.loads(body)["error"]["message"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return body[:200].decode(errors="replace")
    return str(error)


def _dropped_count(data: bytes) -> int:
    try:
        count = orjson.loads(data).get("dropped")
    except (orjson.JSONDecodeError, AttributeError):
        return 0
    return count if isinstance(count, int) else 0
