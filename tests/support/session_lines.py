"""A realtime session's routing-log line, read from the log file once the gateway has written it whole."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson


def session_line(routing_log: Path, request_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """The line of `request_id`, written when the session is over (after Azure's side was closed).

    A gateway's own `log_line` would do, but it parses a line the gateway is still writing too; a session's line
    is often read the moment it is written, so only complete lines count here. The file has no change
    notification to await: it is read until the line is there.
    """
    deadline = time.monotonic() + timeout
    while True:
        complete = routing_log.read_bytes().rpartition(b"\n")[0]
        found = [line for line in map(orjson.loads, complete.splitlines()) if line["request_id"] == request_id]
        if found:
            return dict(found[-1])
        if time.monotonic() > deadline:
            raise AssertionError(f"no routing-log line for session {request_id} after {timeout} s")
        time.sleep(0.01)
