"""Receive step: the client's body, within its endpoint's size limit, parsed and checked."""

from __future__ import annotations

from starlette.requests import Request

from gateway.inbound.body import read_body
from gateway.inbound.endpoints import Endpoint
from gateway.inbound.fields import ClientBody
from gateway.inbound.json_body import parse_json_body
from gateway.inbound.multipart_body import parse_multipart_body
from gateway.settings.schema import BodyLimits


async def read_client_body(request: Request, endpoint: Endpoint, limits: BodyLimits) -> ClientBody:
    limit = {"json": limits.json_bytes, "audio": limits.audio_bytes, "image": limits.image_bytes}[endpoint.size_limit]
    raw = await read_body(request, limit)
    content_type = request.headers.get("content-type", "")
    if endpoint.body_kind == "json":
        return parse_json_body(endpoint, content_type, raw)
    return parse_multipart_body(endpoint, content_type, raw)
