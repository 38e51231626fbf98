"""What a request cost in USD, from the usage Azure reported, and what one would cost before it is sent.

Azure's usage objects name their parts two ways: `prompt_tokens`/`completion_tokens` (chat, completions,
embeddings) and `input_tokens`/`output_tokens` (the Responses API, images, transcription, speech, realtime),
each with details of the tokens that are cached, audio or image. Tokens the details do not place are of the
model's own kind: text for a chat model, audio going into a transcription model or out of a speech model, an
image out of an image model. Reasoning tokens are part of the output tokens, at the output price. whisper
reports the audio's length (`{"type": "duration", "seconds": ...}`) instead; tts-1 reports nothing, and is
priced by the characters it was asked to speak.

A cost is None when it cannot be told: the model has no price, the usage is missing or unreadable, or some
tokens are of a kind the model has no price for. A partial sum would understate the spend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.pricing.prices import Prices
from gateway.routing.model_facts import ModelCatalog

_PER_MILLION = 1_000_000
# Sums of prices such as 0.075 * 3 carry float noise in their last digits; a trillionth of a dollar is far
# below anything Azure bills.
_DECIMALS = 12


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """A request's cost before it is sent, in USD."""

    estimated_usd: float  # its prompt, none of it cached: the answer's length is not known until it is written
    most_usd: float  # the prompt and the most output the request allows


@dataclass(frozen=True, slots=True)
class _Rates:
    """A model's prices per million tokens of each kind, its undetailed tokens' kind already chosen."""

    prices: Prices
    plain_input: float | None  # input tokens the details do not place
    plain_output: float | None  # output tokens the details do not place
    cached_input: float | None


class PriceList:
    """The model table's prices, each model's rates worked out on its first request."""

    def __init__(self, catalog: ModelCatalog) -> None:
        self._catalog = catalog
        # Model names come from the config's deployments and policy, never from a client: a few entries.
        self._rates: dict[str, _Rates | None] = {}

    def cost(
        self, model: str | None, usage: Mapping[str, Any] | None, spoken_characters: int | None = None
    ) -> float | None:
        """USD for one answer of `model`: from its usage, or for speech priced by the character, from the
        characters of its input."""
        if model is None:
            return None
        rates = self._rates_of(model)
        if rates is None:
            return None
        if usage:
            if usage.get("type") == "duration":
                return _by_duration(rates.prices, usage.get("seconds"))
            return _by_tokens(rates, usage)
        per_million_characters = rates.prices.per_million_characters
        if spoken_characters is None or per_million_characters is None:
            return None
        return round(spoken_characters * per_million_characters / _PER_MILLION, _DECIMALS)

    def estimate(self, model: str, prompt_tokens: int, max_output_tokens: int) -> CostEstimate | None:
        """A request of `prompt_tokens` whose answer may use up to `max_output_tokens`; None: not priced."""
        rates = self._rates_of(model)
        if rates is None or rates.plain_input is None or rates.plain_output is None:
            return None
        prompt = prompt_tokens * rates.plain_input
        most = prompt + max_output_tokens * rates.plain_output
        return CostEstimate(round(prompt / _PER_MILLION, _DECIMALS), round(most / _PER_MILLION, _DECIMALS))

    def _rates_of(self, model: str) -> _Rates | None:
        try:
            return self._rates[model]
        except KeyError:
            facts = self._catalog.facts(model)
            rates = None if facts.prices is None else _rates(facts.prices, facts.mode)
            self._rates[model] = rates
            return rates


def _rates(prices: Prices, mode: str | None) -> _Rates:
    plain_input, plain_output = prices.input, prices.output
    if mode == "audio_transcription":
        plain_input = prices.audio_input
    elif mode == "audio_speech":
        plain_output = prices.audio_output
    elif mode in ("image_generation", "image_edit"):
        plain_output = prices.image_output
    cached_input = prices.cached_input if prices.cached_input is not None else prices.input
    return _Rates(prices, plain_input, plain_output, cached_input)


def _by_tokens(rates: _Rates, usage: Mapping[str, Any]) -> float | None:
    if "prompt_tokens" in usage:
        input_tokens, output_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens", 0)
        input_details, output_details = usage.get("prompt_tokens_details"), usage.get("completion_tokens_details")
    else:
        input_tokens, output_tokens = usage.get("input_tokens"), usage.get("output_tokens", 0)
        # The Responses API and images write `input_tokens_details`; transcription and realtime `input_token_details`.
        input_details = usage.get("input_tokens_details") or usage.get("input_token_details")
        output_details = usage.get("output_tokens_details") or usage.get("output_token_details")
    if type(input_tokens) is not int or type(output_tokens) is not int:
        return None
    prices = rates.prices
    cached, audio_in, image_in = _counts(input_details, "cached_tokens", "audio_tokens", "image_tokens")
    audio_out, image_out = _counts(output_details, "audio_tokens", "image_tokens")
    # Realtime's details say which cached tokens were audio: those are counted in `audio_tokens` too, and have a
    # price of their own that the table does not carry (so a session with any is not priced).
    (cached_audio,) = _counts(
        input_details.get("cached_tokens_details") if isinstance(input_details, dict) else None, "audio_tokens"
    )
    parts = (
        (input_tokens - cached - (audio_in - cached_audio) - image_in, rates.plain_input),
        (cached - cached_audio, rates.cached_input),
        (cached_audio, None),
        (audio_in - cached_audio, prices.audio_input),
        (image_in, prices.image_input),
        (output_tokens - audio_out - image_out, rates.plain_output),
        (audio_out, prices.audio_output),
        (image_out, prices.image_output),
    )
    total = 0.0
    for tokens, price in parts:
        if tokens < 0:
            return None  # details that add up to more than their whole: not a usage to bill by
        if tokens:
            if price is None:
                return None
            total += tokens * price
    return round(total / _PER_MILLION, _DECIMALS)


def _counts(details: Any, *names: str) -> tuple[int, ...]:
    """The details' counts of `names`, 0 for one absent or not a count."""
    if not isinstance(details, dict):
        return (0,) * len(names)
    return tuple(count if type(count := details.get(name)) is int else 0 for name in names)


def _by_duration(prices: Prices, seconds: Any) -> float | None:
    if prices.per_audio_minute is None or type(seconds) not in (int, float) or seconds < 0:
        return None
    return round(float(seconds) * prices.per_audio_minute / 60, _DECIMALS)
