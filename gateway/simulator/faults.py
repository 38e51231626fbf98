"""Faults that tests inject through the control API, and the registry that matches them to requests.

A fault applies to requests for its deployment (None: any) whose raw body contains `match_body`
(None: any), for `times` requests (-1: forever). Faults are tried in insertion order; the first
match with requests left wins. Timing and connection faults combine with either the normal
response or the error a `status` asks for.

Faults are consulted only for requests Azure would process: after authentication, routing and the
deployment/operation check, so a fault never hides a 401 or a DeploymentNotFound. A hold waits
until released or until faults are cleared, even if its client has gone away.

Realtime WebSocket sessions are matched once, at the handshake, with an empty body (so a fault with
`match_body` never applies to them). There a "chunk" is a server event: `status` refuses the
handshake, `drop_connection` alone drops it unanswered, `cut_after_chunks` ends the session after
that many events (abort with `drop_connection`, else a close frame with `close_code`, default 1011,
and `close_reason`), `delay_ms` delays every event, and `hold` waits after the first. HTTP ignores
`close_code` and `close_reason`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from gateway.simulator.holds import Holds


@dataclass(frozen=True, slots=True)
class Fault:
    deployment: str | None = None
    match_body: str | None = None
    status: int | None = None
    # A None value removes a header the simulator would otherwise send (e.g. a 429's retry-after).
    headers: Mapping[str, str | None] = field(default_factory=dict)
    body: Any = None
    delay_ms: int = 0
    stall_before_first_chunk_ms: int = 0
    cut_after_chunks: int | None = None
    drop_connection: bool = False
    hold: str | None = None
    close_code: int | None = None
    close_reason: str | None = None

    def splits_body(self) -> bool:
        """Whether a one-piece body must be sent as two pieces for this fault to be observable."""
        return self.hold is not None or self.cut_after_chunks is not None


_FIELDS = frozenset(Fault.__dataclass_fields__) | {"times"}


def parse_fault(data: Any) -> tuple[Fault, int]:
    """Validate a control-API fault document; raises ValueError with a message for the test author."""
    if not isinstance(data, dict):
        raise ValueError("a fault must be a JSON object")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
    times = _int(data, "times", 1, minimum=-1)
    if times == 0:
        raise ValueError("times must be -1 (forever) or at least 1")
    status = _optional(data, "status", int)
    if status is not None and not 200 <= status <= 599:
        raise ValueError("status must be between 200 and 599")
    if data.get("body") is not None and status is None:
        raise ValueError("body needs a status")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in headers.items()
    ):
        raise ValueError("headers must map names to strings (or null to remove one)")
    drop = data.get("drop_connection", False)
    if not isinstance(drop, bool):
        raise ValueError("drop_connection must be a boolean")
    close_code, close_reason = _close(data, drop)
    fault = Fault(
        deployment=_optional(data, "deployment", str),
        match_body=_optional(data, "match_body", str),
        status=status,
        headers={k.lower(): v for k, v in headers.items()},
        body=data.get("body"),
        delay_ms=_int(data, "delay_ms", 0, minimum=0),
        stall_before_first_chunk_ms=_int(data, "stall_before_first_chunk_ms", 0, minimum=0),
        cut_after_chunks=_optional(data, "cut_after_chunks", int, minimum=0),
        drop_connection=drop,
        hold=_optional(data, "hold", str),
        close_code=close_code,
        close_reason=close_reason,
    )
    if close_code is not None and fault.cut_after_chunks is None:
        raise ValueError("close_code needs cut_after_chunks (how many events to send before closing)")
    return fault, times


def _close(data: dict[str, Any], drop: bool) -> tuple[int | None, str | None]:
    code: int | None = _optional(data, "close_code", int)
    reason: str | None = _optional(data, "close_reason", str)
    if code is not None and not (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999):
        # 1004-1006 and 1015 are reserved: a close frame may not carry them (RFC 6455 section 7.4.1).
        raise ValueError("close_code must be one a close frame may carry: 1000-1003, 1007-1014 or 3000-4999")
    if reason is not None and code is None:
        raise ValueError("close_reason needs a close_code")
    if reason is not None and len(reason.encode()) > 123:
        raise ValueError("close_reason must fit a close frame: at most 123 bytes of UTF-8")
    if code is not None and drop:
        raise ValueError("close_code and drop_connection exclude each other: a dropped connection sends no close frame")
    return code, reason


def _optional(data: dict[str, Any], name: str, kind: type, minimum: int | None = None) -> Any:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{name} must be a {kind.__name__} or null")
    if minimum is not None and isinstance(value, int) and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}")
    return value


def _int(data: dict[str, Any], name: str, default: int, minimum: int) -> int:
    value: int | None = _optional(data, name, int, minimum)
    return default if value is None else value


@dataclass(slots=True)
class _Entry:
    id: str
    fault: Fault
    remaining: int  # -1: forever
    needle: bytes | None


class FaultRegistry:
    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._ids = itertools.count(1)
        self.holds = Holds()

    def add(self, fault: Fault, times: int) -> str:
        entry_id = f"fault-{next(self._ids)}"
        needle = fault.match_body.encode() if fault.match_body is not None else None
        self._entries.append(_Entry(entry_id, fault, times, needle))
        return entry_id

    def match(self, deployment: str | None, body: bytes) -> Fault | None:
        for entry in self._entries:
            fault = entry.fault
            if fault.deployment is not None and fault.deployment != deployment:
                continue
            if entry.needle is not None and entry.needle not in body:
                continue
            if entry.remaining > 0:
                entry.remaining -= 1
                if entry.remaining == 0:
                    self._entries.remove(entry)
            return fault
        return None

    def clear(self) -> None:
        self._entries = []
        self.holds.clear()

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"id": e.id, "times_left": e.remaining, **asdict(e.fault), "headers": dict(e.fault.headers)}
            for e in self._entries
        ]
