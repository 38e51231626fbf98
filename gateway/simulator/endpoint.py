"""The one path every data-plane request takes:

read body -> route (URL) -> record -> authenticate -> admit (deployment, operation)
  -> fault or handler -> deliver (Azure headers, fault timing)

Requests about a stored response (retrieve, delete, cancel, input items) name no deployment: like the
models listing, only faults without a deployment apply to them.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from gateway.simulator import chat, completions, embeddings, images, speech, transcripts
from gateway.simulator.auth import authenticate
from gateway.simulator.catalog import MODELS, MULTIPART_OPERATIONS, Operation
from gateway.simulator.delivery import Delivery, Reply, error_reply, json_reply
from gateway.simulator.errors import (
    SimulatorError,
    deployment_not_found,
    fault_error,
    invalid_json,
    missing,
    operation_not_supported,
)
from gateway.simulator.faults import Fault
from gateway.simulator.forms import FormBody, read_form
from gateway.simulator.listing import list_models
from gateway.simulator.params import Call, Params
from gateway.simulator.recorder import make_record
from gateway.simulator.responses import create_response
from gateway.simulator.responses_followups import answer_followup
from gateway.simulator.settings import SimulatorSettings
from gateway.simulator.state import SimulatorState
from gateway.simulator.urls import Target, parse_target

HANDLERS: Mapping[Operation, Callable[[Call], Reply]] = MappingProxyType(
    {
        Operation.CHAT: chat.chat_completion,
        Operation.COMPLETIONS: completions.completion,
        Operation.EMBEDDINGS: embeddings.embeddings,
        Operation.IMAGE_GENERATIONS: images.image_generation,
        Operation.IMAGE_EDITS: images.image_edit,
        Operation.SPEECH: speech.speech,
        Operation.TRANSCRIPTIONS: transcripts.transcription,
        Operation.TRANSLATIONS: transcripts.translation,
    }
)


@dataclass(frozen=True, slots=True)
class _Body:
    json: dict[str, Any] | None = None
    form: FormBody | None = None
    error: SimulatorError | None = None

    @property
    def model(self) -> str | None:
        if self.form is not None:
            values = self.form.fields.get("model")
            return values[0] if values else None
        value = self.json.get("model") if self.json is not None else None
        return value if isinstance(value, str) else None


def model_endpoint(state: SimulatorState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await serve(state, request)

    return endpoint


async def serve(state: SimulatorState, request: Request) -> Response:
    raw = await request.body()
    settings = state.settings
    try:
        target = parse_target(request.method, request.scope["path"], request.query_params)
    except SimulatorError as error:
        _record(state, request, raw, None, None, _Body())
        return Delivery(error_reply(error), _azure_headers(settings, request.headers, len(raw), None), None, None)
    body = await _read_body(request, raw, target)
    # Classic deployment URLs name the deployment; everywhere else it is the body's "model".
    deployment = body.model if target.deployment is None else target.deployment
    _record(state, request, raw, deployment, target.operation, body)
    fault: Fault | None = None
    try:
        authenticate(request.headers, settings.api_key)
        if target.operation is None or target.response_id is not None:
            fault = state.faults.match(None, raw)
            reply = _fault_reply(fault, target) or _resource_reply(state, target, request.query_params)
        else:
            call = _admit(settings, target.operation, deployment, body, raw)
            fault = state.faults.match(deployment, raw)
            reply = _fault_reply(fault, target) or _model_reply(state, call)
    except SimulatorError as error:
        reply = error_reply(error)
    headers = _azure_headers(settings, request.headers, len(raw), deployment)
    return Delivery(reply, headers, fault, state.faults.holds)


def _model_reply(state: SimulatorState, call: Call) -> Reply:
    if call.operation is Operation.RESPONSES:
        return create_response(call, state.responses)
    return HANDLERS[call.operation](call)


def _resource_reply(state: SimulatorState, target: Target, query: Mapping[str, str]) -> Reply:
    """The answer to a request that names no deployment: the models listing, or a stored response's follow-up."""
    if target.response_id is not None and target.followup is not None:
        return answer_followup(state.responses, target.followup, target.response_id, query)
    return list_models(state.settings.deployments, target.model_id)


def _record(
    state: SimulatorState,
    request: Request,
    raw: bytes,
    deployment: str | None,
    operation: Operation | None,
    body: _Body,
) -> None:
    record = make_record(
        method=request.method,
        path=request.scope["path"],
        query=request.query_params,
        raw_headers=request.scope["headers"],
        deployment=deployment,
        operation=operation.value if operation else None,
        body_size=len(raw),
        json=body.json,
        form=body.form.describe() if body.form else None,
    )
    state.requests.add(record)


async def _read_body(request: Request, raw: bytes, target: Target) -> _Body:
    operation = target.operation
    if operation is None or target.response_id is not None:
        return _Body()
    try:
        if operation in MULTIPART_OPERATIONS:
            return _Body(form=await read_form(request))
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise invalid_json() from None
        if not isinstance(document, dict):
            raise invalid_json()
        return _Body(json=document)
    except SimulatorError as error:
        return _Body(error=error)


def _admit(settings: SimulatorSettings, operation: Operation, deployment: str | None, body: _Body, raw: bytes) -> Call:
    if deployment is None:
        raise body.error or missing("model")
    model_name = settings.deployments.get(deployment)
    if model_name is None:
        raise deployment_not_found()
    model = MODELS[model_name]
    if operation not in model.operations:
        raise operation_not_supported(operation, model_name)
    if body.error is not None:
        raise body.error
    form = body.form
    params = Params(form.first_fields(), from_form=True) if form is not None else Params(body.json or {})
    return Call(operation, deployment, model, params, body.json or {}, body.form, raw)


def _fault_reply(fault: Fault | None, target: Target) -> Reply | None:
    if fault is None or fault.status is None:
        return None
    if fault.body is None:
        return error_reply(fault_error(fault.status, target.operation, target.api_version))
    return json_reply(fault.body, fault.status)


def _azure_headers(
    settings: SimulatorSettings, request_headers: Headers, body_size: int, deployment: str | None
) -> dict[str, str]:
    request_id = str(uuid.uuid4())
    # Plausible quota figures; the simulator does not rate-limit unless a fault says so.
    limit_tokens = settings.tokens_per_minute
    limit_requests = max(1, limit_tokens * 6 // 1000)
    headers = {
        "apim-request-id": request_id,
        "x-request-id": request_id,
        "x-ms-region": settings.region,
        "x-ratelimit-limit-requests": str(limit_requests),
        "x-ratelimit-remaining-requests": str(limit_requests - 1),
        "x-ratelimit-limit-tokens": str(limit_tokens),
        "x-ratelimit-remaining-tokens": str(max(0, limit_tokens - body_size // 4)),
    }
    client_request_id = request_headers.get("x-ms-client-request-id")
    if client_request_id is not None:
        headers["x-ms-client-request-id"] = client_request_id
    if deployment is not None and deployment in settings.deployments:
        headers["x-ms-deployment-name"] = deployment
    return headers
