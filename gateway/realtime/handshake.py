"""A realtime session's opening steps, each raising the GatewayError its handshake is refused with:
who is calling, which model and deployment, whether the budgets have room, and the call to Azure.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers, QueryParams
from websockets.asyncio.client import ClientConnection

from gateway.dispatch.feedback import learn_from_failure
from gateway.errors import GatewayError, InvalidRequest
from gateway.inbound.client_auth import ClientKeys
from gateway.inbound.endpoints import REALTIME
from gateway.inbound.fields import ClientBody
from gateway.limits.admission import Admitted
from gateway.realtime.subprotocols import Offer, read_offer
from gateway.realtime.upstream import azure_headers, connect_azure, handshake_headers, realtime_url
from gateway.routing.router import Routed, Router
from gateway.services import Services

BETA_HEADER_VALUE = "realtime=v1"


@dataclass(frozen=True, slots=True)
class Hello:
    """What the client's handshake asks for."""

    model: str
    offer: Offer
    openai_beta: str | None  # the OpenAI-Beta header for Azure: the client's own, or from its subprotocols


def read_hello(query: QueryParams, headers: Headers, subprotocols: list[str]) -> Hello:
    # Azure's own realtime URL (/openai/realtime, the AzureOpenAI client's) names the deployment instead.
    model = query.get("model") or query.get("deployment")
    if not model:
        raise InvalidRequest(
            "Missing required parameter: 'model' (e.g. /v1/realtime?model=auto).",
            param="model",
            code="missing_required_parameter",
        )
    offer = read_offer(subprotocols)
    openai_beta = headers.get("openai-beta") or (BETA_HEADER_VALUE if offer.beta else None)
    return Hello(model, offer, openai_beta)


def authenticate(client_keys: ClientKeys, headers: Headers, offer: Offer) -> str:
    """As for HTTP; a browser's key comes as a subprotocol and counts as if sent as a Bearer token."""
    if offer.key is not None and "authorization" not in headers and "api-key" not in headers:
        headers = Headers({"authorization": f"Bearer {offer.key}"})
    return client_keys.authenticate(headers)


async def route(router: Router, model: str, headers: Headers) -> Routed:
    """`auto` and the aliases walk the policy tree as task "realtime"; a named model is honoured."""
    body = ClientBody(endpoint=REALTIME, raw=b"", content_type="application/json", json={"model": model})
    return await router.route(body, headers)


async def admit(services: Services, key_id: str, model: str) -> Admitted:
    """The session counts as one request of 0 tokens against the deployment's and the key's budgets; its
    responses reserve their own tokens as they are asked for (metering.py)."""
    return await services.dispatcher.pick_and_admit(key_id, model, 0)


async def call_azure(
    services: Services, admitted: Admitted, hello: Hello, client_headers: Headers, request_id: str
) -> ClientConnection:
    """Open the session on Azure. On a refusal the admission is refunded and the deployment's health
    learns of it, as for an HTTP attempt; on success the opening request is settled at 0 tokens."""
    deployment = admitted.deployment
    headers = handshake_headers(services.header_policy, client_headers, request_id, hello.openai_beta)
    try:
        name, value = await services.credentials.header(deployment)
        headers[name] = value
        azure = await connect_azure(
            realtime_url(deployment), headers, deployment.id, services.config.upstream.connect_timeout_seconds
        )
    except GatewayError as error:
        await services.admission.refund(admitted)
        await learn_from_failure(services.health, services.admission, deployment, error)
        raise
    except BaseException:  # no token (Entra), cancelled by a shutdown, or a bug: the session never opened
        await services.admission.refund(admitted)
        raise
    services.health.record_success(deployment.id)
    response_headers = azure_headers(azure.response.headers.raw_items()) if azure.response is not None else {}
    await services.admission.settle(admitted, 0, response_headers)
    return azure
