"""Routing an evaluation row in process, through the shipped config and policy, as the served gateway would.

The body goes through the same parsing as a client's (field checks included), then the router; no Azure call
and no budget. An outcome is the model and leaf chosen, or the error the client would be answered with.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.datastructures import Headers

from gateway.errors import GatewayError
from gateway.inbound.endpoints import ENDPOINTS, REALTIME
from gateway.inbound.fields import ClientBody
from gateway.inbound.json_body import parse_json_body
from gateway.inbound.multipart_body import parse_multipart_body
from gateway.routing.router import Router
from gateway.routing.setup import build_router, warm_tokenizers
from gateway.settings import load_config
from gateway.settings.schema import GatewayConfig
from tests.bench.targets import REPO_ROOT
from tests.eval.rows import EvalRow

# The shipped config wants an Azure endpoint and key to start; routing never calls it.
ENV = {"AZURE_OPENAI_ENDPOINT": "http://127.0.0.1:9", "AZURE_OPENAI_API_KEY": "eval"}


@dataclass(frozen=True)
class Outcome:
    model: str | None = None
    leaf: str | None = None
    status: int | None = None  # an error's HTTP status
    param: str | None = None
    code: str | None = None
    task_class: str | None = None  # what the classifier said, for chat rows
    why: str = ""  # the classifier's reason, or the error's message

    def matches(self, other: Outcome) -> bool:
        return (self.model, self.leaf, self.status) == (other.model, other.leaf, other.status)

    def meets(self, row: EvalRow) -> bool:
        """A limits row's expectation: the model named, or the error's status (and param and code, when given)."""
        if row.expect_model is not None:
            return self.model == row.expect_model
        expected = row.expect_error or {}
        return all(getattr(self, key) == value for key, value in expected.items())

    def describe(self) -> str:
        if self.status is not None:
            return f"{self.status} {self.code} (param {self.param}): {self.why}"
        return f"{self.model} at {self.leaf} [{self.task_class}: {self.why}]"


def shipped_config() -> GatewayConfig:
    return load_config(REPO_ROOT / "config" / "gateway.yaml", ENV)


def shipped_router() -> Router:
    router = build_router(shipped_config())
    warm_tokenizers(router)
    return router


def client_body(row: EvalRow) -> ClientBody:
    endpoint = REALTIME if row.endpoint == "realtime" else ENDPOINTS[row.endpoint]
    if endpoint.body_kind == "json":
        return parse_json_body(endpoint, "application/json", orjson.dumps(row.body))
    boundary = uuid.uuid4().hex
    raw = _multipart(boundary, row.body, row.files)
    return parse_multipart_body(endpoint, f"multipart/form-data; boundary={boundary}", raw)


async def route(router: Router, row: EvalRow, *, task_class: str | None = None) -> Outcome:
    """`task_class`: route as a client naming that class would (the labelled route), else as the tree reads it."""
    headers = dict(row.headers)
    if task_class is not None:
        headers["x-route-task"] = task_class
    try:
        routed = await router.route(client_body(row), Headers(headers))
    except GatewayError as error:
        return Outcome(status=error.status, param=error.param, code=error.code, why=error.message)
    features = routed.features
    return Outcome(
        model=routed.decision.model,
        leaf=routed.decision.leaf,
        task_class=features.task_class,
        why=features.task_class_reason,
    )


def _multipart(boundary: str, fields: dict[str, Any], files: dict[str, int]) -> bytes:
    parts: list[bytes] = []
    for name, values in fields.items():
        for value in values if isinstance(values, list) else [values]:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, size in files.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="clip.mp3"\r\n'
        parts.append(f"{head}Content-Type: audio/mpeg\r\n\r\n".encode() + b"\0" * size + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)
