"""A request's last step, in one place whatever its ending: settle the reservation, then write the log line.

The pipeline notes what each step learnt (who asked, where the decision went, what the dispatcher tried)
on one `Finish`; `answered` (called by the relayed response once its end is known, streams included) and
`refused` each end the request exactly once. The dispatcher has already refunded every attempt that
failed, so a refused request holds no reservation.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

from gateway.dispatch.delivery import Delivery, Trace
from gateway.errors import GatewayError
from gateway.inbound.fields import ClientBody
from gateway.limits.admission import Admission
from gateway.observe.routing_log import RequestRecord, RoutingLog
from gateway.reply.headers import error_response, gateway_headers
from gateway.reply.relay import StreamOutcome
from gateway.reply.usage import total_tokens
from gateway.routing.router import Routed


class Finish:
    def __init__(self, admission: Admission, routing_log: RoutingLog, record: RequestRecord) -> None:
        self.record = record
        self._admission = admission
        self._routing_log = routing_log
        self._routed_model: str | None = None  # named in headers before any deployment answered
        self._delivery: Delivery | None = None
        self._finished = False

    @property
    def request_id(self) -> str:
        return self.record.request_id

    def authenticated(self, key_id: str) -> None:
        self.record.key_id = key_id

    def asked(self, body: ClientBody) -> None:
        self.record.model_requested, self.record.stream = body.model, body.stream

    def routed(self, routed: Routed) -> None:
        record = self.record
        record.features = routed.features.as_dict()
        record.path = routed.decision.path_as_dicts() or None
        record.notes = list(routed.decision.notes) or None
        record.prompt_tokens = routed.prompt_tokens
        self._routed_model = routed.decision.model

    def delivered(self, delivery: Delivery) -> dict[str, str]:
        """Note the answering attempt; the headers the client's response carries."""
        self._delivery = delivery
        self.record.model, self.record.deployment = delivery.candidate.model, delivery.candidate.deployment.id
        self.record.upstream_status = delivery.response.status_code
        self._traced(delivery.trace)
        return self._headers(delivery.trace)

    async def answered(self, outcome: StreamOutcome) -> None:
        """Azure's answer reached the client (or the stream ended early): charge what it used, then log."""
        if self._finished or self._delivery is None:
            return
        self._finished = True
        delivery, record = self._delivery, self.record
        record.bytes_out, record.usage = outcome.bytes_sent, outcome.usage
        record.finish(delivery.response.status_code, outcome.error)
        # A cut stream's usage is unknown: the estimate stays charged, as Azure bills what it generated.
        await self._admission.settle(delivery.admitted, total_tokens(outcome.usage), delivery.response.headers)
        self._routing_log.write(record)

    def refused(self, error: GatewayError, trace: Trace | None = None) -> JSONResponse:
        """The client gets `error`; `trace` is what the dispatcher tried, when it got that far."""
        if trace is not None:
            self._traced(trace)
        if not self._finished:
            self._finished = True
            self.record.finish(error.status, error.code)
            self._routing_log.write(self.record)
        return error_response(error, self._headers(trace))

    def _traced(self, trace: Trace) -> None:
        record = self.record
        record.attempts = [attempt.as_dict() for attempt in trace.attempts]
        if trace.attempts:
            last = trace.attempts[-1]
            record.model = record.model or last.model
            record.deployment = record.deployment or last.deployment
            record.upstream_status = record.upstream_status or last.status
        if trace.notes:
            record.notes = [*(record.notes or []), *trace.notes]

    def _headers(self, trace: Trace | None) -> dict[str, str]:
        record = self.record
        headers = gateway_headers(record.request_id, record.model or self._routed_model, record.deployment)
        if trace is None:
            return headers
        headers["x-gateway-attempts"] = str(len(trace.attempts))
        return headers
