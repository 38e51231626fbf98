"""When the gateway traces: the OTEL_* rule, the test hook, OTLP export for real, and a gateway without the
extra (or not asked to trace) that runs as before and never imports opentelemetry."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.observe import tracing
from gateway.observe.tracing import exporters_asked, start_tracing
from tests.support.servers import serve

ENDPOINT = "http://127.0.0.1:4318"


@pytest.fixture(autouse=True)
def _nothing_installed() -> Iterator[None]:
    tracing.uninstall()
    yield
    tracing.uninstall()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, ()),
        ({"OTEL_SERVICE_NAME": "gw", "OTEL_TRACES_SAMPLER": "always_on"}, ()),  # set-up, but no exporter asked
        ({"OTEL_TRACES_EXPORTER": "console"}, ("console",)),
        ({"OTEL_TRACES_EXPORTER": " OTLP , console,otlp"}, ("otlp", "console")),
        ({"OTEL_TRACES_EXPORTER": "none"}, ()),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, ()),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, ("otlp",)),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{ENDPOINT}/v1/traces"}, ("otlp",)),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_SDK_DISABLED": "true"}, ()),
        ({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "false"}, ("console",)),
    ],
)
def test_the_environment_rule(environ: dict[str, str], expected: tuple[str, ...]) -> None:
    assert exporters_asked(environ) == expected


def test_an_unknown_exporter_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.observe.tracing"):
        assert exporters_asked({"OTEL_TRACES_EXPORTER": "zipkin,console"}) == ("console",)
    assert "zipkin" in caplog.text


def test_a_mapping_that_invents_values_asks_for_nothing() -> None:
    # `gateway explain` loads its config through such a mapping (cli._PlaceholderEnviron).
    class Inventive(dict[str, str]):
        def get(self, key: str, default: str | None = None) -> str:  # type: ignore[override]
            return "http://unset.invalid"

    assert exporters_asked(Inventive()) == ()


def test_unset_gives_no_tracing_and_console_gives_a_provider() -> None:
    assert start_tracing({}) is None
    started = start_tracing({"OTEL_TRACES_EXPORTER": "console"})
    assert started is not None
    try:
        assert started.provider.resource.attributes["service.name"]
    finally:
        started.shutdown()


def test_otlp_sends_the_spans_to_the_configured_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[tuple[str, str, bytes]] = []

    async def collector(request: Request) -> Response:
        received.append((request.url.path, request.headers["content-type"], await request.body()))
        return Response(b"", media_type="application/x-protobuf")

    with serve(Starlette(routes=[Route("/v1/traces", collector, methods=["POST"])])) as url:
        # The SDK reads its endpoint and resource from the process environment, as it does when served.
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
        monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
        monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
        started = start_tracing({"OTEL_EXPORTER_OTLP_ENDPOINT": url})
        assert started is not None
        request = started.request_span("chat/completions", {}, "req-exported")
        request.span.end()
        started.shutdown()  # exports what is batched before returning
    assert [(path, content_type) for path, content_type, _ in received] == [("/v1/traces", "application/x-protobuf")]
    exported = received[0][2]  # protobuf: its strings appear as they are
    assert b"req-exported" in exported and b"ai-gateway" in exported


def test_an_installed_provider_wins_and_outlives_the_gateway() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    started = start_tracing({"OTEL_TRACES_EXPORTER": "none"})
    assert started is not None and started.provider is provider
    started.shutdown()  # a gateway stopping: the test's provider is not its to shut down
    started.request_span("chat/completions", {}, "req-1").span.end()
    assert [span.name for span in exporter.get_finished_spans()] == ["chat"]
    tracing.uninstall()
    assert start_tracing({}) is None
    provider.shutdown()


def test_asked_for_without_the_extra_warns_once_and_runs_without(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # As if opentelemetry were not installed: importing it fails.
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    monkeypatch.delitem(sys.modules, "gateway.observe.spans", raising=False)
    with caplog.at_level(logging.WARNING, logger="gateway.observe.tracing"):
        assert start_tracing({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}) is None
    warnings = [record for record in caplog.records if record.name == "gateway.observe.tracing"]
    assert len(warnings) == 1
    assert "not installed" in warnings[0].getMessage() and "[otel]" in warnings[0].getMessage()


def test_a_gateway_not_asked_to_trace_never_imports_opentelemetry() -> None:
    program = (
        "import sys, anyio\n"
        "from gateway.app import create_app\n"
        "from gateway.cli import main\n"
        "from gateway.observe.tracing import start_tracing\n"
        "assert start_tracing({}) is None\n"
        "print(sorted(name for name in sys.modules if name.startswith('opentelemetry')))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"
