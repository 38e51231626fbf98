"""A request's cost in its routing-log line: what its usage, as Azure (the simulator) reported it, costs at the
model table's prices, for a whole answer and a stream."""

from __future__ import annotations

from typing import Any

import openai

from tests.conftest import Gateway

# gpt-4.1-nano in gateway/routing/models.yaml: USD per million input, cached input and output tokens.
INPUT, CACHED_INPUT, OUTPUT = 0.1, 0.025, 0.4


def cost_of(usage: Any) -> float:
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    uncached = usage["prompt_tokens"] - cached
    return round((uncached * INPUT + cached * CACHED_INPUT + usage["completion_tokens"] * OUTPUT) / 1_000_000, 12)


def test_a_chat_answers_line_carries_the_cost_its_usage_implies(client: openai.OpenAI, gateway: Gateway) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4.1-nano", messages=[{"role": "user", "content": "What does this cost?"}]
    )
    answer = raw.parse()
    assert answer.usage is not None and answer.usage.prompt_tokens > 0 and answer.usage.completion_tokens > 0
    line = gateway.log_line(raw.headers["x-request-id"])
    assert line["model"] == "gpt-4.1-nano"
    assert line["usage"] == answer.usage.model_dump(exclude_unset=True)
    assert line["cost_usd"] == cost_of(line["usage"]) > 0


def test_a_streams_line_is_priced_from_its_usage_chunk(client: openai.OpenAI, gateway: Gateway) -> None:
    stream = client.chat.completions.create(
        model="gpt-4.1-nano",
        messages=[{"role": "user", "content": "Stream the price"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    request_id = stream.response.headers["x-request-id"]
    usage = [chunk.usage for chunk in stream if chunk.usage is not None]
    line = gateway.log_line(request_id)
    assert len(usage) == 1 and line["usage"]["completion_tokens"] == usage[0].completion_tokens
    assert line["cost_usd"] == cost_of(line["usage"]) > 0
