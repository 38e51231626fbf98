"""The spans of one request, made directly (no gateway): their names, parents, attributes and statuses, and the
trace context each continues or hands on. Whole requests through a served gateway: tests/e2e/test_tracing.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gateway.dispatch.attempts import Attempt
from gateway.errors import ModelNotFound, RateLimited, UpstreamTimeout
from gateway.observe.routing_log import RequestRecord
from gateway.observe.spans import Tracing, provider_for
from gateway.reply.relay import StreamOutcome
from gateway.settings.schema import ApiKeyAuth
from gateway.upstream.deployments import Deployment

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CLIENT_SPAN_ID = "b7ad6b7169203331"
HEADERS = {"traceparent": f"00-{TRACE_ID}-{CLIENT_SPAN_ID}-01", "tracestate": "vendor=opaque"}
DEPLOYMENT = Deployment(
    id="east/chat",
    name="chat",
    model="gpt-4.1",
    resource="east",
    endpoint="https://east.openai.azure.com",
    api_style="v1",
    api_version=None,
    auth=ApiKeyAuth(api_key_env="AZ_KEY"),
)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracing(exporter: InMemorySpanExporter) -> Iterator[Tracing]:
    """Each span exported into `exporter` as it ends."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing = Tracing(provider)
    yield tracing
    tracing.shutdown()


def finished(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [span for span in exporter.get_finished_spans() if span.name == name]
    assert len(found) == 1, [span.name for span in exporter.get_finished_spans()]
    return found[0]


def span_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return f"{span.context.span_id:016x}"


def record(status: int, error: str | None = None, **fields: Any) -> RequestRecord:
    done = RequestRecord("req-1", "chat/completions", **fields)
    done.finish(status, error)
    return done


@dataclass
class Routed:
    """What the route span reads of a routing result."""

    @dataclass
    class Decision:
        model: str
        path: tuple[object, ...]

    decision: Decision


@dataclass
class Delivered:
    """What the attempt span reads of a delivery: whether the answer is a stream still being read."""

    chunks: object = None


@dataclass
class FakeFinish:
    """What `ending` needs of a Finish: the record it completes, and `answered`."""

    record: RequestRecord
    outcomes: list[StreamOutcome] = field(default_factory=list)

    async def answered(self, outcome: StreamOutcome) -> None:
        self.outcomes.append(outcome)
        self.record.usage = outcome.usage
        self.record.finish(200, outcome.error)


async def routed_to(model: str, steps: int) -> Routed:
    return Routed(Routed.Decision(model, tuple(range(steps))))


async def returns(value: object) -> Any:
    return value


async def raises(error: BaseException) -> Any:
    raise error


def test_a_request_continues_the_clients_trace_context(tracing: Tracing, exporter: InMemorySpanExporter) -> None:
    request = tracing.request_span("chat/completions", HEADERS, "req-1")
    request.end(record(200))
    span = finished(exporter, "chat")
    assert span.kind is SpanKind.SERVER
    assert span.context is not None and f"{span.context.trace_id:032x}" == TRACE_ID
    assert span.parent is not None and f"{span.parent.span_id:016x}" == CLIENT_SPAN_ID and span.parent.is_remote
    assert span.context.trace_state.get("vendor") == "opaque"
    assert span.attributes is not None and span.attributes["gateway.request.id"] == "req-1"


def test_without_a_traceparent_the_request_starts_a_trace(tracing: Tracing, exporter: InMemorySpanExporter) -> None:
    tracing.request_span("embeddings", {"traceparent": "not a traceparent"}, "req-1").end(record(200))
    span = finished(exporter, "embeddings")
    assert span.parent is None
    assert span.attributes is not None and span.attributes["gen_ai.operation.name"] == "embeddings"


async def test_routing_names_the_request_after_the_model_asked_for(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    request = tracing.request_span("chat/completions", {}, "req-1")
    routed = await request.routing(routed_to("gpt-4.1-mini", 3), "auto")
    assert routed.decision.model == "gpt-4.1-mini"
    request.end(record(200, model="gpt-4.1-mini"))
    server, route = finished(exporter, "chat auto"), finished(exporter, "route")
    assert route.parent is not None and route.parent.span_id == server.context.span_id  # type: ignore[union-attr]
    assert route.attributes == {"gateway.route.model": "gpt-4.1-mini", "gateway.route.path_length": 3}
    assert server.attributes is not None
    assert (server.attributes["gen_ai.request.model"], server.attributes["gen_ai.response.model"]) == (
        "auto",
        "gpt-4.1-mini",
    )


async def test_a_refused_routing_leaves_the_request_unnamed_by_model(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    request = tracing.request_span("chat/completions", {}, "req-1")
    with pytest.raises(ModelNotFound):
        await request.routing(raises(ModelNotFound.named("made-up")), "made-up")
    request.end(record(404, "model_not_found"))
    route, server = finished(exporter, "route"), finished(exporter, "chat")
    assert route.attributes is not None and route.attributes["error.type"] == "model_not_found"
    assert route.status.status_code is StatusCode.UNSET
    assert server.attributes is not None and "gen_ai.request.model" not in server.attributes
    assert server.attributes["error.type"] == "model_not_found"
    assert server.status.status_code is StatusCode.UNSET


@pytest.mark.parametrize(("status", "code"), [(502, "upstream_error"), (500, None)])
def test_a_5xx_is_an_error(tracing: Tracing, exporter: InMemorySpanExporter, status: int, code: str | None) -> None:
    tracing.request_span("chat/completions", {}, "req-1").end(record(status, code))
    span = finished(exporter, "chat")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == (code or str(status))  # the gateway's code, else the status
    assert span.attributes["http.response.status_code"] == status


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}, (12, 5)),
        ({"input_tokens": 30, "output_tokens": 7}, (30, 7)),  # the Responses API's naming
        ({"prompt_tokens": 9, "total_tokens": 9}, (9, None)),  # embeddings: no output
    ],
)
def test_usage_becomes_gen_ai_usage(
    tracing: Tracing, exporter: InMemorySpanExporter, usage: dict[str, int], expected: tuple[int, int | None]
) -> None:
    tracing.request_span("chat/completions", {}, "req-1").end(record(200, usage=usage))
    attributes = finished(exporter, "chat").attributes or {}
    assert (attributes["gen_ai.usage.input_tokens"], attributes.get("gen_ai.usage.output_tokens")) == expected


def test_ending_twice_ends_once(tracing: Tracing, exporter: InMemorySpanExporter) -> None:
    request = tracing.request_span("chat/completions", {}, "req-1")
    request.end(record(200))
    request.end(record(500, "internal_error"))
    assert len(exporter.get_finished_spans()) == 1
    assert finished(exporter, "chat").status.status_code is StatusCode.UNSET


async def test_admit_and_attempt_spans_need_a_dispatching_request(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    # The dispatcher used outside a traced request (no `dispatching` block) makes no orphan spans.
    assert await tracing.admitting(returns("admitted"), "east/chat", 10) == "admitted"
    attempt = Attempt("gpt-4.1", DEPLOYMENT.id, 0.0)
    delivered = Delivered()
    assert await tracing.attempting(returns(delivered), DEPLOYMENT, attempt, "chat/completions", 0) is delivered
    assert exporter.get_finished_spans() == ()


async def test_admit_spans_say_which_budget_refused(tracing: Tracing, exporter: InMemorySpanExporter) -> None:
    request = tracing.request_span("chat/completions", {}, "req-1")
    refused = RateLimited("no room", 1.0, (), blocked_by="key:key-abc")
    with request.dispatching():
        await tracing.admitting(returns("admitted"), "east/chat", 120)
        with pytest.raises(RateLimited):
            await tracing.admitting(raises(refused), "west/chat", 120)
    request.end(record(429, "rate_limit_exceeded"))
    admitted, blocked = sorted(
        (span for span in exporter.get_finished_spans() if span.name == "admit"), key=lambda span: span.start_time or 0
    )
    server = finished(exporter, "chat")
    assert {admitted.parent.span_id, blocked.parent.span_id} == {server.context.span_id}  # type: ignore[union-attr]
    assert admitted.attributes == {"gateway.deployment.id": "east/chat", "gateway.admit.tokens": 120}
    assert blocked.attributes is not None
    assert (blocked.attributes["error.type"], blocked.attributes["gateway.admit.budget"]) == (
        "rate_limit_exceeded",
        "client_key",
    )
    # The budget's key id is not an attribute, nor any part of it.
    assert not any("key-abc" in str(value) for value in blocked.attributes.values())


async def test_an_attempt_hands_its_own_context_to_azure(tracing: Tracing, exporter: InMemorySpanExporter) -> None:
    request = tracing.request_span("chat/completions", HEADERS, "req-1")
    sent: dict[str, str] = {}

    async def send() -> Delivered:
        tracing.propagate(sent)
        attempt.status = 200
        return Delivered()

    attempt = Attempt("gpt-4.1", DEPLOYMENT.id, 0.0)
    with request.dispatching():
        await tracing.attempting(send(), DEPLOYMENT, attempt, "chat/completions", 2)
    request.end(record(200))
    span = finished(exporter, "chat gpt-4.1")
    assert span.kind is SpanKind.CLIENT
    assert sent["traceparent"] == f"00-{TRACE_ID}-{span_id(span)}-01"
    assert sent["tracestate"] == "vendor=opaque"
    assert "baggage" not in sent
    assert span.attributes is not None
    assert span.attributes["server.address"] == "east.openai.azure.com"
    assert span.attributes["server.port"] == 443
    assert span.attributes["http.request.resend_count"] == 2
    assert span.attributes["http.response.status_code"] == 200


async def test_a_failed_attempt_is_an_error(tracing: Tracing, exporter: InMemorySpanExporter) -> None:
    request = tracing.request_span("chat/completions", {}, "req-1")
    attempt = Attempt("gpt-4.1", DEPLOYMENT.id, 0.0)
    with request.dispatching(), pytest.raises(UpstreamTimeout):
        await tracing.attempting(raises(UpstreamTimeout("slow")), DEPLOYMENT, attempt, "chat/completions", 0)
    span = finished(exporter, "chat gpt-4.1")
    assert span.attributes is not None and span.attributes["error.type"] == "upstream_timeout"
    assert "http.response.status_code" not in span.attributes  # no answer came
    assert span.status.status_code is StatusCode.ERROR


@pytest.mark.parametrize(
    ("outcome", "error_type"),
    [
        (StreamOutcome(usage={"prompt_tokens": 4, "completion_tokens": 2}), None),
        (StreamOutcome(error="client disconnected", client_disconnected=True), None),
        (StreamOutcome(error="The stream from Azure deployment east/chat was interrupted"), "stream_interrupted"),
    ],
)
async def test_a_streams_attempt_ends_with_the_request(
    tracing: Tracing, exporter: InMemorySpanExporter, outcome: StreamOutcome, error_type: str | None
) -> None:
    request = tracing.request_span("chat/completions", {}, "req-1")
    attempt = Attempt("gpt-4.1", DEPLOYMENT.id, 0.0, status=200)
    with request.dispatching():
        await tracing.attempting(returns(Delivered(chunks=iter(()))), DEPLOYMENT, attempt, "chat/completions", 0)
    assert exporter.get_finished_spans() == ()  # the stream is still being relayed

    finish = FakeFinish(RequestRecord("req-1", "chat/completions"))
    await request.ending(finish)(outcome)  # type: ignore[arg-type]
    assert finish.outcomes == [outcome]
    attempt_span, server = finished(exporter, "chat gpt-4.1"), finished(exporter, "chat")
    assert attempt_span.end_time is not None and server.end_time is not None
    assert attempt_span.end_time <= server.end_time
    for span in (attempt_span, server):
        assert (span.attributes or {}).get("error.type") == error_type
        assert span.status.status_code is (StatusCode.UNSET if error_type is None else StatusCode.ERROR)
    if outcome.usage:
        assert server.attributes is not None and server.attributes["gen_ai.usage.output_tokens"] == 2


def test_the_provider_names_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    provider = provider_for(())
    assert provider.resource.attributes["service.name"] == "ai-gateway"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "gateway-eu")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod")
    named = provider_for(())
    assert named.resource.attributes["service.name"] == "gateway-eu"
    assert named.resource.attributes["deployment.environment"] == "prod"
    provider.shutdown()
    named.shutdown()
