from __future__ import annotations

import pytest

from gateway.observe.log_entry import Attempt, DecisionStep, parse_entry
from tests.observe.log_samples import BAD_KEY, CREATIVE, RESPONSES, THROTTLED_THEN_FELL_BACK, line


def test_a_chat_line_reads_as_the_gateway_wrote_it() -> None:
    entry = parse_entry(line(CREATIVE))
    assert entry is not None
    assert (entry.time, entry.key_id, entry.endpoint) == (
        "2026-11-27T17:51:15.812+00:00",
        "key-4e5a8f4373f5",
        "chat/completions",
    )
    assert (entry.model_requested, entry.model, entry.deployment) == (
        "auto",
        "gpt-4.5-preview",
        "azure/gpt-4.5-preview",
    )
    assert entry.path[-1] == DecisionStep("creative", "Natural conversation / creative prompt?", "yes")
    assert (entry.status, entry.error, entry.latency_ms) == (200, None, 2.704)
    assert (entry.tokens_in, entry.tokens_out) == (7, 21)  # Azure's usage, not the gateway's count (14)
    assert entry.attempts == (Attempt("gpt-4.5-preview", "azure/gpt-4.5-preview", 200, None),)
    assert not entry.fell_back


def test_the_responses_api_reports_input_and_output_tokens() -> None:
    entry = parse_entry(line(RESPONSES))
    assert entry is not None and (entry.tokens_in, entry.tokens_out) == (1, 20)


def test_without_usage_the_gateways_prompt_count_is_the_tokens_in() -> None:
    entry = parse_entry(line(CREATIVE, usage=None))
    assert entry is not None and (entry.tokens_in, entry.tokens_out) == (14, None)


def test_models_tried_are_each_named_once_in_order() -> None:
    entry = parse_entry(line(THROTTLED_THEN_FELL_BACK))
    assert entry is not None
    assert entry.models_tried == ("gpt-4.1", "gpt-4.1-mini") and entry.fell_back


def test_a_line_refused_before_routing_has_blank_fields() -> None:
    entry = parse_entry(line(BAD_KEY))
    assert entry is not None
    assert (entry.key_id, entry.model, entry.path, entry.attempts, entry.tokens_in) == (None, None, (), (), None)
    assert (entry.status, entry.error) == (401, "invalid_api_key")


def test_the_cost_reads_as_a_number_or_blank() -> None:
    entry = parse_entry(b'{"cost_usd": 0.00208}')
    assert entry is not None and entry.cost_usd == 0.00208
    for raw in (b'{"cost_usd": null}', b'{"cost_usd": "0.1"}', b'{"cost_usd": true}', b"{}"):
        entry = parse_entry(raw)
        assert entry is not None and entry.cost_usd is None, raw


def test_fields_of_another_type_or_missing_read_as_blank() -> None:
    entry = parse_entry(
        b'{"time": 3, "status": "200", "latency_ms": true, "path": "x", "attempts": [1, {"status": 500}]}'
    )
    assert entry is not None
    assert (entry.time, entry.status, entry.latency_ms, entry.path) == (None, None, None, ())
    assert entry.attempts == (Attempt(None, None, 500, None),)
    assert parse_entry(b"{}") is not None


@pytest.mark.parametrize(
    "raw", [b"garbage\n", b"[1, 2]\n", b'"text"\n', b'{"request_id": "x", "status": 2', b"", b"\x00"]
)
def test_what_is_not_a_json_object_is_no_entry(raw: bytes) -> None:
    assert parse_entry(raw) is None
