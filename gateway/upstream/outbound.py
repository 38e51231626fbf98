"""Build the request Azure receives: its URL, allow-listed headers, credentials, and the client's body."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers

from gateway.inbound.fields import ClientBody
from gateway.inbound.multipart_body import multipart_boundary, replace_text_field
from gateway.routing.json_text import json_bytes
from gateway.upstream.azure_urls import body_names_deployment, upstream_url
from gateway.upstream.client import UpstreamRequest
from gateway.upstream.credentials import UpstreamCredentials
from gateway.upstream.deployments import Deployment
from gateway.upstream.headers import HeaderPolicy


async def build_upstream_request(
    deployment: Deployment,
    body: ClientBody,
    client_headers: Headers,
    request_id: str,
    header_policy: HeaderPolicy,
    credentials: UpstreamCredentials,
) -> UpstreamRequest:
    add_usage = _needs_stream_usage(body)
    return UpstreamRequest(
        deployment_id=deployment.id,
        url=upstream_url(deployment, body.endpoint.operation),
        headers=await upstream_headers(deployment, client_headers, request_id, header_policy, credentials),
        body=_body_for(deployment, body, add_usage),
        adds_stream_usage=add_usage,
    )


async def upstream_headers(
    deployment: Deployment,
    client_headers: Headers,
    request_id: str,
    header_policy: HeaderPolicy,
    credentials: UpstreamCredentials,
) -> dict[str, str]:
    """What every HTTP call to Azure carries: the client's allow-listed headers, then the deployment's credential
    (never the client's own)."""
    headers = header_policy.outbound(client_headers, request_id)
    name, value = await credentials.header(deployment)
    headers[name] = value
    return headers


def _body_for(deployment: Deployment, body: ClientBody, add_usage: bool) -> bytes:
    """The client's bytes, unchanged unless the v1 style needs the deployment's name in `model`, or a
    stream must carry its usage."""
    rename = body_names_deployment(deployment, body.endpoint.operation) and body.model != deployment.name
    if body.json is None:
        if not rename:
            return body.raw
        return replace_text_field(body.raw, multipart_boundary(body.content_type), "model", deployment.name)
    if not rename and not add_usage:
        return body.raw
    json_body = with_stream_usage(body.json) if add_usage else body.json
    return json_bytes({**json_body, "model": deployment.name} if rename else json_body)


def _needs_stream_usage(body: ClientBody) -> bool:
    """A text stream whose client did not ask for its usage chunk. The gateway needs every stream's real
    usage (to settle budgets and log it), so it asks Azure for the chunk and removes it on the way back:
    clients that read `choices[0]` break on a chunk with no choices."""
    streams_text = body.endpoint.operation in _USAGE_STREAMING_OPERATIONS and body.stream
    return streams_text and body.json is not None and not wants_stream_usage(body.json)


def wants_stream_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def with_stream_usage(body: dict[str, Any]) -> dict[str, Any]:
    options = body.get("stream_options")
    return {**body, "stream_options": {**(options if isinstance(options, dict) else {}), "include_usage": True}}


_USAGE_STREAMING_OPERATIONS = frozenset({"chat/completions", "completions"})
