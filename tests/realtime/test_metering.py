"""SessionMeter: a session's response.create reservations, settled by Azure's response.done, against the
same budgets HTTP requests use (the real Admission over a MemoryLimiter on a clock that stands still)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from gateway.limits import Budget, LimiterUnavailable, MemoryLimiter
from gateway.limits.admission import Admission
from gateway.limits.budget import LimitDecision
from gateway.limits.budget_book import BudgetBook
from gateway.limits.failover import FailoverLimiter
from gateway.realtime.metering import Refused, SessionMeter
from gateway.settings.schema import ApiKeyAuth, ClientKeySettings, KeyRateLimit, RateLimitSettings
from gateway.upstream.deployments import Deployment

KEY = "key-realtime"
MODEL = "gpt-realtime"
DEFAULT_MAX_TOKENS = 600
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


@dataclass
class Budgets:
    """The key's budget, and a meter charging it."""

    limiter: MemoryLimiter
    budget: Budget
    meter: SessionMeter

    async def used_tokens(self) -> int:
        (state,) = await self.limiter.states([self.budget])
        assert self.budget.tokens_per_minute is not None and state.remaining_tokens is not None
        return self.budget.tokens_per_minute - state.remaining_tokens

    async def used_requests(self) -> int:
        (state,) = await self.limiter.states([self.budget])
        assert self.budget.requests_per_minute is not None and state.remaining_requests is not None
        return self.budget.requests_per_minute - state.remaining_requests


def budgets(tpm: int = 100_000, rpm: int | None = None) -> Budgets:
    limiter = MemoryLimiter(burst_fraction=None, clock=lambda: 5_000.0)  # time stands still: nothing expires
    book = BudgetBook([], ClientKeySettings(per_key={KEY: KeyRateLimit(tpm=tpm, rpm=rpm)}))
    settings = RateLimitSettings(default_max_tokens=DEFAULT_MAX_TOKENS, burst_fraction=None)
    meter = SessionMeter(Admission(limiter, book, settings), KEY, MODEL, DEPLOYMENT)
    return Budgets(limiter, Budget(f"key:{KEY}", tpm, rpm), meter)


def event(**fields: Any) -> str:
    return orjson.dumps(fields).decode()


def create(event_id: str | None = None, **response: Any) -> str:
    fields: dict[str, Any] = {"type": "response.create"}
    if event_id is not None:
        fields["event_id"] = event_id
    if response:
        fields["response"] = response
    return event(**fields)


def created() -> str:
    return event(type="response.created", event_id="event_az_1", response={"id": "resp_1", "status": "in_progress"})


def done(total: int | None = None, input_tokens: int = 0, output_tokens: int = 0) -> str:
    response: dict[str, Any] = {"id": "resp_1", "status": "completed"}
    if total is not None:
        response["usage"] = {"total_tokens": total, "input_tokens": input_tokens, "output_tokens": output_tokens}
    return event(type="response.done", event_id="event_az_2", response=response)


def azure_error(event_id: str | None) -> str:
    error = {"type": "invalid_request_error", "code": "conversation_already_has_active_response", "message": "busy"}
    if event_id is not None:
        error["event_id"] = event_id
    return event(type="error", event_id="event_az_3", error=error)


async def test_response_create_without_a_cap_reserves_default_max_tokens() -> None:
    b = budgets()
    assert await b.meter.check_client_text(create()) is None
    assert await b.used_tokens() == DEFAULT_MAX_TOKENS


@pytest.mark.parametrize(
    ("response", "reserved"),
    [
        ({"max_output_tokens": 250}, 250),  # GA
        ({"max_response_output_tokens": 300}, 300),  # beta
        ({"max_output_tokens": "inf"}, DEFAULT_MAX_TOKENS),
        ({"max_response_output_tokens": "inf"}, DEFAULT_MAX_TOKENS),
        ({"max_output_tokens": 0}, 0),
        ({"max_output_tokens": True}, DEFAULT_MAX_TOKENS),  # a JSON true is no number
        ({"max_output_tokens": -5}, DEFAULT_MAX_TOKENS),
        ({"max_output_tokens": 12.5}, DEFAULT_MAX_TOKENS),
        ({"instructions": "be brief"}, DEFAULT_MAX_TOKENS),
    ],
)
async def test_the_response_s_own_output_cap_is_reserved(response: dict[str, Any], reserved: int) -> None:
    b = budgets()
    assert await b.meter.check_client_text(create(**response)) is None
    assert await b.used_tokens() == reserved


async def test_a_response_field_that_is_not_an_object_reserves_the_default() -> None:
    b = budgets()
    assert await b.meter.check_client_text(event(type="response.create", response="max_output_tokens")) is None
    assert await b.used_tokens() == DEFAULT_MAX_TOKENS


@pytest.mark.parametrize(
    "text",
    [
        event(type="session.update", session={"max_output_tokens": 100}),
        event(type="input_audio_buffer.append", audio="AAAA" * 256),
        event(type="conversation.item.create", item={"content": [{"type": "input_text", "text": "response.create"}]}),
        event(type="response.cancel"),
        '{"type": "response.create"',  # malformed: Azure answers it itself
        '[{"type": "response.create"}]',
        '"response.create"',
        "",
    ],
)
async def test_other_client_frames_reserve_nothing(text: str) -> None:
    b = budgets()
    assert await b.meter.check_client_text(text) is None
    assert await b.used_tokens() == 0


async def test_a_response_create_spelled_with_an_escape_still_reserves() -> None:
    b = budgets()
    assert await b.meter.check_client_text('{"type": "response\\u002ecreate"}') is None
    assert await b.used_tokens() == DEFAULT_MAX_TOKENS


async def test_response_done_settles_the_reservation_with_its_total_tokens() -> None:
    b = budgets()
    await b.meter.check_client_text(create())
    await b.meter.observe_azure_text(created())
    await b.meter.observe_azure_text(done(total=100, input_tokens=40, output_tokens=60))
    assert await b.used_tokens() == 100
    assert b.meter.responses == 1
    assert b.meter.usage == {"input_tokens": 40, "output_tokens": 60, "total_tokens": 100}
    await b.meter.close()
    assert await b.used_tokens() == 100  # settled: nothing left to refund or keep


async def test_responses_settle_their_reservations_oldest_first_and_usage_adds_up() -> None:
    b = budgets()
    await b.meter.check_client_text(create(max_output_tokens=100))
    await b.meter.check_client_text(create(max_output_tokens=200))
    assert await b.used_tokens() == 300
    await b.meter.observe_azure_text(created())
    await b.meter.observe_azure_text(done(total=10, input_tokens=4, output_tokens=6))
    assert await b.used_tokens() == 10 + 200  # the first reservation (100) was settled, the second still held
    await b.meter.observe_azure_text(created())
    await b.meter.observe_azure_text(done(total=20, input_tokens=5, output_tokens=15))
    assert await b.used_tokens() == 30
    assert b.meter.responses == 2
    assert b.meter.usage == {"input_tokens": 9, "output_tokens": 21, "total_tokens": 30}


@pytest.mark.parametrize("usage", [None, {"total_tokens": "12"}, "not usage"])
async def test_response_done_without_a_usable_total_keeps_the_estimate_charged(usage: object) -> None:
    b = budgets()
    await b.meter.check_client_text(create(max_output_tokens=300))
    await b.meter.observe_azure_text(created())
    response: dict[str, Any] = {"id": "resp_1", "status": "completed"}
    if usage is not None:
        response["usage"] = usage
    await b.meter.observe_azure_text(event(type="response.done", response=response))
    await b.meter.close()
    assert await b.used_tokens() == 300
    assert b.meter.responses == 1
    assert b.meter.usage == {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}


async def test_a_response_nobody_reserved_for_is_charged_at_once() -> None:
    """Azure's own turns (server voice-activity detection) answer without a response.create."""
    b = budgets(rpm=100)
    await b.meter.observe_azure_text(created())
    await b.meter.observe_azure_text(done(total=77, input_tokens=70, output_tokens=7))
    assert await b.used_tokens() == 77
    assert await b.used_requests() == 1
    assert b.meter.responses == 1
    assert b.meter.usage["total_tokens"] == 77
    assert b.meter.notes == []


async def test_a_response_no_budget_will_take_is_noted_and_not_charged() -> None:
    b = budgets(rpm=1)
    await b.meter.observe_azure_text(done(total=50))  # takes the minute's only request
    await b.meter.observe_azure_text(done(total=7))
    assert await b.used_tokens() == 50
    assert b.meter.notes == ["a response's usage (7 tokens) was not charged: no budget would take it"]
    assert b.meter.responses == 2
    assert b.meter.usage["total_tokens"] == 57  # the session's usage still says what Azure reported


async def test_a_response_create_without_room_is_refused_with_an_error_event() -> None:
    b = budgets(tpm=1000)
    assert await b.meter.check_client_text(create("evt_client_1")) is None  # 600 of 1000
    refused = await b.meter.check_client_text(create("evt_client_2"))
    assert isinstance(refused, Refused)
    assert await b.used_tokens() == DEFAULT_MAX_TOKENS  # nothing reserved for the refused one

    sent = orjson.loads(refused.event)
    assert sent["type"] == "error"
    assert sent["event_id"].startswith("event_gw_")
    assert sent["error"] == {
        "message": sent["error"]["message"],
        "type": "tokens",
        "param": None,
        "code": "rate_limit_exceeded",
        "event_id": "evt_client_2",  # which of the client's events was refused
    }
    assert sent["error"]["message"].startswith("Rate limit reached")
    # The first reservation leaves the 60-s window in exactly 60 s on the standing clock.
    assert refused.reason == "rate limit exceeded, retry in 60 s"
    assert refused.error == "rate_limit_exceeded"


async def test_each_refusal_event_has_its_own_id_and_no_client_event_id_when_none_was_set() -> None:
    b = budgets(tpm=1000)
    await b.meter.check_client_text(create())
    first = await b.meter.check_client_text(create())
    second = await b.meter.check_client_text(create())
    assert first is not None and second is not None
    first_event, second_event = orjson.loads(first.event), orjson.loads(second.event)
    assert first_event["error"]["event_id"] is None
    assert first_event["event_id"] != second_event["event_id"]


async def test_a_response_larger_than_a_minute_s_budget_is_refused_for_good() -> None:
    b = budgets(tpm=1000)
    refused = await b.meter.check_client_text(create("evt_big", max_output_tokens=5000))
    assert refused is not None
    assert refused.reason == "rate limit exceeded: the response asks for more tokens than a minute allows"
    assert orjson.loads(refused.event)["error"]["message"].startswith("Request too large")
    assert await b.used_tokens() == 0


class _DownLimiter(MemoryLimiter):
    """A shared store that cannot be reached."""

    async def admit(self, budgets: Sequence[Budget], tokens: int) -> LimitDecision:
        raise LimiterUnavailable("redis timed out")


async def test_limits_that_cannot_be_checked_refuse_with_their_own_message() -> None:
    """Redis away with `when_redis_down: fail-closed`: a response.create cannot be admitted."""
    book = BudgetBook([], ClientKeySettings(per_key={KEY: KeyRateLimit(tpm=1000)}))
    admission = Admission(FailoverLimiter(_DownLimiter(), None), book, RateLimitSettings())
    refused = await SessionMeter(admission, KEY, MODEL, DEPLOYMENT).check_client_text(create("evt_1"))
    assert refused is not None
    sent = orjson.loads(refused.event)["error"]
    assert refused.reason == sent["message"] == "Rate limits cannot be checked right now (Redis is unavailable)."
    assert refused.error == sent["code"] == "rate_limits_unavailable"
    assert sent["type"] == "server_error"
    assert sent["event_id"] == "evt_1"


async def test_an_azure_error_naming_a_reserved_response_create_refunds_it() -> None:
    b = budgets()
    await b.meter.check_client_text(create("evt_a", max_output_tokens=100))
    await b.meter.check_client_text(create("evt_b", max_output_tokens=200))
    await b.meter.observe_azure_text(azure_error("evt_b"))
    assert await b.used_tokens() == 100
    await b.meter.observe_azure_text(created())
    await b.meter.observe_azure_text(done(total=5))  # settles evt_a's reservation
    assert await b.used_tokens() == 5


@pytest.mark.parametrize("event_id", [None, "evt_unknown"])
async def test_an_azure_error_naming_no_reservation_refunds_nothing(event_id: str | None) -> None:
    b = budgets()
    await b.meter.check_client_text(create("evt_a", max_output_tokens=100))
    await b.meter.observe_azure_text(azure_error(event_id))
    assert await b.used_tokens() == 100


async def test_an_azure_error_for_a_response_that_started_refunds_nothing() -> None:
    b = budgets()
    await b.meter.check_client_text(create("evt_a", max_output_tokens=100))
    await b.meter.observe_azure_text(created())
    await b.meter.observe_azure_text(azure_error("evt_a"))
    assert await b.used_tokens() == 100
    await b.meter.close()
    assert await b.used_tokens() == 100  # started: Azure bills what it generated


async def test_closing_refunds_responses_that_never_started_and_keeps_those_that_did() -> None:
    b = budgets()
    await b.meter.check_client_text(create(max_output_tokens=100))
    await b.meter.check_client_text(create(max_output_tokens=200))
    await b.meter.check_client_text(create(max_output_tokens=400))
    await b.meter.observe_azure_text(created())  # the first one started
    await b.meter.close()
    assert await b.used_tokens() == 100


async def test_closing_twice_changes_nothing_more() -> None:
    b = budgets()
    await b.meter.check_client_text(create(max_output_tokens=100))
    await b.meter.observe_azure_text(created())
    await b.meter.close()
    await b.meter.close()
    assert await b.used_tokens() == 100


@pytest.mark.parametrize(
    "text",
    [
        event(type="response.output_audio.delta", delta="AAAA" * 256),
        event(type="response.output_item.done", item={"id": "item_1"}),
        event(type="session.updated", session={"max_output_tokens": "inf"}),
        event(type="rate_limits.updated", rate_limits=[{"name": "tokens", "remaining": 5}]),
        '{"type": "response.done", "response": ',  # malformed
        event(type="error", error="response.done"),
    ],
)
async def test_other_azure_frames_change_nothing(text: str) -> None:
    b = budgets()
    await b.meter.check_client_text(create(max_output_tokens=100))
    await b.meter.observe_azure_text(text)
    assert await b.used_tokens() == 100
    assert b.meter.responses == 0
    await b.meter.close()
    assert await b.used_tokens() == 0  # and the reservation never started


async def test_the_sessions_usage_sums_the_details_of_each_response() -> None:
    b = budgets()
    for audio_in, text_out in ((30, 5), (70, 15)):
        response = {"id": "resp_1", "status": "completed"}
        response["usage"] = {
            "total_tokens": audio_in + text_out,
            "input_tokens": audio_in,
            "output_tokens": text_out,
            "input_token_details": {"audio_tokens": audio_in, "cached_tokens_details": {"audio_tokens": 0}},
            "output_token_details": {"text_tokens": text_out, "note": "not a count"},
        }
        await b.meter.observe_azure_text(event(type="response.done", event_id="event_az_2", response=response))
    assert b.meter.usage == {
        "input_tokens": 100,
        "output_tokens": 20,
        "total_tokens": 120,
        "input_token_details": {"audio_tokens": 100, "cached_tokens_details": {"audio_tokens": 0}},
        "output_token_details": {"text_tokens": 20},
    }
