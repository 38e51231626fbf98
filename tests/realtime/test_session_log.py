"""session_log: the routing-log line of a realtime session, and the x-gateway-* headers of its handshake."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.limits import MemoryLimiter
from gateway.limits.admission import Admission
from gateway.limits.budget_book import BudgetBook
from gateway.observe.routing_log import RequestRecord
from gateway.realtime.metering import SessionMeter
from gateway.realtime.relay import Counts, Ending
from gateway.realtime.session_log import ACCEPTED, headers_for, note_ending, note_route
from gateway.routing.decide import Decision, Step
from gateway.routing.features import Features
from gateway.routing.router import Routed
from gateway.settings.schema import ApiKeyAuth, ClientKeySettings, KeyRateLimit, RateLimitSettings
from gateway.upstream.deployments import Deployment

KEY = "key-realtime"
MODEL = "gpt-realtime"
DEPLOYMENT = Deployment(
    id="res/gpt-realtime",
    name="gpt-realtime",
    model=MODEL,
    resource="res",
    endpoint="https://res.openai.azure.com",
    api_style="v1",
    api_version=None,
    auth=ApiKeyAuth(api_key_env="AZURE_KEY"),
)
FEATURES = Features(
    operation="realtime",
    task="realtime",
    image_input=False,
    output_tokens=None,
    latency="unspecified",
    cost="unspecified",
    task_class="general",
    task_class_source="not a text task",
    task_class_reason="realtime",
    stream=False,
)


def routed(path: tuple[Step, ...] = (), notes: tuple[str, ...] = ()) -> Routed:
    decision = Decision(model=MODEL, requested="auto", leaf="voice" if path else None, path=path, notes=notes)
    return Routed(features=FEATURES, decision=decision, prompt_tokens=0, counted={})


def meter(rpm: int | None = None) -> SessionMeter:
    limits = KeyRateLimit(tpm=100_000, rpm=rpm)
    book = BudgetBook([], ClientKeySettings(per_key={KEY: limits}))
    admission = Admission(MemoryLimiter(burst_fraction=None, clock=lambda: 5_000.0), book, RateLimitSettings())
    return SessionMeter(admission, KEY, MODEL, DEPLOYMENT)


def response_done(input_tokens: int, output_tokens: int) -> str:
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens}
    return orjson.dumps({"type": "response.done", "response": {"usage": usage}}).decode()


def logged(record: RequestRecord) -> dict[str, Any]:
    line: dict[str, Any] = orjson.loads(record.as_json())
    return line


def test_note_route_records_the_decision() -> None:
    record = RequestRecord(request_id="req-1", endpoint="realtime")
    step = Step(node="voice?", ask="task is realtime", answer="yes", reason="realtime endpoint", by_default=False)
    note_route(record, routed(path=(step,), notes=("gpt-4o-realtime passed over: cooling down",)))
    assert record.model == MODEL
    assert record.features == FEATURES.as_dict()
    assert record.features["task"] == "realtime"
    assert record.path == [
        {
            "node": "voice?",
            "ask": "task is realtime",
            "answer": "yes",
            "reason": "realtime endpoint",
            "by_default": False,
        }
    ]
    assert record.notes == ["gpt-4o-realtime passed over: cooling down"]


def test_note_route_leaves_an_empty_path_and_notes_out() -> None:
    record = RequestRecord(request_id="req-1", endpoint="realtime")
    note_route(record, routed())
    assert (record.path, record.notes) == (None, None)
    assert record.model == MODEL


def test_headers_before_a_deployment_was_chosen() -> None:
    record = RequestRecord(request_id="req-1", endpoint="realtime")
    assert headers_for(record) == {"x-request-id": "req-1", "x-gateway-model": "none", "x-gateway-deployment": "none"}
    record.model = MODEL
    assert headers_for(record)["x-gateway-model"] == MODEL
    assert "x-gateway-attempts" not in headers_for(record)


def test_headers_once_azure_was_called() -> None:
    record = RequestRecord(request_id="req-1", endpoint="realtime", model=MODEL, deployment=DEPLOYMENT.id)
    assert headers_for(record) == {
        "x-request-id": "req-1",
        "x-gateway-model": MODEL,
        "x-gateway-deployment": DEPLOYMENT.id,
        "x-gateway-attempts": "1",
    }


async def test_the_line_of_a_session_with_responses() -> None:
    session_meter = meter()
    await session_meter.observe_azure_text(response_done(30, 12))
    await session_meter.observe_azure_text(response_done(50, 8))
    record = RequestRecord(request_id="req-1", endpoint="realtime", key_id=KEY, model=MODEL, deployment=DEPLOYMENT.id)
    note_ending(record, Ending("client", 1000, "bye"), session_meter, Counts(client_frames=7, azure_frames=41))

    line = logged(record)
    assert line["realtime"] == {
        "responses": 2,
        "closed_by": "client",
        "close_code": 1000,
        "close_reason": "bye",
        "client_frames": 7,
        "azure_frames": 41,
    }
    assert line["usage"] == {"input_tokens": 80, "output_tokens": 20, "total_tokens": 100}
    assert line["status"] == ACCEPTED == 101
    assert line["error"] is None
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0
    assert (line["request_id"], line["key_id"], line["model"], line["deployment"]) == (
        "req-1",
        KEY,
        MODEL,
        DEPLOYMENT.id,
    )


async def test_the_line_of_a_session_azure_dropped() -> None:
    record = RequestRecord(request_id="req-2", endpoint="realtime")
    note_ending(record, Ending("azure", None, "", "upstream_dropped"), meter(), Counts())
    line = logged(record)
    assert line["realtime"]["closed_by"] == "azure"
    assert line["realtime"]["close_code"] is None  # no close frame came
    assert line["error"] == "upstream_dropped"
    assert line["status"] == 101  # the session was opened, however it ended
    assert line["usage"] is None  # no response, so no usage (not zeros)
    assert line["notes"] is None


async def test_the_line_of_a_session_the_gateway_ended() -> None:
    ending = Ending("gateway", 1008, "rate limit exceeded, retry in 5 s", "rate_limit_exceeded", "{}")
    record = RequestRecord(request_id="req-3", endpoint="realtime")
    note_ending(record, ending, meter(), Counts(client_frames=2))
    line = logged(record)
    assert line["realtime"]["closed_by"] == "gateway"
    assert (line["realtime"]["close_code"], line["realtime"]["close_reason"]) == (1008, ending.reason)
    assert line["error"] == "rate_limit_exceeded"


async def test_the_meter_s_notes_follow_the_route_s() -> None:
    session_meter = meter(rpm=1)
    await session_meter.observe_azure_text(response_done(10, 5))  # charged: the minute's only request
    await session_meter.observe_azure_text(response_done(4, 3))  # nobody reserved, and no room: noted
    record = RequestRecord(request_id="req-4", endpoint="realtime")
    note_route(record, routed(notes=("a route note",)))
    note_ending(record, Ending("client", 1000, ""), session_meter, Counts())
    assert logged(record)["notes"] == [
        "a route note",
        "a response's usage (7 tokens) was not charged: no budget would take it",
    ]
