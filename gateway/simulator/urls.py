"""Which operation and deployment a request URL names, in Azure's classic and v1 styles.

POST /openai/deployments/{deployment}/{operation}?api-version=2025-04-01-preview   (classic)
POST /openai/v1/{operation}[?api-version=v1|preview]     (v1: deployment = body "model")
GET  /openai/models[/{id}]?api-version=...   and   GET /openai/v1/models[/{id}]

The Responses API belongs to the resource, not to a deployment (the deployment is the body's "model"):
POST /openai/v1/responses, or /openai/responses?api-version=<2025-03-01-preview or later> on classic
resources; its follow-ups are GET|DELETE responses/{id}, POST responses/{id}/cancel and
GET responses/{id}/input_items under either prefix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from gateway.simulator.catalog import Operation
from gateway.simulator.errors import api_version_not_supported, resource_not_found

_DATED_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
_V1_VERSIONS = frozenset({"v1", "preview"})
# The first dated version that has the Responses API; a version before it has no such route.
_FIRST_RESPONSES_DATE = "2025-03-01"
_V1_OPERATIONS: dict[str, Operation] = {op.value: op for op in Operation if op is not Operation.REALTIME}
_DEPLOYMENT_OPERATIONS: dict[str, Operation] = {
    name: op for name, op in _V1_OPERATIONS.items() if op is not Operation.RESPONSES
}


class Followup(StrEnum):
    """What a request does to a stored response, named by (method, path after the id)."""

    RETRIEVE = "retrieve"
    DELETE = "delete"
    CANCEL = "cancel"
    INPUT_ITEMS = "input_items"


_FOLLOWUPS: dict[tuple[str, str], Followup] = {
    ("GET", ""): Followup.RETRIEVE,
    ("DELETE", ""): Followup.DELETE,
    ("POST", "cancel"): Followup.CANCEL,
    ("GET", "input_items"): Followup.INPUT_ITEMS,
}


@dataclass(frozen=True, slots=True)
class Target:
    # None means the models listing, which belongs to no deployment.
    operation: Operation | None
    # Classic deployment URLs carry the deployment; otherwise it is in the body, so it is None here.
    deployment: str | None
    api_version: str
    v1: bool
    model_id: str | None = None
    # A request about a stored response (operation RESPONSES): which one, and what to do with it.
    response_id: str | None = None
    followup: Followup | None = None


def parse_target(method: str, path: str, query: Mapping[str, str]) -> Target:
    if not path.startswith("/openai/"):
        raise resource_not_found()
    rest = path[len("/openai/") :]
    if rest.startswith("v1/"):
        return _v1_target(method, rest[3:], query)
    if rest.startswith("deployments/"):
        deployment, _, op_path = rest[len("deployments/") :].partition("/")
        operation = _DEPLOYMENT_OPERATIONS.get(op_path)
        if not deployment or operation is None or method != "POST":
            raise resource_not_found()
        return Target(operation, deployment, dated_version(query), v1=False)
    if method == "GET" and (rest == "models" or rest.startswith("models/")):
        return Target(None, None, dated_version(query), v1=False, model_id=_model_id(rest))
    if rest == "responses" or rest.startswith("responses/"):
        route = _responses_target(method, rest, "", v1=False)
        version = dated_version(query)
        if version[:10] < _FIRST_RESPONSES_DATE:
            raise resource_not_found()
        return replace(route, api_version=version)
    raise resource_not_found()


def _v1_target(method: str, rest: str, query: Mapping[str, str]) -> Target:
    version = query.get("api-version", "v1")
    if method == "GET" and (rest == "models" or rest.startswith("models/")):
        target = Target(None, None, version, v1=True, model_id=_model_id(rest))
    elif rest == "responses" or rest.startswith("responses/"):
        target = _responses_target(method, rest, version, v1=True)
    else:
        operation = _V1_OPERATIONS.get(rest)
        if operation is None or method != "POST":
            raise resource_not_found()
        target = Target(operation, None, version, v1=True)
    if version not in _V1_VERSIONS:
        raise api_version_not_supported()
    return target


def _responses_target(method: str, rest: str, version: str, v1: bool) -> Target:
    """`rest` is "responses" or "responses/{id}[/cancel|/input_items]"; the version is checked by the caller."""
    if rest == "responses":
        if method != "POST":
            raise resource_not_found()
        return Target(Operation.RESPONSES, None, version, v1)
    response_id, _, action = rest[len("responses/") :].partition("/")
    followup = _FOLLOWUPS.get((method, action))
    if not response_id or followup is None:
        raise resource_not_found()
    return Target(Operation.RESPONSES, None, version, v1, response_id=response_id, followup=followup)


def dated_version(query: Mapping[str, str]) -> str:
    version = query.get("api-version")
    if version is None:
        raise resource_not_found()
    if not _DATED_VERSION.fullmatch(version):
        raise api_version_not_supported()
    return version


def _model_id(rest: str) -> str | None:
    _, _, model_id = rest.partition("/")
    if "/" in model_id:
        raise resource_not_found()
    return model_id or None
