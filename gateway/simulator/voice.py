"""Synthetic speech: a tone whose length follows the text, in the formats the simulator can write."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gateway.simulator import media, textgen

# Short on purpose: replies stay small while their length still tracks the text.
SECONDS_PER_WORD = 0.05
AUDIO_TOKENS_PER_WORD = 5

MEDIA_TYPES: Mapping[str, str] = MappingProxyType(
    {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm": "audio/pcm", "pcm16": "audio/pcm"}
)


# Samples per cycle at 24 kHz (400, 300, 500, 600 Hz): whole periods make the tone cheap to build.
_PERIODS = (60, 80, 48, 40)


def tone_period(voice: str) -> int:
    """Each voice gets its own pitch, so a test can hear which voice was used."""
    return _PERIODS[textgen.digest(voice.encode())[0] % len(_PERIODS)]


def encode(fmt: str, seconds: float, period: int = 60) -> bytes:
    """`fmt` is one of MEDIA_TYPES; pcm and pcm16 are the same raw 24 kHz 16-bit mono samples."""
    if fmt == "mp3":
        return media.silent_mp3(seconds)
    pcm = media.tone_pcm(seconds, period)
    return media.wav(pcm) if fmt == "wav" else pcm


@dataclass(frozen=True, slots=True)
class AudioClip:
    id: str
    data: bytes
    tokens: int

    def pieces(self, count: int) -> list[bytes]:
        """`count` slices of whole 16-bit samples, the last one taking the remainder."""
        size = (len(self.data) // max(1, count)) & ~1
        cuts = [i * size for i in range(count)] + [len(self.data)]
        return [self.data[a:b] for a, b in itertools.pairwise(cuts)]


def audio_clip(fmt: str, words: int) -> AudioClip:
    data = encode(fmt, SECONDS_PER_WORD * max(1, words))
    return AudioClip(f"audio_{uuid.uuid4().hex[:24]}", data, AUDIO_TOKENS_PER_WORD * words)
