"""The recording functions, read back from prometheus-client's registry: as differences, since the metrics are
the process's and other tests record too."""

from __future__ import annotations

import time

import pytest
from prometheus_client import REGISTRY

from gateway.errors import (
    ContextLengthExceeded,
    GatewayError,
    InvalidRequest,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from gateway.observe import metrics
from gateway.observe.routing_log import RequestRecord


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def finished_record(deployment: str, *, routed: bool = True, **fields: object) -> RequestRecord:
    record = RequestRecord("r1", "chat/completions")
    record.model_requested, record.model, record.deployment = "auto", "gpt-4.1", deployment
    if routed:
        record.features = {"task": "chat"}
    for name, value in fields.items():
        setattr(record, name, value)
    record.finish(200)
    return record


def test_a_request_is_counted_timed_and_its_tokens_summed() -> None:
    record = finished_record("sim/unit-a", usage={"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17})
    metrics.request_ended(record)
    metrics.request_ended(record)
    labels = {"endpoint": "chat/completions", "model": "gpt-4.1", "deployment": "sim/unit-a", "status": "200"}
    assert sample("gateway_requests_total", **labels) == 2
    tokens = {"gen_ai_operation_name": "chat", "gen_ai_request_model": "auto", "gen_ai_response_model": "gpt-4.1"}
    usage = {**tokens, "deployment": "sim/unit-a"}
    assert sample("gen_ai_client_token_usage_sum", **usage, gen_ai_token_type="input") == 24
    assert sample("gen_ai_client_token_usage_sum", **usage, gen_ai_token_type="output") == 10
    assert sample("gen_ai_client_token_usage_count", **usage, gen_ai_token_type="output") == 2
    duration = sample("gen_ai_server_request_duration_seconds_sum", **tokens, error_type="")
    assert duration > 0


def test_cost_is_summed_per_key_model_and_deployment() -> None:
    labels = {"key": "key-cost-a", "model": "gpt-4.1", "deployment": "sim/unit-cost"}
    metrics.request_ended(finished_record("sim/unit-cost", key_id="key-cost-a", cost_usd=0.00125))
    metrics.request_ended(finished_record("sim/unit-cost", key_id="key-cost-a", cost_usd=0.0025))
    metrics.request_ended(finished_record("sim/unit-cost", key_id="key-cost-b", cost_usd=1.0))
    metrics.request_ended(finished_record("sim/unit-cost", key_id="key-cost-a", cost_usd=None))  # not known
    assert sample("gateway_cost_usd_total", **labels) == pytest.approx(0.00375)
    assert sample("gateway_cost_usd_total", **{**labels, "key": "key-cost-b"}) == 1.0


def test_a_request_without_a_cost_adds_no_series() -> None:
    metrics.request_ended(finished_record("sim/unit-uncosted", key_id="key-cost-c"))
    family = next(family for family in REGISTRY.collect() if family.name == "gateway_cost_usd")
    assert all(sample.labels["deployment"] != "sim/unit-uncosted" for sample in family.samples)


def test_the_responses_apis_usage_naming_is_read_too() -> None:
    record = RequestRecord("r2", "responses")
    record.model_requested, record.model, record.deployment = "gpt-4.1", "gpt-4.1", "sim/unit-b"
    record.features, record.usage = {}, {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
    record.finish(200)
    before = sample("gen_ai_client_token_usage_sum", **_usage_labels("responses", "sim/unit-b", "input"))
    metrics.request_ended(record)
    assert sample("gen_ai_client_token_usage_sum", **_usage_labels("responses", "sim/unit-b", "input")) == before + 7
    assert sample("gen_ai_client_token_usage_sum", **_usage_labels("responses", "sim/unit-b", "output")) == 3


def test_an_unrouted_requests_model_is_never_a_label() -> None:
    # A client's `model` becomes a label only once routing accepted it: it could be anything before.
    record = finished_record("", routed=False, model_requested="made-up-model-123", model=None)
    record.finish(404, "model_not_found")
    metrics.request_ended(record)
    family = next(family for family in REGISTRY.collect() if family.name == "gen_ai_server_request_duration_seconds")
    assert all("made-up-model-123" not in sample.labels.values() for sample in family.samples)
    assert sample("gateway_requests_total", endpoint="chat/completions", model="", deployment="", status="404") >= 1


def test_a_stream_s_first_token_is_timed_from_the_requests_arrival() -> None:
    record = RequestRecord("r3", "chat/completions")
    record.started = time.perf_counter() - 60  # arrived a minute ago
    record.model_requested, record.features = "gpt-4.1-mini", {}
    labels = {"gen_ai_operation_name": "chat", "gen_ai_request_model": "gpt-4.1-mini", "gen_ai_response_model": "m1"}
    metrics.first_token(record, "m1")
    assert sample("gen_ai_server_time_to_first_token_seconds_count", **labels) == 1
    assert sample("gen_ai_server_time_to_first_token_seconds_bucket", **labels, le="+Inf") == 1
    assert sample("gen_ai_server_time_to_first_token_seconds_bucket", **labels, le="10.0") == 0


def test_attempts_are_timed_with_their_error() -> None:
    metrics.attempt_ended("embeddings", "ada", "sim/unit-c", "rate_limit_exceeded", 0.5)
    metrics.attempt_ended("embeddings", "ada", "sim/unit-c", None, 0.25)
    base = {"gen_ai_operation_name": "embeddings", "gen_ai_request_model": "ada", "deployment": "sim/unit-c"}
    name = "gen_ai_client_operation_duration_seconds_sum"
    assert sample(name, **base, error_type="rate_limit_exceeded") == 0.5
    assert sample(name, **base, error_type="") == 0.25
    metrics.attempt_first_chunk("images/generations", "dall-e", "sim/unit-c", 0.125)
    first = {
        "gen_ai_operation_name": "images/generations",
        "gen_ai_request_model": "dall-e",
        "deployment": "sim/unit-c",
    }
    assert sample("gen_ai_client_operation_time_to_first_chunk_seconds_sum", **first) == 0.125


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (RateLimited("no room", 1.0, ()), "budget"),
        (UpstreamError(503, b"", {}), "503"),
        (UpstreamTimeout("slow"), "timeout"),
        (ContextLengthExceeded("too long"), "context_length"),
        (InvalidRequest("bad"), "400"),
        (None, "unknown"),
    ],
    ids=["own budget", "azure status", "timeout", "model switch", "other", "none"],
)
def test_why_a_request_was_tried_again(error: GatewayError | None, reason: str) -> None:
    assert metrics.failure_reason(error) == reason


def test_retries_and_fallbacks_are_counted_by_reason() -> None:
    before = sample("gateway_retries_total", reason="budget")
    metrics.retried(RateLimited("no room", 1.0, ()))
    assert sample("gateway_retries_total", reason="budget") == before + 1
    metrics.fell_back("unit-big", "unit-bigger", "context_length")
    labels = {"from_model": "unit-big", "to_model": "unit-bigger", "reason": "context_length"}
    assert sample("gateway_fallbacks_total", **labels) == 1


def test_refusals_are_counted_by_the_budget_that_had_no_room() -> None:
    metrics.admitted("sim/unit-d")
    metrics.refused("sim/unit-d", "dep:sim/unit-d")
    metrics.refused("sim/unit-d", "key:team-unit")
    metrics.refused("sim/unit-d", "key:team-unit:model:gpt-4.1")
    assert sample("gateway_admissions_total", deployment="sim/unit-d") == 1
    refusals = "gateway_admission_refusals_total"
    assert sample(refusals, budget="deployment", deployment="sim/unit-d", key="") == 1
    # A key's budget is the same on every deployment: the key is named (its name, never the key), not where.
    assert sample(refusals, budget="client_key", deployment="", key="team-unit") == 1
    assert sample(refusals, budget="client_key_model", deployment="", key="team-unit") == 1


def test_open_realtime_sessions_go_up_and_back_down() -> None:
    before = sample("gateway_realtime_sessions_open")
    with metrics.realtime_session_open():
        assert sample("gateway_realtime_sessions_open") == before + 1
    assert sample("gateway_realtime_sessions_open") == before


def test_openai_operations_get_their_otel_names() -> None:
    assert [metrics.operation_name(path) for path in ("chat/completions", "completions", "embeddings")] == [
        "chat",
        "text_completion",
        "embeddings",
    ]
    assert metrics.operation_name("audio/transcriptions") == "audio/transcriptions"


def _usage_labels(operation: str, deployment: str, token_type: str) -> dict[str, str]:
    return {
        "gen_ai_operation_name": operation,
        "gen_ai_request_model": "gpt-4.1",
        "gen_ai_response_model": "gpt-4.1",
        "gen_ai_token_type": token_type,
        "deployment": deployment,
    }
