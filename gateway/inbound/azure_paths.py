"""Azure's own URLs for the endpoints the gateway serves, as the `AzureOpenAI` client and Azure teams' code
call them (shared/reference/azure-openai-wire.md, sections 1 and 7.2):

    POST /openai/deployments/{name}/{operation}?api-version=<dated>   {name} is looked up as `model` is
    POST /openai/v1/{operation}[?api-version=v1|preview]               the same as /v1/{operation}

The client's api-version only has to be one Azure could have: the call to Azure uses the deployment's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from gateway.errors import InvalidRequest
from gateway.inbound.endpoints import Endpoint
from gateway.inbound.fields import ClientBody
from gateway.inbound.multipart_body import add_text_field, multipart_boundary, replace_text_field
from gateway.routing.json_text import json_bytes

_DATED_VERSION = re.compile(r"20\d{2}-\d{2}-\d{2}(-preview)?")
_V1_VERSIONS = frozenset({"v1", "preview"})
_PARAM = "api-version"


def check_dated_api_version(query: Mapping[str, str]) -> None:
    """Classic deployment URLs need a dated version, such as 2024-10-21 or 2025-04-01-preview."""
    version = query.get(_PARAM)
    if version is None:
        raise InvalidRequest(
            "Missing required query parameter 'api-version' (e.g. ?api-version=2024-10-21).",
            param=_PARAM,
            code="missing_required_parameter",
        )
    if not _DATED_VERSION.fullmatch(version):
        raise _unsupported(version)


def check_v1_api_version(query: Mapping[str, str]) -> None:
    version = query.get(_PARAM, "v1")
    if version not in _V1_VERSIONS:
        raise _unsupported(version)


def check_api_version_of(path: str, query: Mapping[str, str]) -> None:
    """The api-version rule of the URL style `path` is in: none for OpenAI's /v1 URLs."""
    if path.startswith("/openai/v1/"):
        check_v1_api_version(query)
    elif path.startswith("/openai/"):
        check_dated_api_version(query)


def model_from_path(endpoint: Endpoint) -> Endpoint:
    """The endpoint as a deployment URL serves it: the body need not name a `model`, the path does (raw REST
    clients leave it out; the openai SDK sends both)."""
    return replace(endpoint, required=tuple(name for name in endpoint.required if name != "model"))


def named_by_path(body: ClientBody, name: str) -> ClientBody:
    """The body as the URL names it: the path's deployment name is the `model`, in the bytes sent on too, so
    that a v1 upstream (which reads `model`) gets the deployment the path asked for, not the body's model."""
    if body.json is not None:
        if body.json.get("model") == name:
            return body
        json_body = {**body.json, "model": name}
        return replace(body, raw=json_bytes(json_body), json=json_body)
    if body.form.get("model", [None])[0] == name:
        return body
    boundary = multipart_boundary(body.content_type)
    edit = replace_text_field if "model" in body.form else add_text_field
    return replace(body, raw=edit(body.raw, boundary, "model", name), form={**body.form, "model": [name]})


def _unsupported(version: str) -> InvalidRequest:
    shown = version if len(version) <= 40 else version[:40] + "..."
    return InvalidRequest(f"API version not supported: {shown!r}.", param=_PARAM, code="unsupported_api_version")
