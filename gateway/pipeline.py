"""One request's path through the gateway, in order. Each step lives in its own module.

authenticate → read body → route (features, decision) → admit (token and request budgets)
  → build upstream request → call Azure → relay the answer (streamed or whole)
  → settle the budgets with the real usage → write the routing log line
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.admission import Admitted
from gateway.errors import GatewayError
from gateway.inbound.endpoints import Endpoint
from gateway.inbound.read import read_client_body
from gateway.relay import StreamOutcome, relay
from gateway.request_log import RequestRecord
from gateway.responses import error_response, gateway_headers
from gateway.services import Services
from gateway.upstream.outbound import build_upstream_request, strips_usage_chunk
from gateway.usage import extract_usage, total_tokens

_GENERATES_TEXT = frozenset({"chat", "completion", "audio_generation"})


async def handle(services: Services, request: Request, endpoint: Endpoint, request_id: str) -> Response:
    record = RequestRecord(request_id=request_id, endpoint=endpoint.operation)
    headers = gateway_headers(request_id)
    admitted: Admitted | None = None
    try:
        record.key_id = services.client_keys.authenticate(request.headers)
        body = await read_client_body(request, endpoint, services.config.limits)
        record.model_requested, record.stream = body.model, body.stream

        routed = await services.router.route(body, request.headers)
        record.features = routed.features.as_dict()
        record.path = routed.decision.path_as_dicts() or None
        record.notes = list(routed.decision.notes) or None
        record.prompt_tokens = routed.prompt_tokens
        model = routed.decision.model
        headers = gateway_headers(request_id, model)

        estimate = services.admission.estimate(
            routed.prompt_tokens, routed.features.output_tokens, routed.features.task in _GENERATES_TEXT
        )
        admitted = await services.admission.admit(record.key_id, model, services.deployments.for_model(model), estimate)
        deployment = admitted.deployment
        record.model, record.deployment = deployment.model, deployment.id
        headers = gateway_headers(request_id, deployment.model, deployment.id)

        outbound = await build_upstream_request(
            deployment, body, request.headers, request_id, services.header_policy, services.credentials
        )
        upstream = await services.upstream.send(outbound)
        record.upstream_status = upstream.status_code
        await services.admission.cool_down_if_throttled(deployment, upstream.status_code, upstream.headers)
        settled_admission = admitted

        async def stream_ended(outcome: StreamOutcome) -> None:
            record.bytes_out = outcome.bytes_sent
            record.usage = outcome.usage
            record.finish(upstream.status_code, outcome.error)
            # A cut stream's usage is unknown: the estimate stays charged, as Azure bills what it generated.
            await services.admission.settle(settled_admission, total_tokens(outcome.usage), upstream.headers)
            services.routing_log.write(record)

        response, streaming = await relay(
            upstream, deployment.id, headers, stream_ended, strip_usage_chunk=strips_usage_chunk(body)
        )
    except GatewayError as error:
        if admitted is not None:
            await services.admission.refund(admitted)
        record.finish(error.status, error.code)
        services.routing_log.write(record)
        return error_response(error, headers)
    if not streaming:
        record.bytes_out = len(response.body)
        record.usage = extract_usage(bytes(response.body))
        record.finish(response.status_code)
        await services.admission.settle(admitted, total_tokens(record.usage), upstream.headers)
        services.routing_log.write(record)
    return response
