"""What answers cost, from the shipped model table's prices (USD per million tokens: gpt-4.1 2.0 in, 0.5
cached, 8.0 out) and the usage objects Azure writes for each endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.pricing.cost import CostEstimate, PriceList
from gateway.routing.model_facts import ModelCatalog


@pytest.fixture(scope="module")
def prices() -> PriceList:
    return PriceList(ModelCatalog())


def usd(per_million_sum: float) -> float:
    return round(per_million_sum / 1_000_000, 12)


def test_chat_cached_tokens_are_at_the_cached_price_and_the_rest_at_the_input_price(prices: PriceList) -> None:
    usage = {
        "prompt_tokens": 1000,
        "completion_tokens": 200,
        "total_tokens": 1200,
        "prompt_tokens_details": {"cached_tokens": 400, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }
    assert prices.cost("gpt-4.1", usage) == usd(600 * 2.0 + 400 * 0.5 + 200 * 8.0)


def test_a_dated_or_prefixed_name_has_its_models_prices(prices: PriceList) -> None:
    usage = {"prompt_tokens": 1000, "completion_tokens": 0}
    assert prices.cost("gpt-4.1-2025-04-14", usage) == prices.cost("azure/GPT-4.1", usage) == usd(1000 * 2.0)


def test_reasoning_tokens_are_part_of_the_completion_at_the_output_price(prices: PriceList) -> None:
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 500,
        "completion_tokens_details": {"reasoning_tokens": 300},
    }
    assert prices.cost("o4-mini", usage) == usd(100 * 1.1 + 500 * 4.4)


def test_chat_audio_tokens_are_at_the_audio_prices(prices: PriceList) -> None:
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 60},
        "completion_tokens_details": {"audio_tokens": 30, "text_tokens": 20},
    }
    # gpt-4o-mini-audio-preview: text 0.15 in, 0.6 out; audio 10.0 in, 20.0 out.
    assert prices.cost("gpt-4o-mini-audio-preview", usage) == usd(40 * 0.15 + 60 * 10.0 + 20 * 0.6 + 30 * 20.0)


def test_audio_tokens_on_a_model_without_audio_prices_leave_the_cost_unknown(prices: PriceList) -> None:
    usage = {"prompt_tokens": 100, "completion_tokens": 5, "prompt_tokens_details": {"audio_tokens": 60}}
    assert prices.cost("gpt-4.1", usage) is None


def test_embeddings_are_priced_by_their_input(prices: PriceList) -> None:
    usage = {"prompt_tokens": 1000, "total_tokens": 1000}
    assert prices.cost("text-embedding-3-small", usage) == usd(1000 * 0.022)


def test_the_responses_apis_usage(prices: PriceList) -> None:
    usage = {
        "input_tokens": 1000,
        "input_tokens_details": {"cached_tokens": 500},
        "output_tokens": 100,
        "output_tokens_details": {"reasoning_tokens": 60},
        "total_tokens": 1100,
    }
    assert prices.cost("gpt-4.1", usage) == usd(500 * 2.0 + 500 * 0.5 + 100 * 8.0)


def test_image_tokens_in_and_out(prices: PriceList) -> None:
    # gpt-image-1: text 5.0 in, images 10.0 in and 40.0 out; its output tokens are the image's.
    usage = {
        "input_tokens": 50,
        "input_tokens_details": {"text_tokens": 10, "image_tokens": 40},
        "output_tokens": 4160,
        "total_tokens": 4210,
    }
    assert prices.cost("gpt-image-1", usage) == usd(10 * 5.0 + 40 * 10.0 + 4160 * 40.0)
    detailed = {**usage, "output_tokens_details": {"text_tokens": 0, "image_tokens": 4160}}
    assert prices.cost("gpt-image-1", detailed) == prices.cost("gpt-image-1", usage)


def test_whisper_is_priced_by_the_minutes_of_audio(prices: PriceList) -> None:
    assert prices.cost("whisper", {"type": "duration", "seconds": 90}) == usd(1.5 * 0.006 * 1_000_000)
    assert prices.cost("whisper", {"type": "duration", "seconds": "90"}) is None
    assert prices.cost("gpt-4.1", {"type": "duration", "seconds": 90}) is None  # not priced by the minute


def test_whisper_without_a_duration_is_not_known(prices: PriceList) -> None:
    # Azure's whisper answers `{"text": ...}`: no usage, so nothing to price by.
    assert prices.cost("whisper", None) is None


def test_gpt_4o_transcribe_is_priced_by_its_audio_and_text_tokens(prices: PriceList) -> None:
    usage = {
        "type": "tokens",
        "input_tokens": 14,
        "input_token_details": {"text_tokens": 0, "audio_tokens": 14},
        "output_tokens": 45,
        "total_tokens": 59,
    }
    # gpt-4o-transcribe: audio 6.0 in, text 10.0 out.
    assert prices.cost("gpt-4o-transcribe", usage) == usd(14 * 6.0 + 45 * 10.0)
    undetailed = {"input_tokens": 14, "output_tokens": 45}  # a transcription model's input is its audio
    assert prices.cost("gpt-4o-transcribe", undetailed) == prices.cost("gpt-4o-transcribe", usage)


def test_speech_by_characters_or_by_tokens(prices: PriceList) -> None:
    assert prices.cost("tts-1", None, spoken_characters=1000) == usd(1000 * 15.0)
    assert prices.cost("tts-1", None) is None
    # gpt-4o-mini-tts streamed as SSE reports tokens: text 0.6 in, its output audio at 12.0.
    assert prices.cost("gpt-4o-mini-tts", {"input_tokens": 20, "output_tokens": 1000}) == usd(20 * 0.6 + 1000 * 12.0)
    assert prices.cost("gpt-4o-mini-tts", None, spoken_characters=1000) is None  # priced by tokens only


@pytest.mark.parametrize(
    "model", ["made-up-model", "gpt-4", "tts", None], ids=["unknown", "no azure price", "tts", "none"]
)
def test_a_model_without_prices_has_no_cost(prices: PriceList, model: str | None) -> None:
    assert prices.cost(model, {"prompt_tokens": 10, "completion_tokens": 10}, spoken_characters=10) is None


@pytest.mark.parametrize(
    "usage",
    [
        None,
        {},
        {"total_tokens": 20},
        {"prompt_tokens": "10", "completion_tokens": 10},
        {"prompt_tokens": 10, "completion_tokens": None},
        {"prompt_tokens": 10, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 11}},
    ],
    ids=["none", "empty", "total only", "text count", "null count", "details past the whole"],
)
def test_an_unreadable_usage_has_no_cost(prices: PriceList, usage: dict[str, Any] | None) -> None:
    assert prices.cost("gpt-4.1", usage) is None


def test_a_detail_that_is_not_a_count_is_not_counted(prices: PriceList) -> None:
    usage = {"prompt_tokens": 10, "completion_tokens": 0, "prompt_tokens_details": {"cached_tokens": "4"}}
    assert prices.cost("gpt-4.1", usage) == usd(10 * 2.0)


def test_sums_carry_no_float_noise(prices: PriceList) -> None:
    # 3 * 0.075 is 0.22499999999999998 in floats.
    assert prices.cost("gpt-4o-mini", {"input_tokens": 3, "input_tokens_details": {"cached_tokens": 3}}) == 2.25e-07


def test_estimate_is_the_prompt_and_most_adds_the_longest_answer(prices: PriceList) -> None:
    assert prices.estimate("gpt-4.1", 10_000, 1_000) == CostEstimate(estimated_usd=0.02, most_usd=0.028)
    # The example: a prompt passes $0.05 on gpt-4.1 beyond 25,000 tokens.
    over = prices.estimate("gpt-4.1", 25_001, 0)
    assert over is not None and over.estimated_usd > 0.05 and over.most_usd == over.estimated_usd


def test_estimates_use_the_models_own_kind_of_output(prices: PriceList) -> None:
    assert prices.estimate("gpt-image-1", 100, 4160) == CostEstimate(usd(100 * 5.0), usd(100 * 5.0 + 4160 * 40.0))
    assert prices.estimate("text-embedding-3-small", 1000, 0) == CostEstimate(usd(22.0), usd(22.0))


def test_no_estimate_without_prices(prices: PriceList) -> None:
    assert prices.estimate("made-up-model", 1000, 100) is None
    assert prices.estimate("gpt-4", 1000, 100) is None
    assert prices.estimate("whisper", 1000, 100) is None  # priced by the minute, not the token


def realtime_usage(cached_text: int = 0, cached_audio: int = 0) -> dict[str, Any]:
    """A realtime session's usage: 300 text and 700 audio tokens in, 50 text and 400 audio out."""
    details = {"text_tokens": 300, "audio_tokens": 700, "cached_tokens": cached_text + cached_audio}
    details["cached_tokens_details"] = {"text_tokens": cached_text, "audio_tokens": cached_audio}
    return {
        "input_tokens": 1000,
        "output_tokens": 450,
        "input_token_details": details,
        "output_token_details": {"text_tokens": 50, "audio_tokens": 400},
    }


def test_realtime_text_and_audio_each_at_their_price_cached_text_at_the_cached_one(prices: PriceList) -> None:
    # gpt-4o-mini-realtime: text 0.6 in (0.3 cached), 2.4 out; audio 10 in, 20 out (USD per million)
    expected = 300 * 0.6 + 700 * 10.0 + 50 * 2.4 + 400 * 20.0
    assert prices.cost("gpt-4o-mini-realtime-preview", realtime_usage()) == usd(expected)
    cached = 200 * 0.6 + 100 * 0.3 + 700 * 10.0 + 50 * 2.4 + 400 * 20.0
    assert prices.cost("gpt-4o-mini-realtime-preview", realtime_usage(cached_text=100)) == usd(cached)


def test_realtime_cached_audio_has_no_price_in_the_table_so_the_cost_is_unknown(prices: PriceList) -> None:
    assert prices.cost("gpt-4o-mini-realtime-preview", realtime_usage(cached_audio=64)) is None
