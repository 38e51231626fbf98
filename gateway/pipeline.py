"""One request's path through the gateway, in order. Each step lives in its own module.

authenticate → read body → route (features, decision) → dispatch: admit, call Azure, retry elsewhere
  or fall back (gateway/dispatch) → relay the answer (streamed or whole)
  → settle the budgets with the real usage → write the routing log line
"""

from __future__ import annotations

import time

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from gateway.dispatch.dispatcher import Delivery, Job
from gateway.errors import GatewayError
from gateway.inbound.endpoints import Endpoint
from gateway.inbound.read import read_client_body
from gateway.observe.routing_log import RequestRecord
from gateway.reply.headers import error_response, gateway_headers
from gateway.reply.relay import StreamOutcome, relay
from gateway.reply.usage import extract_usage, total_tokens
from gateway.services import Services
from gateway.settings.schema import RetrySettings
from gateway.upstream.outbound import strips_usage_chunk

_GENERATES_TEXT = frozenset({"chat", "completion", "audio_generation"})
# The openai SDK tells how long it will wait for the answer; trying beyond that helps nobody.
CLIENT_TIMEOUT_HEADER = "x-stainless-read-timeout"


async def handle(services: Services, request: Request, endpoint: Endpoint, request_id: str) -> Response:
    record = RequestRecord(request_id=request_id, endpoint=endpoint.operation)
    headers = gateway_headers(request_id)
    job: Job | None = None
    try:
        record.key_id = services.client_keys.authenticate(request.headers)
        body = await read_client_body(request, endpoint, services.config.limits)
        record.model_requested, record.stream = body.model, body.stream

        routed = await services.router.route(body, request.headers)
        record.features = routed.features.as_dict()
        record.path = routed.decision.path_as_dicts() or None
        record.notes = list(routed.decision.notes) or None
        record.prompt_tokens = routed.prompt_tokens
        headers = gateway_headers(request_id, routed.decision.model)

        estimate = services.admission.estimate(
            routed.prompt_tokens, routed.features.output_tokens, routed.features.task in _GENERATES_TEXT
        )
        job = Job(
            record.key_id,
            body,
            request.headers,
            request_id,
            estimate,
            _deadline(services.config.retries, request.headers),
        )
        delivery = await services.dispatcher.dispatch(job, routed.decision.model)
        headers = _delivery_headers(request_id, delivery, job)
        _note_delivery(record, delivery, job)
        settled = delivery

        async def stream_ended(outcome: StreamOutcome) -> None:
            record.bytes_out = outcome.bytes_sent
            record.usage = outcome.usage
            record.finish(settled.response.status_code, outcome.error)
            # A cut stream's usage is unknown: the estimate stays charged, as Azure bills what it generated.
            await services.admission.settle(settled.admitted, total_tokens(outcome.usage), settled.response.headers)
            services.routing_log.write(record)

        response = relay(
            delivery.response,
            delivery.body,
            delivery.chunks,
            delivery.candidate.deployment.id,
            headers,
            stream_ended,
            strip_usage_chunk=strips_usage_chunk(body),
        )
    except GatewayError as error:
        if job is not None:
            _note_attempts(record, job)
            if job.attempts:
                last = job.attempts[-1]
                headers = gateway_headers(request_id, last.model, last.deployment)
            headers["x-gateway-attempts"] = str(len(job.attempts))
        record.finish(error.status, error.code)
        services.routing_log.write(record)
        return error_response(error, headers)
    if delivery.body is not None:
        record.bytes_out = len(delivery.body)
        record.usage = extract_usage(delivery.body)
        record.finish(delivery.response.status_code)
        await services.admission.settle(delivery.admitted, total_tokens(record.usage), delivery.response.headers)
        services.routing_log.write(record)
    return response


def _deadline(settings: RetrySettings, client_headers: Headers) -> float:
    budget = settings.request_timeout_seconds
    try:
        client_timeout = float(client_headers.get(CLIENT_TIMEOUT_HEADER, "inf"))
    except ValueError:
        client_timeout = budget
    if client_timeout > 0:
        budget = min(budget, client_timeout)
    return time.monotonic() + budget


def _delivery_headers(request_id: str, delivery: Delivery, job: Job) -> dict[str, str]:
    headers = gateway_headers(request_id, delivery.candidate.model, delivery.candidate.deployment.id)
    headers["x-gateway-attempts"] = str(len(job.attempts))
    return headers


def _note_delivery(record: RequestRecord, delivery: Delivery, job: Job) -> None:
    record.model, record.deployment = delivery.candidate.model, delivery.candidate.deployment.id
    record.upstream_status = delivery.response.status_code
    _note_attempts(record, job)


def _note_attempts(record: RequestRecord, job: Job) -> None:
    record.attempts = [attempt.as_dict() for attempt in job.attempts]
    if job.attempts:
        last = job.attempts[-1]
        record.model = record.model or last.model
        record.deployment = record.deployment or last.deployment
        record.upstream_status = record.upstream_status or last.status
    if job.notes:
        record.notes = [*(record.notes or []), *job.notes]
