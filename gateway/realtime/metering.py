"""Token accounting for a realtime session, against the budgets HTTP requests use.

The session itself was admitted as one request of 0 tokens (handshake.py). Then:

    client response.create   reserve its estimate first: the response's own output cap, else
                             rate_limits.default_max_tokens. No room: the event is not forwarded, the
                             client gets an `error` event and the session is closed with 1008.
    Azure response.created   the oldest reservation's response has started.
    Azure response.done      settles the oldest reservation with the response's total_tokens; one that
                             nobody reserved for (Azure's own voice-activity turns) is charged at once.
    Azure error              naming a reserved response.create by its event_id: that response never
                             started, its reservation is refunded.
    session end              reservations whose response started keep their estimate (Azure bills what
                             it generated); the rest are refunded.

Only frames that may be one of these events are parsed, so audio frames cost a substring search.
"""

from __future__ import annotations

import math
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.errors import GatewayError, RateLimited
from gateway.limits.admission import Admission, Admitted
from gateway.upstream.deployments import Deployment

# Any JSON spelling of "response.create" either contains it or uses an escape, which starts with a backslash.
_CLIENT_MARKERS = ("response.create", "\\")
# Azure writes event types plainly.
_AZURE_MARKERS = ("response.created", "response.done", '"error"')
_USAGE_FIELDS = ("input_tokens", "output_tokens", "total_tokens")


@dataclass(slots=True)
class _Reservation:
    admitted: Admitted
    event_id: str | None  # the client's event_id for its response.create, when it set one
    started: bool = False


@dataclass(frozen=True, slots=True)
class Refused:
    """A response.create the budgets have no room for."""

    event: str  # the `error` event for the client, as JSON text
    reason: str  # the close frame's reason
    error: str | None  # the error code, for the routing log


class SessionMeter:
    def __init__(self, admission: Admission, key_id: str, model: str, deployment: Deployment) -> None:
        self._admission = admission
        self._key_id = key_id
        self._model = model
        self._deployment = deployment
        self._open: deque[_Reservation] = deque()
        self.responses = 0
        # Summed over the responses' response.done, details included (what the session's cost is priced from).
        self.usage: dict[str, Any] = dict.fromkeys(_USAGE_FIELDS, 0)
        self.notes: list[str] = []

    async def check_client_text(self, text: str) -> Refused | None:
        """Before a client frame goes to Azure: a response.create first reserves its tokens."""
        event = _parsed(text, _CLIENT_MARKERS)
        if event is None or event.get("type") != "response.create":
            return None
        estimate = self._admission.estimate(0, _output_cap(event), True)
        try:
            admitted = await self._admission.admit(self._key_id, self._model, [self._deployment], estimate, wait=False)
        except GatewayError as refused:  # RateLimited, or LimitsUnavailable when Redis is down and fail-closed
            return _refusal(refused, _event_id(event))
        self._open.append(_Reservation(admitted, _event_id(event)))
        return None

    async def observe_azure_text(self, text: str) -> None:
        """Before an Azure frame goes to the client, so a response is charged even if the client is gone."""
        event = _parsed(text, _AZURE_MARKERS)
        if event is None:
            return
        kind = event.get("type")
        if kind == "response.created":
            waiting = next((reservation for reservation in self._open if not reservation.started), None)
            if waiting is not None:
                waiting.started = True
        elif kind == "response.done":
            await self._settle(event)
        elif kind == "error":
            await self._refund_refused(event)

    async def close(self) -> None:
        while self._open:
            reservation = self._open.popleft()
            if not reservation.started:
                await self._admission.refund(reservation.admitted)
            # A started response keeps its estimate: nothing to do.

    async def _settle(self, event: dict[str, Any]) -> None:
        response = event.get("response")
        usage = response.get("usage") if isinstance(response, dict) else None
        usage = usage if isinstance(usage, dict) else {}
        self.responses += 1
        add_usage(self.usage, usage)
        total = usage.get("total_tokens")
        used = total if isinstance(total, int) else None  # None: the estimate stays charged
        if self._open:
            await self._admission.settle(self._open.popleft().admitted, used, {})
            return
        try:
            admitted = await self._admission.admit(self._key_id, self._model, [self._deployment], 0, wait=False)
        except GatewayError:
            self.notes.append(f"a response's usage ({used} tokens) was not charged: no budget would take it")
            return
        await self._admission.settle(admitted, used, {})

    async def _refund_refused(self, event: dict[str, Any]) -> None:
        error = event.get("error")
        event_id = error.get("event_id") if isinstance(error, dict) else None
        if not isinstance(event_id, str):
            return
        for reservation in self._open:
            if reservation.event_id == event_id and not reservation.started:
                self._open.remove(reservation)
                await self._admission.refund(reservation.admitted)
                return


def _parsed(text: str, markers: tuple[str, ...]) -> dict[str, Any] | None:
    if not any(marker in text for marker in markers):
        return None
    try:
        event = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None  # Azure answers a malformed event itself
    return event if isinstance(event, dict) else None


def _output_cap(event: dict[str, Any]) -> int | None:
    """The response's output cap (GA max_output_tokens, beta max_response_output_tokens); None when unset
    or "inf", which the config's default_max_tokens then stands for."""
    response = event.get("response")
    if not isinstance(response, dict):
        return None
    for name in ("max_output_tokens", "max_response_output_tokens"):
        value = response.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def _event_id(event: dict[str, Any]) -> str | None:
    event_id = event.get("event_id")
    return event_id if isinstance(event_id, str) else None


def _refusal(refused: GatewayError, client_event_id: str | None) -> Refused:
    error = refused.body()["error"]  # the fields an HTTP 429 would carry, its message saying when to retry
    error["event_id"] = client_event_id
    event = {"type": "error", "event_id": f"event_gw_{uuid.uuid4().hex[:20]}", "error": error}
    if not isinstance(refused, RateLimited):
        reason = refused.message
    elif refused.retry_after_s is None:
        reason = "rate limit exceeded: the response asks for more tokens than a minute allows"
    else:
        reason = f"rate limit exceeded, retry in {max(1, math.ceil(refused.retry_after_s))} s"
    return Refused(orjson.dumps(event).decode(), reason, refused.code)


def add_usage(total: dict[str, Any], part: Mapping[str, Any]) -> None:
    """`part`'s counts added into `total`, nested details (`input_token_details`...) included."""
    for name, value in part.items():
        if type(value) is int:
            counted = total.get(name, 0)
            if type(counted) is int:
                total[name] = counted + value
        elif isinstance(value, dict):
            inner = total.setdefault(name, {})
            if isinstance(inner, dict):
                add_usage(inner, value)
