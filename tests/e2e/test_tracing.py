"""OpenTelemetry traces of real requests: a gateway on loopback tracing into the SDK's in-memory exporter, the
simulator as Azure (it records the headers it received), the openai SDK as the client."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tests.conftest import Gateway, GatewayFactory
from tests.e2e.test_retries import FAST_RETRIES, MESSAGES, two_deployments
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY
from tests.support.simulator_control import SimulatorControl
from tests.support.traces import named, recorded_spans

CLIENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN_ID = "00f067aa0ba902b7"
CLIENT_TRACEPARENT = f"00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-01"
PROMPT = "a prompt that no span may hold"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


@pytest.fixture
def traced_gateway(spans: InMemorySpanExporter, make_gateway: GatewayFactory) -> Iterator[Gateway]:
    with make_gateway(two_deployments(FAST_RETRIES)) as gateway:
        yield gateway


def sdk(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0, timeout=30)


def traceparent_parts(header: str) -> tuple[str, str]:
    """(trace id, parent span id) of a W3C traceparent."""
    version, trace_id, span_id, flags = header.split("-")
    assert version == "00" and int(flags, 16) & 1  # sampled (a new trace's may also flag its id as random)
    return trace_id, span_id


def hex_ids(span: ReadableSpan) -> tuple[str, str]:
    assert span.context is not None
    return f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}"


def parent_id(span: ReadableSpan) -> str | None:
    return None if span.parent is None else f"{span.parent.span_id:016x}"


def only(spans: list[ReadableSpan]) -> ReadableSpan:
    assert len(spans) == 1, [span.name for span in spans]
    return spans[0]


def request_span(spans: InMemorySpanExporter, timeout: float = 10.0) -> ReadableSpan:
    """The request's SERVER span. A stream's ends just after its last byte went out, so a client that read the
    whole stream can look before it has: the exporter is read until it holds one."""
    deadline = time.monotonic() + timeout
    while not (found := [span for span in spans.get_finished_spans() if span.kind is SpanKind.SERVER]):
        if time.monotonic() > deadline:
            raise AssertionError(f"no request span after {timeout} s")
        time.sleep(0.01)  # the in-memory exporter has no notification to await
    return only(found)


def attempt_spans(spans: InMemorySpanExporter) -> list[ReadableSpan]:
    return sorted(
        (span for span in spans.get_finished_spans() if span.kind is SpanKind.CLIENT),
        key=lambda span: span.start_time or 0,
    )


def test_a_chat_request_continues_the_clients_trace_down_to_azure(
    traced_gateway: Gateway, spans: InMemorySpanExporter, sim: SimulatorControl
) -> None:
    with sdk(traced_gateway) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4.1",
            messages=[{"role": "user", "content": PROMPT}],
            extra_headers={"traceparent": CLIENT_TRACEPARENT},
        )
    answer = raw.parse()

    request = request_span(spans)
    assert request.name == "chat gpt-4.1"
    assert hex_ids(request)[0] == CLIENT_TRACE_ID and parent_id(request) == CLIENT_SPAN_ID
    assert request.parent is not None and request.parent.is_remote
    attributes = dict(request.attributes or {})
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == attributes["gen_ai.system"] == "azure.ai.openai"
    assert attributes["gen_ai.request.model"] == "gpt-4.1"
    assert attributes["gen_ai.response.model"] == "gpt-4.1"
    assert answer.usage is not None
    assert attributes["gen_ai.usage.input_tokens"] == answer.usage.prompt_tokens
    assert attributes["gen_ai.usage.output_tokens"] == answer.usage.completion_tokens
    assert attributes["http.response.status_code"] == 200
    assert attributes["gateway.request.id"] == raw.headers["x-request-id"]
    assert attributes["gateway.deployment.id"] == "sim/gpt-4.1"
    assert request.status.status_code is StatusCode.UNSET

    request_id = hex_ids(request)[1]
    finished = spans.get_finished_spans()
    route, admit, attempt = only(named(finished, "route")), only(named(finished, "admit")), only(attempt_spans(spans))
    assert [parent_id(span) for span in (route, admit, attempt)] == [request_id] * 3
    assert route.attributes is not None and route.attributes["gateway.route.model"] == "gpt-4.1"
    assert admit.attributes is not None and admit.attributes["gateway.deployment.id"] == "sim/gpt-4.1"
    assert isinstance(admit.attributes["gateway.admit.tokens"], int) and admit.attributes["gateway.admit.tokens"] > 0
    assert attempt.name == "chat gpt-4.1"
    assert attempt.attributes is not None
    assert attempt.attributes["server.address"] == "127.0.0.1"
    assert attempt.attributes["http.response.status_code"] == 200
    assert "http.request.resend_count" not in attempt.attributes

    # Azure got the attempt's own context: the client's trace, with the attempt span as its parent.
    received = sim.last_request()["headers"]
    assert traceparent_parts(received["traceparent"]) == (CLIENT_TRACE_ID, hex_ids(attempt)[1])

    # No span holds a key or any of the prompt.
    secrets = (*CLIENT_KEYS, SIMULATOR_KEY, PROMPT)
    for span in spans.get_finished_spans():
        for value in (span.attributes or {}).values():
            assert not any(secret in str(value) for secret in secrets), (span.name, value)


def test_without_a_traceparent_a_new_trace_starts(
    traced_gateway: Gateway, spans: InMemorySpanExporter, sim: SimulatorControl
) -> None:
    with sdk(traced_gateway) as client:
        client.chat.completions.create(model="gpt-4.1", messages=MESSAGES)
    request = request_span(spans)
    assert request.parent is None
    trace_id = hex_ids(request)[0]
    assert trace_id != CLIENT_TRACE_ID
    assert traceparent_parts(sim.last_request()["headers"]["traceparent"]) == (
        trace_id,
        hex_ids(only(attempt_spans(spans)))[1],
    )


def test_a_retried_request_has_one_attempt_span_per_try(
    traced_gateway: Gateway, spans: InMemorySpanExporter, sim: SimulatorControl
) -> None:
    sim.add_fault(deployment="gpt-4.1", status=429, headers={"retry-after-ms": "5000", "retry-after": "5"})
    with sdk(traced_gateway) as client:
        client.chat.completions.create(model="gpt-4.1", messages=MESSAGES)

    request = request_span(spans)
    first, second = attempt_spans(spans)
    assert [parent_id(first), parent_id(second)] == [hex_ids(request)[1]] * 2
    assert first.attributes is not None and second.attributes is not None
    assert (first.attributes["gateway.deployment.id"], first.attributes["http.response.status_code"]) == (
        "sim/gpt-4.1",
        429,
    )
    assert first.attributes["error.type"] == "429"  # Azure's status, as HTTP client spans name it
    assert first.status.status_code is StatusCode.ERROR
    assert (second.attributes["gateway.deployment.id"], second.attributes["http.response.status_code"]) == (
        "sim/gpt-4.1-b",
        200,
    )
    assert second.attributes["http.request.resend_count"] == 1
    assert second.status.status_code is StatusCode.UNSET
    assert request.attributes is not None and request.attributes["gateway.attempts"] == 2
    # Each try carried its own span's context to Azure.
    sent = [traceparent_parts(record["headers"]["traceparent"]) for record in sim.requests()]
    assert sent == [(hex_ids(first)[0], hex_ids(first)[1]), (hex_ids(second)[0], hex_ids(second)[1])]


def test_a_streams_span_ends_after_its_last_chunk_with_its_usage(
    traced_gateway: Gateway, spans: InMemorySpanExporter, sim: SimulatorControl
) -> None:
    # Azure sends the first chunk, then holds the rest until the test has looked at the spans.
    sim.add_fault(deployment="gpt-4.1", hold="stream-rest")
    with sdk(traced_gateway) as client:
        stream = client.chat.completions.create(model="gpt-4.1", messages=MESSAGES, stream=True)
        chunks = iter(stream)
        next(chunks)
        sim.wait_for_hold("stream-rest")
        assert {span.name for span in spans.get_finished_spans()} == {"route", "admit"}
        sim.release("stream-rest")
        rest = list(chunks)
    assert rest  # the held part arrived after the release

    request = request_span(spans)
    attempt = only(attempt_spans(spans))
    assert request.attributes is not None
    assert request.attributes["gen_ai.usage.input_tokens"] > 0  # type: ignore[operator]
    assert request.attributes["gen_ai.usage.output_tokens"] > 0  # type: ignore[operator]
    # The attempt's span lasts as long as Azure's stream, which the relay read to its end.
    assert attempt.end_time is not None and request.end_time is not None
    assert attempt.end_time <= request.end_time
    assert "error.type" not in (attempt.attributes or {})


def test_a_refused_request_records_its_error_type(traced_gateway: Gateway, spans: InMemorySpanExporter) -> None:
    with sdk(traced_gateway) as client, pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=MESSAGES)
    request = request_span(spans)
    assert request.name == "chat"  # never named after a model the config does not know
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 404
    assert request.attributes["error.type"] == "model_not_found"
    assert request.status.status_code is StatusCode.UNSET  # a client's mistake is not the server's error
    assert attempt_spans(spans) == []


def test_untraced_gateway_adds_no_traceparent_and_forwards_none(gateway: Gateway, sim: SimulatorControl) -> None:
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"authorization": f"Bearer {gateway.client_key}", "traceparent": CLIENT_TRACEPARENT},
        json={"model": "gpt-4.1", "messages": MESSAGES},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    received = sim.last_request()["headers"]
    assert "traceparent" not in received and "tracestate" not in received
