"""One request's path through the gateway, in order: each step is one call into the package that does it.

    authenticate, read the body          inbound/
    route: features, then a decision     routing/
    dispatch: pick a deployment, admit   dispatch/ (limits/ for budgets, upstream/ for Azure, health/)
      its tokens, call Azure, retry
      elsewhere or fall back
    relay the answer, whole or streamed  reply/relay.py
    finish: settle or refund, then log   reply/finish.py (observe/ writes the line)

Every ending goes through `Finish`: `refused` for an error at any step, `failed` for anything else (a bug,
a cancelled task), `answered` (called by the relayed response when its end is known) for Azure's answer.
"""

from __future__ import annotations

import time

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from gateway.dispatch.delivery import Job, Undelivered
from gateway.errors import GatewayError
from gateway.inbound.azure_paths import named_by_path
from gateway.inbound.endpoints import Endpoint
from gateway.inbound.read import read_client_body
from gateway.observe.routing_log import RequestRecord
from gateway.reply.finish import Finish
from gateway.reply.relay import relay
from gateway.responses.homing import pin_to_previous, remember_home, stores_response
from gateway.routing.router import Routed
from gateway.services import Services
from gateway.settings.schema import RetrySettings
from gateway.upstream.azure_urls import RESPONSES

_GENERATES_TEXT = frozenset({"chat", "completion", "audio_generation"})
# The openai SDK tells how long it will wait for the answer; trying beyond that helps nobody.
CLIENT_TIMEOUT_HEADER = "x-stainless-read-timeout"


async def handle(
    services: Services, request: Request, endpoint: Endpoint, request_id: str, deployment_in_path: str | None = None
) -> Response:
    """`deployment_in_path`: an Azure-style URL's deployment name, which stands for the body's `model`."""
    finish = Finish(
        services.admission, services.routing_log, RequestRecord(request_id, endpoint.operation), services.prices
    )
    tracing = services.tracing
    traced = None if tracing is None else tracing.request_span(endpoint.operation, request.headers, request_id)
    # The body's room in the process's budget is held until the request has been dispatched.
    with services.body_budget.lease() as body_room:
        try:
            key_id = services.client_keys.authenticate(request.headers)
            finish.authenticated(key_id)
            body = await read_client_body(request, endpoint, services.config.limits, body_room)
            if deployment_in_path is not None:
                body = named_by_path(body, deployment_in_path)
            finish.asked(body)
            routing = services.router.route(body, request.headers)
            routed = await (routing if traced is None else traced.routing(routing, body.model))
            finish.routed(routed)
            deadline = request_deadline(services.config.retries, request.headers)
            job = Job(key_id, body, request.headers, request_id, _estimate(services, routed), deadline)
            spend = services.spend
            if spend is not None and (caps := spend.caps(services.config.client_keys, key_id)) is not None:
                # Before Azure is called: the most the request may cost on its routed model (its output cap is
                # what the token estimate counted beyond the prompt), or 429 budget_exceeded.
                max_output = job.estimate - routed.prompt_tokens
                finish.spend_held(await spend.reserve(caps, routed.decision.model, routed.prompt_tokens, max_output))
            pin = None
            if endpoint.operation == RESPONSES:
                pin = await pin_to_previous(services.response_homes, services.deployments, body, routed.decision.model)
                if pin is not None:
                    finish.noted(pin.note)
            pinned = pin.deployment if pin is not None else None
            delivery = await services.dispatcher.dispatch(job, routed.decision.model, finish.ledger, pinned, traced)
            if endpoint.operation == RESPONSES and stores_response(body):
                await remember_home(services.response_homes, delivery)
        except Undelivered as undelivered:
            refusal = await finish.refused(undelivered.error, undelivered.trace)
            if traced is not None:
                traced.end(finish.record)
            return refusal
        except GatewayError as error:
            refusal = await finish.refused(error)
            if traced is not None:
                traced.end(finish.record)
            return refusal
        except BaseException as error:
            await finish.failed(error)  # its log line, its budget back; the middleware answers 500
            if traced is not None:
                traced.end(finish.record)
            raise
    headers = finish.delivered(delivery)
    return relay(
        delivery.response,
        delivery.body,
        delivery.chunks,
        delivery.candidate.deployment.id,
        headers,
        finish.answered if traced is None else traced.ending(finish),
        strip_usage_chunk=delivery.strip_usage_chunk,
        event_stream="responses" if endpoint.operation == RESPONSES else "chat",
    )


def _estimate(services: Services, routed: Routed) -> int:
    """Tokens to reserve: the prompt, plus the most the answer may use when it generates text."""
    features = routed.features
    return services.admission.estimate(
        routed.prompt_tokens, features.output_tokens, features.task in _GENERATES_TEXT, features.output_choices
    )


def request_deadline(settings: RetrySettings, client_headers: Headers) -> float:
    """When the request must be answered or given up: the config's budget, or less if the client waits less."""
    budget = settings.request_timeout_seconds
    try:
        client_timeout = float(client_headers.get(CLIENT_TIMEOUT_HEADER, "inf"))
    except ValueError:
        client_timeout = budget
    if client_timeout > 0:
        budget = min(budget, client_timeout)
    return time.monotonic() + budget
