"""One realtime session, in order. Each step lives in its own module.

authenticate (a Bearer header, or a browser's subprotocol) → hold a session slot for the key
  → route the `model` query parameter (task "realtime") → admit (one request of 0 tokens)
  → open the WebSocket to Azure → only then accept the client
  → relay frames both ways, reserving tokens for each response.create and settling them with each
    response.done (until either side closes, or the gateway's drain ends: 1001 "going away")
  → settle or refund what is still open → write the routing-log line

Until the client is accepted, any step may refuse the handshake: the client gets the error's HTTP
status and OpenAI-shaped body (Azure's own when Azure refused), and the admission is refunded.
"""

from __future__ import annotations

import contextlib
import logging
import uuid

import anyio
from starlette.websockets import WebSocket
from websockets.asyncio.client import ClientConnection

from gateway.errors import GatewayError, UpstreamError
from gateway.inbound.azure_paths import check_api_version_of
from gateway.inbound.draining import drain_of
from gateway.inbound.endpoints import REALTIME
from gateway.limits.admission import Admitted
from gateway.limits.spend import SpendHold
from gateway.observe import metrics
from gateway.observe.routing_log import RequestRecord
from gateway.realtime.denial import deny
from gateway.realtime.handshake import Hello, admit, authenticate, call_azure, read_hello, route
from gateway.realtime.metering import SessionMeter
from gateway.realtime.relay import ABNORMAL, INTERNAL_ERROR, Counts, Ending, relay
from gateway.realtime.session_log import ACCEPTED, headers_for, note_ending, note_route
from gateway.realtime.upstream import azure_headers
from gateway.services import Services

logger = logging.getLogger("gateway")


async def endpoint(websocket: WebSocket) -> None:
    """The WebSocketRoute handler for /v1/realtime."""
    await handle(websocket.app.state.services, websocket, uuid.uuid4().hex)


async def handle(services: Services, websocket: WebSocket, request_id: str) -> None:
    record = RequestRecord(request_id=request_id, endpoint=REALTIME.operation)
    slot_holder: str | None = None
    spend: SpendHold | None = None
    try:
        try:
            check_api_version_of(websocket.url.path, websocket.query_params)
            hello = read_hello(websocket.query_params, websocket.headers, websocket.scope.get("subprotocols", []))
            record.model_requested = hello.model
            key_id = record.key_id = authenticate(services.client_keys, websocket.headers, hello.offer)
            services.realtime_slots.take(key_id, services.config.realtime.max_sessions_per_key)
            slot_holder = key_id
            routed = await route(services.router, hello.model, websocket.headers)
            note_route(record, routed)
            spend = await _hold_spend(services, key_id, routed.decision.model, record)
            admitted = await admit(services, key_id, routed.decision.model)
            record.deployment = admitted.deployment.id
            azure = await call_azure(services, admitted, hello, websocket.headers, request_id)
        except GatewayError as error:
            if spend is not None:
                await spend.release()
            record.upstream_status = error.status if isinstance(error, UpstreamError) else None
            record.finish(error.status, error.code)
            await deny(websocket, error, headers_for(record))
            return
        except BaseException as error:  # a bug, or the task cancelled: still one line that says so
            cancelled = isinstance(error, anyio.get_cancelled_exc_class())
            record.finish(499 if cancelled else 500, "cancelled" if cancelled else "internal_error")
            if spend is not None:
                with anyio.CancelScope(shield=True):
                    await spend.release()
            raise
        record.upstream_status = ACCEPTED
        try:
            await _run(services, websocket, azure, hello, admitted, key_id, record)
        finally:
            if spend is not None:
                with anyio.CancelScope(shield=True):
                    await spend.settle(record.cost_usd)
    finally:
        if slot_holder is not None:
            services.realtime_slots.release(slot_holder)
        metrics.request_ended(record)
        services.routing_log.write(record)


async def _hold_spend(services: Services, key_id: str, model: str, record: RequestRecord) -> SpendHold | None:
    """A capped key's session: admitted while the key has room for a token of `model` (BudgetExceeded: 429),
    and charged what the session cost when it ends. Unlike a request, a session's most cost is not known
    before it starts, so a session can take a key past its cap; the key's next session or request is refused."""
    budgets = services.spend
    caps = None if budgets is None else budgets.caps(services.config.client_keys, key_id)
    if budgets is None or caps is None:
        return None
    hold = await budgets.reserve(caps, model, 1, 0)
    if hold.note is not None:
        record.notes = [*(record.notes or []), hold.note]
    return hold


async def _run(
    services: Services,
    websocket: WebSocket,
    azure: ClientConnection,
    hello: Hello,
    admitted: Admitted,
    key_id: str,
    record: RequestRecord,
) -> None:
    meter = SessionMeter(services.admission, key_id, admitted.deployment.model, admitted.deployment)
    counts = Counts()
    ending = Ending("client", ABNORMAL, "")
    try:
        handshake = azure_headers(azure.response.headers.raw_items()) if azure.response is not None else {}
        headers = {**handshake, **headers_for(record)}
        try:
            await websocket.accept(
                hello.offer.accept, [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            )
        except OSError:
            pass  # the client left while Azure was being called: nothing to relay
        else:
            drain = drain_of(websocket.scope)  # a served gateway's: its end closes the session with 1001
            going_away = drain.sessions_closing if drain is not None else None
            with metrics.realtime_session_open():
                ending = await relay(websocket, azure, meter, counts, going_away)
    except Exception:
        logger.exception("realtime session %s failed", record.request_id)
        ending = Ending("gateway", INTERNAL_ERROR, "the gateway failed", "internal_error")
        with contextlib.suppress(Exception):
            await websocket.close(INTERNAL_ERROR, ending.reason)
        raise
    finally:
        await azure.close()  # already closed unless the session failed; then it frees Azure's side
        await meter.close()
        note_ending(record, ending, meter, counts, services.prices)
