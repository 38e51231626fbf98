"""Keeping a conversation on its resource: a request that carries on from an earlier response
(`previous_response_id`) goes where that response lives, and every new response's home is remembered.

A continued request still walks the routing policy (its features, limits and log are as for any other), but
is sent only to the earlier response's resource: the routed model's deployment there, or else the deployment
that made the earlier response. It never falls back to another resource, which would not know the
conversation: if that resource fails, the client gets its error.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.dispatch.delivery import Delivery
from gateway.errors import ResponseHomesUnavailable
from gateway.inbound.fields import ClientBody
from gateway.responses.homes import HomesUnavailable, ResponseHomes
from gateway.responses.response_ids import remembering_stream, whole_response_id
from gateway.upstream.deployments import Deployment, DeploymentTable


@dataclass(frozen=True, slots=True)
class Pin:
    deployment: Deployment
    note: str  # for the routing log: why the request went there


async def pin_to_previous(
    homes: ResponseHomes, deployments: DeploymentTable, body: ClientBody, routed_model: str
) -> Pin | None:
    """Where a continued request must go; None when it continues nothing, or nothing whose home is known (Azure
    then answers that it has no such response)."""
    previous = body.json.get("previous_response_id") if body.json is not None else None
    if not isinstance(previous, str):
        return None
    home_id = await home_of(homes, previous)
    if home_id is None:
        return None
    resource = home_id.partition("/")[0]
    there = [deployment for deployment in deployments.for_model(routed_model) if deployment.resource == resource]
    if there:
        chosen = min(there, key=lambda deployment: deployment.priority)
        return Pin(chosen, f"previous_response_id {previous} lives on resource {resource}: sent to {chosen.id}")
    home = deployments.by_id(home_id)
    if home is None:
        return None  # no longer configured: Azure's answer elsewhere says the response is unknown
    return Pin(
        home,
        f"previous_response_id {previous} lives on resource {resource}, which has no {routed_model} "
        f"deployment: sent to {home.id}, which made it",
    )


async def home_of(homes: ResponseHomes, response_id: str) -> str | None:
    try:
        return await homes.home_of(response_id)
    except HomesUnavailable:
        raise ResponseHomesUnavailable(
            "The gateway cannot look up which Azure resource holds this response right now. Please retry."
        ) from None


def stores_response(body: ClientBody) -> bool:
    """Azure keeps a response unless the request says `store: false`."""
    return body.json is None or body.json.get("store") is not False


async def remember_home(homes: ResponseHomes, delivery: Delivery) -> None:
    """Note where the delivered response lives: now for a whole answer, and for a stream as its id passes."""
    deployment_id = delivery.candidate.deployment.id
    if delivery.chunks is not None:

        async def remember(response_id: str) -> None:
            await homes.remember(response_id, deployment_id)

        delivery.chunks = remembering_stream(delivery.chunks, remember)
    elif delivery.body is not None and (response_id := whole_response_id(delivery.body)) is not None:
        await homes.remember(response_id, deployment_id)
