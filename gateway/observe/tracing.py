"""OpenTelemetry traces: on when the `otel` extra is installed (`pip install '.[otel]'`) and the standard
OTEL_* environment asks for them; the spans themselves are made in spans.py.

The rule, read once at start-up (each worker process sets up its own exporter):

    OTEL_SDK_DISABLED=true                       off
    OTEL_TRACES_EXPORTER=none                    off
    OTEL_TRACES_EXPORTER=otlp, console, or both  on, exporting there (OTLP over HTTP/protobuf)
    OTEL_TRACES_EXPORTER unset                   on with otlp when OTEL_EXPORTER_OTLP_ENDPOINT or
                                                 OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; else off

Unlike the SDK's own default (otlp to localhost:4318), a gateway nobody configured for tracing sends nothing.
An exporter name the gateway does not know is skipped with a warning. Everything else is the SDK's, read from
the process environment: OTEL_SERVICE_NAME (here "ai-gateway" when neither it nor OTEL_RESOURCE_ATTRIBUTES
names the service), OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and _ARG, OTEL_EXPORTER_OTLP_* (endpoint,
headers, timeout, certificates) and OTEL_BSP_* (batching). When the environment asks for traces but the
extra is not installed, one warning says so and the gateway runs without them.

Off, tracing costs a request nothing: `Services.tracing` is None, each hook in the request path is one
`is None` test, and opentelemetry is never imported.

Tests install a provider of their own (`install`), which wins over the environment until `uninstall`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from gateway.observe.spans import Tracing

EXPORTERS = ("otlp", "console")
_logger = logging.getLogger(__name__)
_installed: TracerProvider | None = None


def exporters_asked(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The exporters the environment asks for, by the rule above; () when tracing is off."""
    if _read(environ, "OTEL_SDK_DISABLED").lower() == "true":
        return ()
    named = _read(environ, "OTEL_TRACES_EXPORTER").lower()
    if not named:
        endpoint_set = _read(environ, "OTEL_EXPORTER_OTLP_ENDPOINT") or _read(
            environ, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
        )
        return ("otlp",) if endpoint_set else ()
    asked = [name.strip() for name in named.split(",") if name.strip() and name.strip() != "none"]
    unknown = [name for name in asked if name not in EXPORTERS]
    if unknown:
        _logger.warning(
            "OTEL_TRACES_EXPORTER names %s, which the gateway does not export to (it knows %s): skipped",
            ", ".join(unknown),
            ", ".join(EXPORTERS),
        )
    return tuple(dict.fromkeys(name for name in asked if name in EXPORTERS))


def _read(environ: Mapping[str, str], name: str) -> str:
    # `in` and [] rather than get(): `gateway explain` passes a mapping whose get() invents a value for
    # every unset name, so that its config loads without Azure's variables.
    return environ[name].strip() if name in environ else ""


def start_tracing(environ: Mapping[str, str]) -> Tracing | None:
    """Tracing as a test installed it, or as the environment asks; None when off."""
    if _installed is not None:
        from gateway.observe.spans import Tracing

        return Tracing(_installed, owns_provider=False)
    exporters = exporters_asked(environ)
    if not exporters:
        return None
    try:
        from gateway.observe.spans import Tracing, provider_for
    except ImportError as missing:
        _logger.warning(
            "OTEL_* asks for traces (%s), but OpenTelemetry is not installed (%s): the gateway runs without "
            "traces. Install the extra: pip install 'azure-ai-gateway[otel]'",
            ", ".join(exporters),
            missing.name or missing,
        )
        return None
    return Tracing(provider_for(exporters))


def install(provider: TracerProvider) -> None:
    """For tests: gateways started from now on trace with `provider`, whatever the environment says."""
    global _installed
    _installed = provider


def uninstall() -> None:
    global _installed
    _installed = None
