"""The spans of one traced request, made with OpenTelemetry; imported only when tracing is on (tracing.py).

    chat gpt-4.1            SERVER  the whole request, from arrival to the answer's last byte
    ├── route               INTERNAL  the routing decision
    ├── admit               INTERNAL  one per deployment asked for room in its budgets
    └── chat gpt-4.1        CLIENT  one per upstream attempt; its own context goes to Azure as `traceparent`

Names and attributes follow OpenTelemetry's GenAI conventions ("{gen_ai.operation.name} {gen_ai.request.model}",
`gen_ai.usage.input_tokens`, ...); the gateway's own are `gateway.*`. No attribute holds a key or any text of
a request or an answer: only model names, deployment ids, counts, statuses and error codes.

A request's span is continued from the client's W3C `traceparent` (and `tracestate`) when it sends one. Only
the trace context crosses the gateway: the client's `baggage` reaches neither these spans nor Azure.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gateway import __version__
from gateway.errors import GatewayError, RateLimited
from gateway.observe.metrics import operation_name

if TYPE_CHECKING:
    from gateway.dispatch.attempts import Attempt
    from gateway.dispatch.delivery import Delivery
    from gateway.observe.routing_log import RequestRecord
    from gateway.reply.finish import Finish
    from gateway.reply.relay import StreamOutcome
    from gateway.routing.router import Routed
    from gateway.upstream.deployments import Deployment

T = TypeVar("T")

DEFAULT_SERVICE_NAME = "ai-gateway"
PROVIDER = "azure.ai.openai"  # gen_ai.provider.name's value for Azure OpenAI (and the older gen_ai.system's)
_W3C = TraceContextTextMapPropagator()
# Azure's two namings of a usage's parts (reply/usage.py): chat's, then the Responses API's.
_USAGE_PARTS = (("prompt_tokens", "completion_tokens"), ("input_tokens", "output_tokens"))
# The traced request this task is dispatching, for the dispatcher's admit and attempt spans.
_DISPATCHING: contextvars.ContextVar[RequestSpan | None] = contextvars.ContextVar("gateway_request_span", default=None)


def provider_for(exporters: Sequence[str]) -> TracerProvider:
    """A provider exporting to `exporters` (`otlp`, `console`) in batches. The SDK reads the rest of its set-up
    (resource attributes, sampler, OTLP endpoint, headers and timeouts, batch sizes) from OTEL_* itself."""
    provider = TracerProvider(resource=_resource())
    for name in exporters:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    return provider


def _resource() -> Resource:
    resource = Resource.create({"service.version": __version__})
    # Resource.create names an unnamed service "unknown_service:<executable>".
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": DEFAULT_SERVICE_NAME}))
    return resource


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    # Imported here: it pulls in protobuf and requests, which a console-only set-up does not need.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


class Tracing:
    """Tracing turned on: makes each request's spans with `provider`'s tracer."""

    def __init__(self, provider: TracerProvider, *, owns_provider: bool = True) -> None:
        """`owns_provider`: shut it down (exporting what is left) when the gateway stops; False for a provider
        installed by a test, which outlives the gateway."""
        self.provider = provider
        self._tracer = provider.get_tracer("gateway", __version__)
        self._owns_provider = owns_provider

    def request_span(self, operation: str, client_headers: Mapping[str, str], request_id: str) -> RequestSpan:
        return RequestSpan(self._tracer, operation, client_headers, request_id)

    async def admitting(self, admit: Awaitable[T], deployment_id: str, tokens: int) -> T:
        """`admit` (asking one deployment's budgets for room), under an `admit` span."""
        request = _DISPATCHING.get()
        if request is None:
            return await admit
        attributes: dict[str, str | int] = {"gateway.deployment.id": deployment_id, "gateway.admit.tokens": tokens}
        span = self._tracer.start_span("admit", request.context, attributes=attributes)
        try:
            return await admit
        except RateLimited as refused:
            span.set_attribute("error.type", refused.code or "rate_limited")
            span.set_attribute("gateway.admit.budget", "client_key" if refused.by_client_key else "deployment")
            raise
        except BaseException as error:
            _failed(span, error)
            raise
        finally:
            span.end()

    async def attempting(
        self, send: Awaitable[Delivery], deployment: Deployment, attempt: Attempt, operation: str, retry: int
    ) -> Delivery:
        """`send` (one upstream attempt), under a CLIENT span that is the current context while it runs, so that
        `propagate` hands it to Azure. A stream's span stays open until the request ends."""
        request = _DISPATCHING.get()
        if request is None:
            return await send
        address = urlsplit(deployment.endpoint)
        attributes: dict[str, str | int] = {
            "gen_ai.operation.name": operation_name(operation),
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.system": PROVIDER,
            "gen_ai.request.model": attempt.model,
            "gateway.deployment.id": deployment.id,
            "server.address": address.hostname or "",
            "server.port": address.port or (443 if address.scheme == "https" else 80),
        }
        if retry:
            attributes["http.request.resend_count"] = retry
        name = f"{operation_name(operation)} {attempt.model}"
        span = self._tracer.start_span(name, request.context, kind=SpanKind.CLIENT, attributes=attributes)
        try:
            with trace.use_span(span, record_exception=False, set_status_on_exception=False):
                delivery = await send
        except BaseException as error:
            _attempt_answered(span, attempt)
            _failed(span, error)
            span.set_status(Status(StatusCode.ERROR))  # whatever the status, this attempt did not answer
            span.end()
            raise
        _attempt_answered(span, attempt)
        if delivery.chunks is None:
            span.end()
        else:
            request.hold(span)  # the relay reads the rest of the stream after the dispatcher is done
        return delivery

    def propagate(self, headers: MutableMapping[str, str]) -> None:
        """The current upstream attempt's trace context, as W3C headers on its request to Azure."""
        _W3C.inject(headers)

    def shutdown(self) -> None:
        """Export what is left and stop (blocking: call it off the event loop)."""
        if self._owns_provider:
            self.provider.shutdown()


class RequestSpan:
    """One request's SERVER span, continued from the client's trace context when it sent one."""

    def __init__(
        self, tracer: trace.Tracer, operation: str, client_headers: Mapping[str, str], request_id: str
    ) -> None:
        self._tracer = tracer
        self._operation = operation_name(operation)
        attributes = {
            "gen_ai.operation.name": self._operation,
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.system": PROVIDER,
            "http.request.method": "POST",
            "gateway.request.id": request_id,
        }
        parent = _W3C.extract(client_headers)
        self.span = tracer.start_span(self._operation, parent, kind=SpanKind.SERVER, attributes=attributes)
        self.context = trace.set_span_in_context(self.span, parent)
        self._held: list[Span] = []
        self._ended = False

    async def routing(self, route: Awaitable[Routed], requested_model: str) -> Routed:
        """`route` (the routing decision) under a `route` span; the request's span is then named after the
        model asked for, which routing has accepted as one the config knows."""
        with self._tracer.start_as_current_span(
            "route", self.context, record_exception=False, set_status_on_exception=False
        ) as span:
            try:
                routed = await route
            except BaseException as error:
                _failed(span, error)
                raise
            span.set_attribute("gateway.route.model", routed.decision.model)
            span.set_attribute("gateway.route.path_length", len(routed.decision.path))
        self.span.update_name(f"{self._operation} {requested_model}")
        self.span.set_attribute("gen_ai.request.model", requested_model)
        return routed

    @contextmanager
    def dispatching(self) -> Iterator[None]:
        """The dispatcher's spans (admit, attempts) are this request's children while the block runs."""
        attached = otel_context.attach(self.context)
        current = _DISPATCHING.set(self)
        try:
            yield
        finally:
            _DISPATCHING.reset(current)
            otel_context.detach(attached)

    def hold(self, span: Span) -> None:
        """`span` ends with the request."""
        self._held.append(span)

    def ending(self, finish: Finish) -> Callable[[StreamOutcome], Awaitable[None]]:
        """`finish.answered`, then the end of this span: what the relay calls once the answer's end is known."""

        async def answered(outcome: StreamOutcome) -> None:
            await finish.answered(outcome)
            # A stream Azure cut is an error the client sees (as an error event); a client leaving is not.
            self.end(finish.record, interrupted=outcome.error is not None and not outcome.client_disconnected)

        return answered

    def end(self, record: RequestRecord, *, interrupted: bool = False) -> None:
        """End the request's span (and the attempt it held, a stream's) with what its finished `record` says.
        `interrupted`: Azure's stream broke off after the client's response had started."""
        if self._ended:
            return
        self._ended = True
        for held in self._held:
            if interrupted:
                _interrupted(held)
            held.end()
        span, status = self.span, record.status
        if span.is_recording():
            span.set_attributes(_outcome_attributes(record))
            if status is not None and status >= 400:
                # The gateway's error code (model_not_found, rate_limit_exceeded, ...): a short, fixed set.
                span.set_attribute("error.type", record.error or str(status))
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            elif interrupted:
                _interrupted(span)
        span.end()


def _outcome_attributes(record: RequestRecord) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {}
    if record.status is not None:
        attributes["http.response.status_code"] = record.status
    if record.model is not None:
        attributes["gen_ai.response.model"] = record.model
    if record.deployment is not None:
        attributes["gateway.deployment.id"] = record.deployment
    if record.attempts:
        attributes["gateway.attempts"] = len(record.attempts)
    usage = record.usage
    if usage:
        for input_name, output_name in _USAGE_PARTS:
            tokens_in, tokens_out = usage.get(input_name), usage.get(output_name)
            if type(tokens_in) is int:
                attributes["gen_ai.usage.input_tokens"] = tokens_in
            if type(tokens_out) is int:
                attributes["gen_ai.usage.output_tokens"] = tokens_out
            if tokens_in is not None or tokens_out is not None:
                break
    return attributes


def _attempt_answered(span: Span, attempt: Attempt) -> None:
    if attempt.status is not None:
        span.set_attribute("http.response.status_code", attempt.status)


def _interrupted(span: Span) -> None:
    span.set_attribute("error.type", "stream_interrupted")
    span.set_status(Status(StatusCode.ERROR))


def _failed(span: Span, error: BaseException) -> None:
    """An error type the conventions allow: the gateway's code for its own errors, else the exception's class."""
    if isinstance(error, GatewayError):
        span.set_attribute("error.type", error.code or str(error.status))
        if error.status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        return
    span.set_attribute("error.type", type(error).__qualname__)
    span.set_status(Status(StatusCode.ERROR))
