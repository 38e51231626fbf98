"""Which operation and deployment a request URL names, in Azure's classic and v1 styles.

POST /openai/deployments/{deployment}/{operation}?api-version=2025-04-01-preview   (classic)
POST /openai/v1/{operation}[?api-version=v1|preview]     (v1: deployment = body "model")
GET  /openai/models[/{id}]?api-version=...   and   GET /openai/v1/models[/{id}]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.simulator.catalog import Operation
from gateway.simulator.errors import api_version_not_supported, resource_not_found

_DATED_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
_V1_VERSIONS = frozenset({"v1", "preview"})
_HTTP_OPERATIONS: dict[str, Operation] = {op.value: op for op in Operation if op is not Operation.REALTIME}


@dataclass(frozen=True, slots=True)
class Target:
    # None means the models listing, which belongs to no deployment.
    operation: Operation | None
    # Classic URLs carry the deployment; v1 requests carry it in the body, so it is None here.
    deployment: str | None
    api_version: str
    v1: bool
    model_id: str | None = None


def parse_target(method: str, path: str, query: Mapping[str, str]) -> Target:
    if not path.startswith("/openai/"):
        raise resource_not_found()
    rest = path[len("/openai/") :]
    if rest.startswith("v1/"):
        return _v1_target(method, rest[3:], query)
    if rest.startswith("deployments/"):
        deployment, _, op_path = rest[len("deployments/") :].partition("/")
        operation = _HTTP_OPERATIONS.get(op_path)
        if not deployment or operation is None or method != "POST":
            raise resource_not_found()
        return Target(operation, deployment, dated_version(query), v1=False)
    if method == "GET" and (rest == "models" or rest.startswith("models/")):
        return Target(None, None, dated_version(query), v1=False, model_id=_model_id(rest))
    raise resource_not_found()


def _v1_target(method: str, rest: str, query: Mapping[str, str]) -> Target:
    version = query.get("api-version", "v1")
    if method == "GET" and (rest == "models" or rest.startswith("models/")):
        target = Target(None, None, version, v1=True, model_id=_model_id(rest))
    else:
        operation = _HTTP_OPERATIONS.get(rest)
        if operation is None or method != "POST":
            raise resource_not_found()
        target = Target(operation, None, version, v1=True)
    if version not in _V1_VERSIONS:
        raise api_version_not_supported()
    return target


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
