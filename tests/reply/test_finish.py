"""A request's one ending: `refused` or `answered`, whichever comes first, writes the routing-log line;
`answered` settles the delivery's reservation with what Azure reported."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest

from gateway.dispatch.attempts import Attempt
from gateway.dispatch.delivery import Delivery, Trace
from gateway.dispatch.plan import Candidate
from gateway.errors import NoDeploymentAvailable, RateLimited, UpstreamError
from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.fields import ClientBody
from gateway.limits import Budget, MemoryLimiter
from gateway.limits.admission import Admission
from gateway.limits.budget_book import BudgetBook
from gateway.observe.routing_log import RequestRecord, RoutingLog
from gateway.pricing.cost import PriceList
from gateway.reply.finish import Finish
from gateway.reply.relay import StreamOutcome
from gateway.routing.decide import Decision, Step
from gateway.routing.features import Features
from gateway.routing.model_facts import ModelCatalog
from gateway.routing.router import Routed
from gateway.settings import GatewayConfig, load_config
from gateway.settings.schema import RateLimitSettings
from gateway.upstream.deployments import Deployment, DeploymentTable
from tests.support.gateway_config import write_config

KEY = "team-a"
TPM = 10_000
ESTIMATE = 500
CONFIG = f"""\
resources:
  east:
    endpoint: https://east.example
    auth: {{type: api-key, api_key_env: AZURE_KEY}}
  west:
    endpoint: https://west.example
    auth: {{type: api-key, api_key_env: AZURE_KEY}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: east, tpm: {TPM}, rpm: 100}}
  - {{name: gpt-4.1, model: gpt-4.1, resource: west, tpm: {TPM}, rpm: 100}}
"""
AZURE_503 = orjson.dumps({"error": {"code": "ServiceUnavailable", "message": "The service is busy."}})


@pytest.fixture
def config(tmp_path: Path) -> GatewayConfig:
    return load_config(write_config(tmp_path, CONFIG), {"AZURE_KEY": "k"})


@pytest.fixture
def east(config: GatewayConfig) -> Deployment:
    return DeploymentTable.from_config(config).for_model("gpt-4.1")[0]


@pytest.fixture
def limiter() -> MemoryLimiter:
    return MemoryLimiter(burst_fraction=None)


@pytest.fixture
def admission(config: GatewayConfig, limiter: MemoryLimiter) -> Admission:
    return Admission(limiter, BudgetBook(config.deployments, config.client_keys), RateLimitSettings())


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "routing.jsonl"


@pytest.fixture
def routing_log(log_path: Path) -> Iterator[RoutingLog]:
    log = RoutingLog(str(log_path))
    yield log
    log.close()


@pytest.fixture
def finish(admission: Admission, routing_log: RoutingLog) -> Finish:
    return Finish(admission, routing_log, RequestRecord("req-1", "chat/completions"))


def lines(log_path: Path) -> list[dict[str, Any]]:
    if not log_path.exists():
        return []
    return [orjson.loads(line) for line in log_path.read_bytes().splitlines()]


def failed_trace() -> Trace:
    return Trace(
        [
            Attempt("gpt-4.1", "east/gpt-4.1", 0.0, status=500, error="InternalServerError", latency_ms=12.5),
            Attempt("gpt-4.1", "west/gpt-4.1", 0.0, status=503, error="ServiceUnavailable", latency_ms=8.0),
        ],
        ["north/gpt-4.1: no room in its budget"],
    )


async def delivery(finish: Finish, admission: Admission, east: Deployment, **azure_headers: str) -> Delivery:
    admitted = await admission.admit(KEY, "gpt-4.1", [east], ESTIMATE)
    finish.ledger.opened(admitted)  # as the dispatcher does with every reservation it takes
    trace = Trace(
        [
            Attempt("gpt-4.1", "west/gpt-4.1", 0.0, status=500, error="InternalServerError", latency_ms=3.0),
            Attempt("gpt-4.1", "east/gpt-4.1", 0.0, status=200, latency_ms=40.0, billed=True),
        ]
    )
    response = httpx.Response(200, json={"id": "chatcmpl-1"}, headers=azure_headers)
    return Delivery(Candidate("gpt-4.1", east, None), admitted, response, response.content, None, False, trace)


async def reserved(limiter: MemoryLimiter, deployment_id: str = "east/gpt-4.1") -> int:
    (state,) = await limiter.states([Budget(f"dep:{deployment_id}", TPM, 100)])
    return TPM - (state.remaining_tokens or 0)


def chat_body(stream: bool = False) -> ClientBody:
    json_body = {"model": "auto", "messages": [{"role": "user", "content": "Hi"}], "stream": stream}
    return ClientBody(ENDPOINTS["chat/completions"], orjson.dumps(json_body), "application/json", json=json_body)


def routed(model: str = "gpt-4.1") -> Routed:
    features = Features(
        "chat/completions", "chat", False, None, "unspecified", "unspecified", "general", "classifier", "short", False
    )
    step = Step("long_prompt", "Is the prompt long?", "no", "12 tokens", False)
    decision = Decision(model, "auto", "main", (step,), ("gpt-4.1-nano passed over: no image input",))
    return Routed(features, decision, 12, {"o200k_base": 12})


# -- refused ---------------------------------------------------------------------------------------------


async def test_refused_after_dispatch_writes_one_line_and_answers_with_the_openai_error(
    finish: Finish, log_path: Path
) -> None:
    finish.authenticated(KEY)
    finish.asked(chat_body(stream=True))
    error = UpstreamError(503, AZURE_503, {"retry-after": "2", "apim-request-id": "a-1"})

    response = await finish.refused(error, failed_trace())

    assert response.status_code == 503
    assert orjson.loads(bytes(response.body)) == {
        "error": {
            "code": "ServiceUnavailable",
            "message": "The service is busy.",
            "type": "server_error",
            "param": None,
        }
    }
    assert response.headers["x-request-id"] == "req-1"
    assert response.headers["x-gateway-model"] == "gpt-4.1"
    assert response.headers["x-gateway-deployment"] == "west/gpt-4.1"  # the last attempt's
    assert response.headers["x-gateway-attempts"] == "2"
    assert response.headers["retry-after"] == "2"  # Azure's, passed on
    assert response.headers["apim-request-id"] == "a-1"
    (line,) = lines(log_path)
    assert line["request_id"] == "req-1" and line["endpoint"] == "chat/completions"
    assert (line["key_id"], line["model_requested"], line["stream"]) == (KEY, "auto", True)
    assert (line["status"], line["error"], line["upstream_status"]) == (503, "ServiceUnavailable", 503)
    assert (line["model"], line["deployment"]) == ("gpt-4.1", "west/gpt-4.1")
    assert [(item["deployment"], item["status"], item["billed"]) for item in line["attempts"]] == [
        ("east/gpt-4.1", 500, False),
        ("west/gpt-4.1", 503, False),
    ]
    assert line["notes"] == ["north/gpt-4.1: no room in its budget"]
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0
    assert line["usage"] is None and line["bytes_out"] is None


async def test_refused_before_any_deployment_names_none_and_counts_no_attempts(finish: Finish, log_path: Path) -> None:
    finish.authenticated(KEY)
    error = RateLimited("Rate limit reached for client key team-a.", 12.5, [], "key:team-a")

    response = await finish.refused(error)

    assert response.status_code == 429
    assert orjson.loads(bytes(response.body))["error"]["type"] == "tokens"
    assert response.headers["x-gateway-model"] == "none"
    assert response.headers["x-gateway-deployment"] == "none"
    assert "x-gateway-attempts" not in response.headers
    assert (response.headers["retry-after"], response.headers["retry-after-ms"]) == ("13", "12500")
    (line,) = lines(log_path)
    assert (line["status"], line["error"], line["key_id"]) == (429, "rate_limit_exceeded", KEY)
    assert line["attempts"] is None and line["model"] is None and line["deployment"] is None


async def test_refused_after_routing_names_the_routed_model_and_keeps_the_decisions_notes_first(
    finish: Finish, log_path: Path
) -> None:
    finish.routed(routed("gpt-4.1"))
    response = await finish.refused(
        NoDeploymentAvailable.for_model("gpt-4.1"), Trace([], ["east/gpt-4.1: breaker open"])
    )
    assert response.status_code == 503
    assert response.headers["x-gateway-model"] == "gpt-4.1"
    assert response.headers["x-gateway-deployment"] == "none"
    assert response.headers["x-gateway-attempts"] == "0"
    (line,) = lines(log_path)
    assert line["notes"] == ["gpt-4.1-nano passed over: no image input", "east/gpt-4.1: breaker open"]
    assert line["prompt_tokens"] == 12
    assert line["path"] == [
        {
            "node": "long_prompt",
            "ask": "Is the prompt long?",
            "answer": "no",
            "reason": "12 tokens",
            "by_default": False,
        }
    ]
    assert line["features"]["task"] == "chat"
    assert line["model"] is None  # nothing was sent: the log says so, the header names the routed model
    assert (line["status"], line["error"]) == (503, "no_deployment_available")


async def test_refused_twice_writes_one_line(finish: Finish, log_path: Path) -> None:
    first = await finish.refused(RateLimited("Rate limit reached.", 1.0, []))
    second = await finish.refused(NoDeploymentAvailable.for_model("gpt-4.1"))
    assert (first.status_code, second.status_code) == (429, 503)  # each caller still gets its response
    assert [line["status"] for line in lines(log_path)] == [429]


# -- answered --------------------------------------------------------------------------------------------


async def test_delivered_names_the_answering_deployment_in_the_headers(
    finish: Finish, admission: Admission, east: Deployment, log_path: Path
) -> None:
    headers = finish.delivered(await delivery(finish, admission, east))
    assert headers == {
        "x-request-id": "req-1",
        "x-gateway-model": "gpt-4.1",
        "x-gateway-deployment": "east/gpt-4.1",
        "x-gateway-attempts": "2",
    }
    assert lines(log_path) == []  # the line waits for the answer's end


async def test_answered_settles_with_the_usage_and_writes_one_line(
    finish: Finish, admission: Admission, limiter: MemoryLimiter, east: Deployment, log_path: Path
) -> None:
    finish.authenticated(KEY)
    finish.asked(chat_body())
    finish.delivered(await delivery(finish, admission, east))
    assert await reserved(limiter) == ESTIMATE

    await finish.answered(StreamOutcome(bytes_sent=321, usage={"prompt_tokens": 20, "completion_tokens": 100}))

    assert await reserved(limiter) == 120  # the estimate gave way to what Azure counted
    (line,) = lines(log_path)
    assert (line["status"], line["upstream_status"], line["error"]) == (200, 200, None)
    assert (line["model"], line["deployment"]) == ("gpt-4.1", "east/gpt-4.1")
    assert line["usage"] == {"prompt_tokens": 20, "completion_tokens": 100}
    assert line["bytes_out"] == 321
    assert [(item["deployment"], item["billed"]) for item in line["attempts"]] == [
        ("west/gpt-4.1", False),
        ("east/gpt-4.1", True),
    ]


@pytest.fixture(scope="module")
def prices() -> PriceList:
    return PriceList(ModelCatalog())


async def test_answered_logs_the_cost_of_azures_usage(
    admission: Admission, routing_log: RoutingLog, east: Deployment, prices: PriceList
) -> None:
    finish = Finish(admission, routing_log, RequestRecord("req-1", "chat/completions"), prices)
    finish.delivered(await delivery(finish, admission, east))
    await finish.answered(StreamOutcome(bytes_sent=321, usage={"prompt_tokens": 20, "completion_tokens": 100}))
    # The record is what the line is written from (tests/observe/test_routing_log.py).
    assert finish.record.cost_usd == (20 * 2.0 + 100 * 8.0) / 1_000_000  # gpt-4.1: $2 in, $8 out per million


async def test_without_a_usage_or_a_price_list_the_cost_is_unknown(
    finish: Finish, admission: Admission, routing_log: RoutingLog, east: Deployment, prices: PriceList
) -> None:
    finish.delivered(await delivery(finish, admission, east))  # a Finish given no price list
    await finish.answered(StreamOutcome(bytes_sent=321, usage={"prompt_tokens": 20, "completion_tokens": 100}))
    priced = Finish(admission, routing_log, RequestRecord("req-2", "chat/completions"), prices)
    priced.delivered(await delivery(priced, admission, east))
    await priced.answered(StreamOutcome(bytes_sent=64, error="client_disconnected", client_disconnected=True))
    refused = Finish(admission, routing_log, RequestRecord("req-3", "chat/completions"), prices)
    await refused.refused(NoDeploymentAvailable.for_model("gpt-4.1"))
    assert [item.record.cost_usd for item in (finish, priced, refused)] == [None, None, None]
    assert [item.record.status for item in (finish, priced, refused)] == [200, 200, 503]  # all ended


async def test_speech_is_priced_by_the_characters_it_was_asked_to_speak(
    admission: Admission, routing_log: RoutingLog, east: Deployment, prices: PriceList
) -> None:
    finish = Finish(admission, routing_log, RequestRecord("req-1", "audio/speech"), prices)
    body = {"model": "tts-1", "input": "x" * 1000, "voice": "alloy"}
    finish.asked(ClientBody(ENDPOINTS["audio/speech"], orjson.dumps(body), "application/json", json=body))
    spoken = await delivery(finish, admission, east)
    finish.delivered(replace(spoken, candidate=Candidate("tts-1", east, None)))
    await finish.answered(StreamOutcome(bytes_sent=4096))  # audio bytes: no usage
    assert finish.record.cost_usd == 1000 * 15.0 / 1_000_000  # tts-1: $15 per million characters


async def test_answered_takes_azures_remaining_tokens_for_the_deployment(
    finish: Finish, admission: Admission, limiter: MemoryLimiter, east: Deployment
) -> None:
    finish.delivered(await delivery(finish, admission, east, **{"x-ratelimit-remaining-tokens": "6000"}))
    await finish.answered(StreamOutcome(bytes_sent=10, usage={"total_tokens": 120}))
    assert await reserved(limiter) == TPM - 6000  # others share the Azure resource: Azure has less left


async def test_a_stream_cut_before_its_usage_keeps_the_estimate_charged(
    finish: Finish, admission: Admission, limiter: MemoryLimiter, east: Deployment, log_path: Path
) -> None:
    finish.delivered(await delivery(finish, admission, east))
    await finish.answered(StreamOutcome(bytes_sent=64, error="client_disconnected", client_disconnected=True))
    assert await reserved(limiter) == ESTIMATE
    (line,) = lines(log_path)
    assert (line["status"], line["error"], line["usage"], line["bytes_out"]) == (200, "client_disconnected", None, 64)


async def test_answered_before_anything_was_delivered_does_nothing(finish: Finish, log_path: Path) -> None:
    await finish.answered(StreamOutcome(bytes_sent=1, usage={"total_tokens": 5}))
    assert lines(log_path) == []
    await finish.refused(NoDeploymentAvailable.for_model("gpt-4.1"))  # the request can still end, once
    assert [line["status"] for line in lines(log_path)] == [503]


# -- whichever comes first -------------------------------------------------------------------------------


async def test_after_answered_neither_answered_nor_refused_writes_again(
    finish: Finish, admission: Admission, limiter: MemoryLimiter, east: Deployment, log_path: Path
) -> None:
    finish.delivered(await delivery(finish, admission, east))
    await finish.answered(StreamOutcome(bytes_sent=10, usage={"total_tokens": 120}))
    await finish.answered(StreamOutcome(bytes_sent=99, usage={"total_tokens": 400}))
    response = await finish.refused(UpstreamError(503, AZURE_503, {}))
    assert response.status_code == 503
    assert await reserved(limiter) == 120  # settled once, with the first outcome
    (line,) = lines(log_path)
    assert (line["status"], line["bytes_out"], line["usage"]) == (200, 10, {"total_tokens": 120})


async def test_after_refused_answered_neither_settles_nor_writes(
    finish: Finish, admission: Admission, limiter: MemoryLimiter, east: Deployment, log_path: Path
) -> None:
    finish.delivered(await delivery(finish, admission, east))
    await finish.refused(UpstreamError(503, AZURE_503, {}))
    await finish.answered(StreamOutcome(bytes_sent=10, usage={"total_tokens": 120}))
    assert await reserved(limiter) == 0  # refused: what it still held went back; the late answer charges nothing
    (line,) = lines(log_path)
    assert (line["status"], line["error"], line["usage"]) == (503, "ServiceUnavailable", None)


def test_request_id_is_the_records(finish: Finish) -> None:
    assert finish.request_id == "req-1"


# -- failed: a bug or a cancelled task -------------------------------------------------------------------


async def test_failed_gives_back_every_open_reservation_and_logs_a_500(
    finish: Finish, admission: Admission, limiter: MemoryLimiter, east: Deployment, log_path: Path
) -> None:
    finish.authenticated(KEY)
    await delivery(finish, admission, east)  # say, one attempt failed without being refunded
    await delivery(finish, admission, east)
    assert await reserved(limiter) == 2 * ESTIMATE
    await finish.failed(TypeError("a bug in some step"))
    assert await reserved(limiter) == 0
    (line,) = lines(log_path)
    assert (line["status"], line["error"], line["key_id"]) == (500, "internal_error", KEY)
    assert finish.ledger.open_count == 0


async def test_a_cancelled_request_is_logged_as_such_and_refunds_even_while_cancelled(
    finish: Finish, admission: Admission, limiter: MemoryLimiter, east: Deployment, log_path: Path
) -> None:
    await delivery(finish, admission, east)
    with anyio.CancelScope() as scope:
        scope.cancel()  # every await in this scope is cancelled, but the finish step's refund is shielded
        try:
            await anyio.sleep(1)
        except anyio.get_cancelled_exc_class() as cancelled:
            await finish.failed(cancelled)
            raise
    assert scope.cancelled_caught
    assert await reserved(limiter) == 0
    (line,) = lines(log_path)
    assert (line["status"], line["error"]) == (499, "cancelled")


async def test_after_answered_failed_does_nothing(
    finish: Finish, admission: Admission, limiter: MemoryLimiter, east: Deployment, log_path: Path
) -> None:
    finish.delivered(await delivery(finish, admission, east))
    await finish.answered(StreamOutcome(bytes_sent=10, usage={"total_tokens": 120}))
    await finish.failed(RuntimeError("late"))
    assert await reserved(limiter) == 120
    assert [line["status"] for line in lines(log_path)] == [200]
