"""A model's prices as the model table (routing/models.yaml) gives them, and their strict reading.

Azure's public list prices in USD: per million tokens of each kind, except speech-to-text priced by the audio's
length (per minute) and text-to-speech priced by the text's length (per million characters). A price the
table does not give is None: not known, never zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class Prices:
    input: float | None = None  # text input tokens not read from the prompt cache
    cached_input: float | None = None  # input tokens read from the prompt cache; None: at the input price
    output: float | None = None  # text output tokens, reasoning tokens included
    audio_input: float | None = None
    audio_output: float | None = None
    image_input: float | None = None
    cached_image_input: float | None = None  # None: at the image input price
    image_output: float | None = None
    per_audio_minute: float | None = None  # whisper: the audio transcribed or translated
    per_million_characters: float | None = None  # tts-1: the text spoken


PRICE_NAMES = tuple(price.name for price in fields(Prices))


def parse_prices(value: Any, fail: Callable[[str], Exception]) -> Prices | None:
    """A table entry's `prices`: null (not priced), or a mapping of known price names to non-negative
    numbers; anything else raises `fail`'s exception."""
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise fail(f"prices must be a mapping of price names to USD, or null, not {value!r}")
    unknown = set(value) - set(PRICE_NAMES)
    if unknown:
        raise fail(f"prices: unknown price(s) {', '.join(sorted(map(str, unknown)))}")
    for name, price in value.items():
        if price is not None and (type(price) not in (int, float) or not math.isfinite(price) or price < 0):
            raise fail(f"prices: {name} must be a non-negative number of USD or null, not {price!r}")
    return Prices(**{name: None if price is None else float(price) for name, price in value.items()})
