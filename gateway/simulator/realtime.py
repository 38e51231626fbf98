"""Realtime over WebSocket: the handshake, as Azure serves it.

    GET /openai/v1/realtime?model={deployment}                                       (GA)
    GET /openai/realtime?api-version=2025-04-01-preview&deployment={deployment}      (preview)

The `OpenAI-Beta: realtime=v1` header picks the beta protocol, on either path; without it the
session speaks GA. Azure documents the header only with the preview path and no GA session on it,
but the openai SDK sends the AzureOpenAI client's GA `realtime.connect()` to the preview path
without the header, and expects GA events back.

The handshake takes the steps an HTTP request takes (endpoint.py): record, check the URL,
authenticate (`api-key` header, `Authorization: Bearer`, or `?api-key=`), admit the deployment,
consult faults. A refusal is an HTTP response with Azure's JSON error body. A deployment that is
unknown or whose model cannot do realtime is refused with 404 DeploymentNotFound.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping

import orjson
from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from gateway.simulator.auth import authenticate
from gateway.simulator.catalog import MODELS, ModelSpec, Operation
from gateway.simulator.errors import (
    SimulatorError,
    api_version_not_supported,
    deployment_not_found,
    fault_error,
    missing,
)
from gateway.simulator.faults import Fault
from gateway.simulator.realtime_dialect import BETA, GA
from gateway.simulator.realtime_link import drop, run_session
from gateway.simulator.realtime_session import RealtimeSession
from gateway.simulator.recorder import make_record
from gateway.simulator.settings import SimulatorSettings
from gateway.simulator.state import SimulatorState
from gateway.simulator.urls import dated_version

_V1_VERSIONS = frozenset({"v1", "preview"})


def realtime_routes(state: SimulatorState) -> list[BaseRoute]:
    async def ga_path(websocket: WebSocket) -> None:
        await _handshake(state, websocket, v1=True)

    async def preview_path(websocket: WebSocket) -> None:
        await _handshake(state, websocket, v1=False)

    return [WebSocketRoute("/openai/v1/realtime", ga_path), WebSocketRoute("/openai/realtime", preview_path)]


async def _handshake(state: SimulatorState, websocket: WebSocket, v1: bool) -> None:
    settings, query, headers = state.settings, websocket.query_params, websocket.headers
    dialect = BETA if "realtime=v1" in headers.get("openai-beta", "") else GA
    deployment = query.get("model" if v1 else "deployment")
    record = make_record(
        method="GET",
        path=websocket.scope["path"],
        query=query,
        raw_headers=websocket.scope["headers"],
        deployment=deployment,
        operation=Operation.REALTIME.value,
        body_size=0,
        json=None,
        form=None,
    )
    record.update(protocol=dialect.name, client_events=0, server_events=0, client_close=None)
    state.requests.add(record)
    try:
        api_version = _api_version(query, v1)
        authenticate(headers, settings.api_key, query.get("api-key"))
        deployment, model = _admit(settings, deployment, "model" if v1 else "deployment")
    except SimulatorError as error:
        await _refuse(websocket, error.status, orjson.dumps(error.body), {**_azure_headers(settings), **error.headers})
        return
    fault = state.faults.match(deployment, b"")
    if fault is not None and await _fault_answered(websocket, fault, settings, api_version):
        return
    session = RealtimeSession(dialect, deployment, model)
    await websocket.accept(headers=_header_list(_with_fault_headers(_azure_headers(settings), fault)))
    await run_session(websocket, session, fault, state.faults.holds, record)


def _api_version(query: QueryParams, v1: bool) -> str:
    if not v1:
        return dated_version(query)
    # GA takes no dated version ("shouldn't contain any API version like 2025-04-01-preview").
    version = query.get("api-version", "v1")
    if version not in _V1_VERSIONS:
        raise api_version_not_supported()
    return version


def _admit(settings: SimulatorSettings, deployment: str | None, param: str) -> tuple[str, ModelSpec]:
    if not deployment:
        raise missing(param)
    model_name = settings.deployments.get(deployment)
    if model_name is None or Operation.REALTIME not in MODELS[model_name].operations:
        raise deployment_not_found()
    return deployment, MODELS[model_name]


async def _fault_answered(websocket: WebSocket, fault: Fault, settings: SimulatorSettings, api_version: str) -> bool:
    """Act out the handshake part of `fault`; True when that already answered the client."""
    drops = fault.drop_connection and fault.cut_after_chunks is None
    if fault.status is None and not drops:
        return False
    if fault.delay_ms:
        await asyncio.sleep(fault.delay_ms / 1000)
    if drops or fault.status is None:  # (no status here means the fault drops)
        await drop(websocket)
        return True
    if fault.body is None:
        error = fault_error(fault.status, Operation.REALTIME, api_version)
        body, headers = orjson.dumps(error.body), {**_azure_headers(settings), **error.headers}
    else:
        body, headers = orjson.dumps(fault.body), _azure_headers(settings)
    await _refuse(websocket, fault.status, body, _with_fault_headers(headers, fault))
    return True


async def _refuse(websocket: WebSocket, status: int, body: bytes, headers: Mapping[str, str]) -> None:
    response = Response(body, status, headers=dict(headers), media_type="application/json")
    await websocket.send_denial_response(response)


def _azure_headers(settings: SimulatorSettings) -> dict[str, str]:
    request_id = str(uuid.uuid4())
    return {"apim-request-id": request_id, "x-request-id": request_id, "x-ms-region": settings.region}


def _with_fault_headers(headers: dict[str, str], fault: Fault | None) -> dict[str, str]:
    if fault is None:
        return headers
    out = dict(headers)
    for name, value in fault.headers.items():
        out.pop(name, None)
        if value is not None:
            out[name] = value
    return out


def _header_list(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
