"""A realtime session's routing-log line: written once, when the session is over or was refused."""

from __future__ import annotations

from gateway.observe.routing_log import RequestRecord
from gateway.pricing.cost import PriceList
from gateway.realtime.metering import SessionMeter
from gateway.realtime.relay import Counts, Ending
from gateway.reply.headers import gateway_headers
from gateway.routing.router import Routed

ACCEPTED = 101  # the status of a session that was opened, however it ended


def note_route(record: RequestRecord, routed: Routed) -> None:
    record.features = routed.features.as_dict()
    record.path = routed.decision.path_as_dicts() or None
    record.notes = list(routed.decision.notes) or None
    record.model = routed.decision.model


def headers_for(record: RequestRecord) -> dict[str, str]:
    """x-request-id, x-gateway-model and x-gateway-deployment, as far as the session got; once a
    deployment was chosen Azure was called, once: x-gateway-attempts, as on HTTP responses."""
    headers = gateway_headers(record.request_id, record.model, record.deployment)
    if record.deployment is not None:
        headers["x-gateway-attempts"] = "1"
    return headers


def note_ending(
    record: RequestRecord, ending: Ending, meter: SessionMeter, counts: Counts, prices: PriceList | None = None
) -> None:
    record.realtime = {
        "responses": meter.responses,
        "closed_by": ending.closed_by,
        "close_code": ending.code,  # None: Azure dropped the connection without a close frame
        "close_reason": ending.reason,
        "client_frames": counts.client_frames,
        "azure_frames": counts.azure_frames,
    }
    record.usage = dict(meter.usage) if meter.responses else None
    if prices is not None and record.usage is not None:
        record.cost_usd = prices.cost(record.model, record.usage)
    if meter.notes:
        record.notes = [*(record.notes or []), *meter.notes]
    record.finish(ACCEPTED, ending.error)  # latency_ms: how long the session lasted
