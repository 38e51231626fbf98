"""Synthetic speech (voice.py): a tone in each voice's pitch, in the formats the simulator writes."""

from __future__ import annotations

import io
import wave

import pytest

from gateway.simulator import media, voice


def test_each_voice_has_a_fixed_pitch_from_a_small_set() -> None:
    periods = {name: voice.tone_period(name) for name in ("alloy", "echo", "coral", "sage", "verse", "ash")}
    assert set(periods.values()) <= {40, 48, 60, 80}
    assert len(set(periods.values())) > 1
    assert periods == {name: voice.tone_period(name) for name in periods}


def test_wav_is_the_pcm_tone_with_a_header() -> None:
    pcm = voice.encode("pcm", 0.5, 80)
    assert pcm == voice.encode("pcm16", 0.5, 80) == media.tone_pcm(0.5, 80)
    assert len(pcm) == 24_000
    with wave.open(io.BytesIO(voice.encode("wav", 0.5, 80))) as clip:
        assert (clip.getframerate(), clip.getnchannels(), clip.getsampwidth()) == (24_000, 1, 2)
        assert clip.readframes(clip.getnframes()) == pcm


def test_mp3_is_silent_frames() -> None:
    assert voice.encode("mp3", 0.5) == media.silent_mp3(0.5)


def test_media_types_cover_every_format() -> None:
    expected = {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm": "audio/pcm", "pcm16": "audio/pcm"}
    assert dict(voice.MEDIA_TYPES) == expected


def test_a_clip_lasts_50_ms_and_costs_5_tokens_per_word() -> None:
    clip = voice.audio_clip("pcm16", 4)
    assert len(clip.data) == 4 * 2400
    assert clip.tokens == 20
    assert clip.id.startswith("audio_") and len(clip.id) == len("audio_") + 24
    assert voice.audio_clip("pcm16", 4).id != clip.id
    # No words still makes a sound (one word's worth) but costs nothing.
    empty = voice.audio_clip("pcm16", 0)
    assert (len(empty.data), empty.tokens) == (2400, 0)


@pytest.mark.parametrize("count", [1, 3, 7])
def test_pieces_are_whole_samples_and_add_up_to_the_clip(count: int) -> None:
    clip = voice.AudioClip("audio_x", bytes(range(202)), 0)
    pieces = clip.pieces(count)
    assert len(pieces) == count
    assert b"".join(pieces) == clip.data
    assert all(len(piece) % 2 == 0 for piece in pieces)
    assert len({len(piece) for piece in pieces[:-1]}) <= 1
