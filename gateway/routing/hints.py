"""The client's routing hints: X-Route-Latency, X-Route-Cost and X-Route-Task. Never forwarded upstream."""

from __future__ import annotations

from typing import Literal, cast

from starlette.datastructures import Headers

from gateway.errors import InvalidRequest
from gateway.frozen import frozen

TaskHint = Literal["code", "creative", "general"]

_ALLOWED = {
    "x-route-latency": ("low", "normal"),
    "x-route-cost": ("low", "normal"),
    "x-route-task": ("code", "creative", "general"),
}


@frozen
class RouteHints:
    latency: str = "unspecified"
    cost: str = "unspecified"
    task: TaskHint | None = None


def read_hints(headers: Headers) -> RouteHints:
    if not any(name in headers for name in _ALLOWED):
        return _NO_HINTS  # most requests: the same value every time
    values: dict[str, str | None] = {}
    for name, allowed in _ALLOWED.items():
        raw = headers.get(name)
        if raw is None:
            values[name] = None
            continue
        value = raw.strip().lower()
        if value not in allowed:
            raise InvalidRequest(
                f"Invalid {name} header value '{raw}': expected one of {', '.join(allowed)}.",
                param=name,
                code="invalid_header",
            )
        values[name] = value
    return RouteHints(
        latency=values["x-route-latency"] or "unspecified",
        cost=values["x-route-cost"] or "unspecified",
        task=cast("TaskHint | None", values["x-route-task"]),
    )


_NO_HINTS = RouteHints()
