"""Receive step: the client's body, within its endpoint's size limit, parsed and checked."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request

from gateway.errors import InvalidRequest
from gateway.inbound.body import read_body
from gateway.inbound.body_budget import BodyLease
from gateway.inbound.endpoints import Endpoint
from gateway.inbound.fields import ClientBody
from gateway.inbound.json_body import parse_json_body
from gateway.inbound.multipart_body import parse_multipart_body
from gateway.settings.schema import BodyLimits
from gateway.upstream.headers import is_sendable


async def read_client_body(request: Request, endpoint: Endpoint, limits: BodyLimits, room: BodyLease) -> ClientBody:
    limit = {"json": limits.json_bytes, "audio": limits.audio_bytes, "image": limits.image_bytes}[endpoint.size_limit]
    content_type = _content_type(request.headers)
    raw = await read_body(request, limit, room)
    if endpoint.body_kind == "json":
        return parse_json_body(endpoint, content_type, raw)
    return parse_multipart_body(endpoint, content_type, raw)


def _content_type(headers: Headers) -> str:
    """The client's Content-Type, which goes upstream with the body: one that cannot be sent on is refused
    before the body is read, rather than forwarded without the header that says how to read the body."""
    content_type = headers.get("content-type", "")
    if not is_sendable(content_type):
        raise InvalidRequest(
            "Invalid Content-Type header: it holds characters other than printable ASCII.", code="invalid_header"
        )
    return content_type
