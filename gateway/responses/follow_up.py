"""Retrieve, delete, cancel and list the input items of a stored response, on the resource that holds it.

    GET    /v1/responses/{id}               retrieve (also `?stream=true&starting_after=N` to resume a stream)
    DELETE /v1/responses/{id}               delete
    POST   /v1/responses/{id}/cancel        cancel a background response
    GET    /v1/responses/{id}/input_items   list its input items (limit, order, after, before, include)

Not routed: the response's home decides (homes.py). An id whose home is not known is a 404, as Azure's own
answer for it would be; a home whose resource fails answers with that failure, never from elsewhere. Each
follow-up gets its routing-log line. They take no token budget (Azure counts no tokens for them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import GatewayError, ResponseNotFound
from gateway.observe.routing_log import RequestRecord
from gateway.pipeline import request_deadline
from gateway.reply.headers import error_response, gateway_headers
from gateway.reply.relay import StreamOutcome, relay
from gateway.responses.homing import home_of
from gateway.services import Services
from gateway.upstream.answer import is_streamed, raise_for_error, read_whole
from gateway.upstream.azure_urls import responses_url
from gateway.upstream.client import UpstreamRequest
from gateway.upstream.outbound import upstream_headers


@dataclass(frozen=True, slots=True)
class FollowUp:
    action: str  # retrieve | delete | cancel | input_items: the routing log's endpoint is responses/<action>
    method: str
    suffix: str  # after /responses/{id}
    passed_query: frozenset[str]  # the client's query parameters Azure is given


FOLLOW_UPS = (
    FollowUp("retrieve", "GET", "", frozenset({"include", "include[]", "stream", "starting_after"})),
    FollowUp("delete", "DELETE", "", frozenset()),
    FollowUp("cancel", "POST", "/cancel", frozenset()),
    FollowUp(
        "input_items", "GET", "/input_items", frozenset({"limit", "order", "after", "before", "include", "include[]"})
    ),
)


async def follow_up(services: Services, request: Request, action: FollowUp, request_id: str) -> Response:
    record = RequestRecord(request_id, f"responses/{action.action}")
    response_id: str = request.path_params["response_id"]
    try:
        record.key_id = services.client_keys.authenticate(request.headers)
        home_id = await home_of(services.response_homes, response_id)
        deployment = services.deployments.by_id(home_id) if home_id is not None else None
        if deployment is None:
            raise ResponseNotFound.named(response_id)
        record.model, record.deployment = deployment.model, deployment.id
        headers = await upstream_headers(
            deployment, request.headers, request_id, services.header_policy, services.credentials
        )
        url = responses_url(deployment, "/" + quote(response_id, safe="") + action.suffix)
        query = [(key, item) for key, item in request.query_params.multi_items() if key in action.passed_query]
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query)
        outbound = UpstreamRequest(deployment.id, url, headers, b"", method=action.method)
        deadline = request_deadline(services.config.retries, request.headers)
        upstream = await services.upstream.send(outbound, time_left=deadline - time.monotonic())
        record.upstream_status = upstream.status_code
        await raise_for_error(upstream, deployment.id)
        body = None if is_streamed(upstream) else await read_whole(upstream, deployment.id)
    except GatewayError as error:
        record.finish(error.status, error.code)
        services.routing_log.write(record)
        return error_response(error, gateway_headers(request_id, record.model, record.deployment))
    if action.action == "delete":
        await services.response_homes.forget(response_id)

    async def logged(outcome: StreamOutcome) -> None:
        record.bytes_out = outcome.bytes_sent
        record.finish(upstream.status_code, outcome.error)
        services.routing_log.write(record)

    chunks = upstream.aiter_bytes() if body is None else None
    reply_headers = gateway_headers(request_id, deployment.model, deployment.id)
    # A retrieve with `stream=true` replays the response's events: a cut one ends in an error event too.
    return relay(upstream, body, chunks, deployment.id, reply_headers, logged, event_stream="responses")
