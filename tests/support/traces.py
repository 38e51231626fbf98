"""Spans the gateway finishes, kept in memory: the OpenTelemetry SDK's in-memory exporter behind a
SimpleSpanProcessor (each span exported as it ends), installed through the tracing module's test hook."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.observe import tracing


@contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """Gateways started inside the block trace into the yielded exporter; uninstalled when it ends."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.uninstall()
        provider.shutdown()


def named(spans: tuple[ReadableSpan, ...] | list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]
