"""Build the request Azure receives: its URL, allow-listed headers, credentials, and the client's body."""

from __future__ import annotations

import orjson
from starlette.datastructures import Headers

from gateway.deployments import Deployment
from gateway.inbound.fields import ClientBody
from gateway.inbound.multipart_body import multipart_boundary, replace_text_field
from gateway.upstream.azure_urls import body_names_deployment, upstream_url
from gateway.upstream.client import UpstreamRequest
from gateway.upstream.credentials import UpstreamCredentials
from gateway.upstream.headers import HeaderPolicy


async def build_upstream_request(
    deployment: Deployment,
    body: ClientBody,
    client_headers: Headers,
    request_id: str,
    header_policy: HeaderPolicy,
    credentials: UpstreamCredentials,
) -> UpstreamRequest:
    headers = header_policy.outbound(client_headers, request_id)
    name, value = await credentials.header(deployment)
    headers[name] = value
    return UpstreamRequest(
        deployment_id=deployment.id,
        url=upstream_url(deployment, body.endpoint.operation),
        headers=headers,
        body=_body_for(deployment, body),
    )


def _body_for(deployment: Deployment, body: ClientBody) -> bytes:
    """The client's bytes, unchanged unless the v1 style needs the deployment's name in `model`."""
    if not body_names_deployment(deployment) or body.model == deployment.name:
        return body.raw
    if body.json is not None:
        return orjson.dumps({**body.json, "model": deployment.name})
    return replace_text_field(body.raw, multipart_boundary(body.content_type), "model", deployment.name)
