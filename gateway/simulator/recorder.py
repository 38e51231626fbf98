"""The log of requests that reached the simulated Azure, for tests to inspect.

A realtime session is one record, made at its handshake and kept up to date while it runs: it adds
`protocol` ("ga" or "beta"), `client_events`, `server_events` and `client_close` (see realtime_link.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

MAX_RECORDS = 1000


class RequestLog:
    def __init__(self, limit: int = MAX_RECORDS) -> None:
        self._records: deque[dict[str, Any]] = deque(maxlen=limit)

    def add(self, record: dict[str, Any]) -> None:
        self._records.append(record)

    def snapshot(self) -> list[dict[str, Any]]:
        return list(self._records)

    def clear(self) -> None:
        self._records.clear()


def make_record(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    raw_headers: Iterable[tuple[bytes, bytes]],
    deployment: str | None,
    operation: str | None,
    body_size: int,
    json: Any,
    form: dict[str, Any] | None,
) -> dict[str, Any]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in raw_headers:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return {
        "method": method,
        "path": path,
        "query": dict(query),
        "headers": headers,
        "deployment": deployment,
        "operation": operation,
        "body_size": body_size,
        "json": json,
        "form": form,
    }
