"""What the dispatcher is given (a Job) and what it hands back: a Delivery, or Undelivered, each with the Trace
of its attempts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.datastructures import Headers

from gateway.dispatch.attempts import Attempt
from gateway.dispatch.plan import Candidate
from gateway.errors import GatewayError
from gateway.frozen import frozen
from gateway.inbound.fields import ClientBody
from gateway.limits.admission import Admitted
from gateway.upstream.response import UpstreamResponse


@frozen
class Job:
    key_id: str
    body: ClientBody
    client_headers: Headers
    request_id: str
    estimate: int
    deadline: float  # time.monotonic() by which the request must be answered or given up


@dataclass(slots=True)
class Trace:
    """What dispatching a request did: each upstream try, and why candidates were passed over."""

    attempts: list[Attempt] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Delivery:
    candidate: Candidate
    admitted: Admitted
    response: UpstreamResponse  # a success status; its body is read (`body`) or streaming (`chunks`)
    body: bytes | None
    chunks: AsyncIterator[bytes] | None  # the first chunk included, already read from Azure
    strip_usage_chunk: bool  # the gateway asked Azure for the stream's usage chunk the client did not want
    trace: Trace


class Undelivered(Exception):
    """No attempt answered: `error` is what the client gets (the last failure), `trace` what was tried."""

    def __init__(self, error: GatewayError, trace: Trace) -> None:
        super().__init__(error.message)
        self.error = error
        self.trace = trace
