"""A request's last step, in one place whatever its ending: settle or refund its reservations, then write
its one routing-log line.

The pipeline notes what each step learnt (who asked, where the decision went, what the dispatcher tried)
on one `Finish`, and ends the request through it: `answered` (called by the relayed response once its end
is known, streams included), `refused` (an error the client is told of) or `failed` (a bug or a cancelled
task: the server answers 500 or nothing). Whichever comes first ends it; the others do nothing. Every
reservation the request took is in its `ledger`: the answering one is settled, any other still open is
refunded. Ending is shielded from cancellation, so a cancelled request still gives its budget back.
"""

from __future__ import annotations

import time

import anyio
from starlette.responses import JSONResponse

from gateway.dispatch.delivery import Delivery, Trace
from gateway.errors import GatewayError
from gateway.inbound.fields import ClientBody
from gateway.limits.admission import Admission
from gateway.limits.ledger import Ledger
from gateway.limits.spend import SpendHold
from gateway.observe import metrics
from gateway.observe.routing_log import RequestRecord, RoutingLog
from gateway.pricing.cost import PriceList
from gateway.reply.headers import error_response, gateway_headers
from gateway.reply.relay import StreamOutcome
from gateway.reply.usage import total_tokens
from gateway.routing.router import Routed

_SPEECH = "audio/speech"


class Finish:
    def __init__(
        self, admission: Admission, routing_log: RoutingLog, record: RequestRecord, prices: PriceList | None = None
    ) -> None:
        self.record = record
        self.ledger = Ledger(admission)
        self._routing_log = routing_log
        self._prices = prices  # None: no cost is logged
        self._spoken_characters: int | None = None  # audio/speech: tts-1 is priced by the input's characters
        self._routed_model: str | None = None  # named in headers before any deployment answered
        self._delivery: Delivery | None = None
        self._delivered_at = 0.0  # time.perf_counter() when the answering attempt was committed
        self._spend: SpendHold | None = None  # the key's spend reservation, when it has a USD cap
        self._finished = False

    @property
    def request_id(self) -> str:
        return self.record.request_id

    def authenticated(self, key_id: str) -> None:
        self.record.key_id = key_id

    def asked(self, body: ClientBody) -> None:
        self.record.model_requested, self.record.stream = body.model, body.stream
        if body.endpoint.operation == _SPEECH and body.json is not None:
            spoken = body.json.get("input")
            self._spoken_characters = len(spoken) if isinstance(spoken, str) else None

    def routed(self, routed: Routed) -> None:
        record = self.record
        record.features = routed.features  # written as its fields: no dict made on the request's path
        record.path = routed.decision.path_as_dicts() or None
        record.notes = list(routed.decision.notes) or None
        record.prompt_tokens = routed.prompt_tokens
        self._routed_model = routed.decision.model

    def spend_held(self, hold: SpendHold) -> None:
        """The request's spend reservation: settled with its cost when answered, released otherwise."""
        self._spend = hold
        if hold.note is not None:
            self.noted(hold.note)

    def noted(self, note: str) -> None:
        """Something the log must say about where the request went, besides the decision's own notes."""
        self.record.notes = [*(self.record.notes or []), note]

    def delivered(self, delivery: Delivery) -> dict[str, str]:
        """Note the answering attempt; the headers the client's response carries."""
        self._delivery, self._delivered_at = delivery, time.perf_counter()
        self.record.model, self.record.deployment = delivery.candidate.model, delivery.candidate.deployment.id
        self.record.upstream_status = delivery.response.status_code
        if delivery.chunks is not None:  # a stream is committed once Azure's first chunk is in hand
            metrics.first_token(self.record, delivery.candidate.model)
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
        if self._prices is not None and record.status is not None and record.status < 400:
            record.cost_usd = self._prices.cost(record.model, outcome.usage, self._spoken_characters)
        if self.ledger.suspends:
            with anyio.CancelScope(shield=True):
                await self._settle(delivery, outcome)
        else:
            # Nothing in it yields to the event loop, so no cancellation can land midway: the shield would
            # only cost time (~3% of a request's CPU).
            await self._settle(delivery, outcome)
        if self._spend is not None:
            await self._settle_spend(self._spend, record.status)
        self._answering_attempt_ended(delivery, outcome.error)
        metrics.request_ended(record)
        self._routing_log.write(record)

    async def _settle(self, delivery: Delivery, outcome: StreamOutcome) -> None:
        # A cut stream's usage is unknown: the estimate stays charged, as Azure bills what it generated.
        await self.ledger.settle(delivery.admitted, total_tokens(outcome.usage), delivery.response.headers)
        await self.ledger.refund_open()

    async def _settle_spend(self, spend: SpendHold, status: int | None) -> None:
        # Azure refusing the request bills nothing; an unknown cost (None) keeps the maximum (SpendHold.settle).
        cost = self.record.cost_usd if status is not None and status < 400 else 0.0
        if spend.suspends:
            with anyio.CancelScope(shield=True):
                await spend.settle(cost)
        else:
            await spend.settle(cost)

    async def refused(self, error: GatewayError, trace: Trace | None = None) -> JSONResponse:
        """The client gets `error`; `trace` is what the dispatcher tried, when it got that far."""
        if trace is not None:
            self._traced(trace)
        await self._end(error.status, error.code)
        return error_response(error, self._headers(trace))

    async def failed(self, error: BaseException) -> None:
        """Something no step expected (a bug), or the request's task was cancelled: nothing the client was
        told of. The caller re-raises, so the server answers 500 (or, cancelled, nothing)."""
        cancelled = isinstance(error, anyio.get_cancelled_exc_class())
        await self._end(499 if cancelled else 500, "cancelled" if cancelled else "internal_error")

    async def _end(self, status: int, code: str | None) -> None:
        if self._finished:
            return
        self._finished = True
        self.record.finish(status, code)
        with anyio.CancelScope(shield=True):
            await self.ledger.refund_open()
            if self._spend is not None:
                await self._spend.release()
        metrics.request_ended(self.record)
        self._routing_log.write(self.record)

    def _answering_attempt_ended(self, delivery: Delivery, error: str | None) -> None:
        # The dispatcher timed the attempt until it was committed; a stream goes on until the relay ends it.
        attempt = delivery.trace.attempts[-1]
        seconds = (attempt.latency_ms or 0.0) / 1000 + (time.perf_counter() - self._delivered_at)
        metrics.attempt_ended(self.record.endpoint, attempt.model, attempt.deployment, error, seconds)

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
