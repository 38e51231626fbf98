"""audio/transcriptions and audio/translations."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from gateway.simulator import media
from tests.simulator.helpers import AUTH, CLASSIC, Live, sdk_client

CLIP = media.wav(media.tone_pcm(3.0))  # exactly three seconds
SDK_CLIP = media.wav(media.tone_pcm(2.0))


@pytest.fixture
def sdk(live: Live) -> Iterator[openai.OpenAI]:
    with sdk_client(live) as client:
        yield client


async def transcribe(
    client: httpx.AsyncClient,
    deployment: str = "whisper",
    operation: str = "audio/transcriptions",
    fields: dict[str, Any] | None = None,
) -> httpx.Response:
    fields = fields or {}
    files: list[Any] = [("file", ("clip.wav", CLIP, "audio/wav"))]
    data = {name: [str(v) for v in value] if isinstance(value, list) else str(value) for name, value in fields.items()}
    return await client.post(CLASSIC.format(deployment, operation), files=files, data=data, headers=AUTH)


async def test_json_is_just_text_for_whisper(client: httpx.AsyncClient) -> None:
    data = (await transcribe(client)).json()
    assert list(data) == ["text"]
    assert data["text"].startswith("Simulated transcript from whisper:")
    assert (await transcribe(client)).json() == data


@pytest.mark.parametrize("deployment", ["gpt-4o-transcribe", "gpt-4o-mini-transcribe"])
async def test_json_for_token_models_has_usage(client: httpx.AsyncClient, deployment: str) -> None:
    data = (await transcribe(client, deployment, fields={"include[]": "logprobs"})).json()
    usage = data["usage"]
    assert usage["type"] == "tokens"
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["output_tokens"] == len(data["text"].split())
    assert [p["token"] for p in data["logprobs"]] == data["text"].split()


@pytest.mark.parametrize("fmt", ["srt", "vtt", "verbose_json"])
async def test_token_models_reject_timed_formats(client: httpx.AsyncClient, fmt: str) -> None:
    response = await transcribe(client, "gpt-4o-transcribe", fields={"response_format": fmt})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "response_format"


async def test_text_format(client: httpx.AsyncClient) -> None:
    text = await transcribe(client, fields={"response_format": "text"})
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == (await transcribe(client)).json()["text"] + "\n"


async def test_srt_format(client: httpx.AsyncClient) -> None:
    response = await transcribe(client, fields={"response_format": "srt"})
    assert response.headers["content-type"].startswith("text/plain")
    cues = response.text.strip().split("\n\n")
    assert len(cues) >= 1
    clock = r"\d{2}:\d{2}:\d{2},\d{3}"
    for number, cue in enumerate(cues, start=1):
        index, timing, text = cue.split("\n")
        assert index == str(number)
        assert re.fullmatch(f"{clock} --> {clock}", timing)
        assert text
    assert cues[-1].split("\n")[1].endswith("00:00:03,000")


async def test_vtt_format(client: httpx.AsyncClient) -> None:
    response = await transcribe(client, fields={"response_format": "vtt"})
    assert response.headers["content-type"].startswith("text/plain")
    header, *cues = response.text.strip().split("\n\n")
    assert header == "WEBVTT"
    assert cues
    clock = r"\d{2}:\d{2}:\d{2}\.\d{3}"
    assert all(re.fullmatch(f"{clock} --> {clock}", cue.split("\n")[0]) for cue in cues)


async def test_verbose_json_with_segments_and_words(client: httpx.AsyncClient) -> None:
    body = {"response_format": "verbose_json", "timestamp_granularities[]": ["word", "segment"], "language": "de"}
    data = (await transcribe(client, fields=body)).json()
    assert data["task"] == "transcribe"
    assert data["language"] == "german"
    assert data["duration"] == 3.0
    segments = data["segments"]
    assert segments[0]["start"] == 0
    assert segments[-1]["end"] == 3.0
    assert " ".join(s["text"].strip() for s in segments) == data["text"]
    keys = {"id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob", "compression_ratio"}
    assert keys | {"no_speech_prob"} == set(segments[0])
    words = data["words"]
    assert len(words) == len(data["text"].split())
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(words))


async def test_verbose_json_word_only(client: httpx.AsyncClient) -> None:
    data = (
        await transcribe(client, fields={"response_format": "verbose_json", "timestamp_granularities[]": "word"})
    ).json()
    assert "words" in data
    assert "segments" not in data


async def test_translation_is_english_and_whisper_only(client: httpx.AsyncClient) -> None:
    data = (await transcribe(client, "whisper", "audio/translations", {"response_format": "verbose_json"})).json()
    assert data["task"] == "translate"
    assert data["language"] == "english"
    assert data["text"].startswith("Simulated translation from whisper:")
    refused = await transcribe(client, "gpt-4o-transcribe", "audio/translations")
    assert refused.json()["error"]["code"] == "OperationNotSupported"


async def test_file_is_required(client: httpx.AsyncClient) -> None:
    url = CLASSIC.format("whisper", "audio/transcriptions")
    no_file = await client.post(url, files={"other": ("x.txt", b"x")}, data={"model": "whisper"}, headers=AUTH)
    no_name = await client.post(url, files={"file": (None, b"x")}, headers=AUTH)
    assert no_file.status_code == 400
    assert no_file.json()["error"]["param"] == "file"
    assert no_name.status_code == 400
    assert no_name.json()["error"]["param"] == "file"


async def test_bad_granularity(client: httpx.AsyncClient) -> None:
    response = await transcribe(client, fields={"response_format": "verbose_json", "timestamp_granularities[]": "char"})
    assert response.status_code == 400


@pytest.mark.parametrize("fmt", ["json", "text", "srt", "vtt", "verbose_json"])
def test_transcriptions_in_each_format(sdk: openai.OpenAI, fmt: str) -> None:
    options: dict[str, Any] = {"response_format": fmt}
    if fmt == "verbose_json":
        options["timestamp_granularities"] = ["word", "segment"]
    result: Any = sdk.audio.transcriptions.create(model="whisper", file=("clip.wav", SDK_CLIP, "audio/wav"), **options)
    if fmt in ("json", "verbose_json"):
        assert result.text.startswith("Simulated transcript from whisper:")
    else:
        assert isinstance(result, str)
    if fmt == "verbose_json":
        assert result.duration == 2.0
        assert result.words
        assert result.segments
    if fmt == "srt":
        assert "00:00:00,000 --> " in result
    if fmt == "vtt":
        assert result.startswith("WEBVTT")


def test_transcribe_model_usage(sdk: openai.OpenAI) -> None:
    result = sdk.audio.transcriptions.create(model="gpt-4o-transcribe", file=("clip.wav", SDK_CLIP, "audio/wav"))
    assert result.usage is not None
    assert result.usage.type == "tokens"


def test_translation(sdk: openai.OpenAI) -> None:
    # openai 3.x marks audio.translations.create deprecated (the endpoint shuts down in 2027; its successor,
    # realtime translations, is a different API, not a drop-in replacement). The simulator still serves it.
    with pytest.warns(DeprecationWarning, match="^deprecated$"):
        result = sdk.audio.translations.create(model="whisper", file=("clip.wav", SDK_CLIP, "audio/wav"))
    assert result.text.startswith("Simulated translation from whisper:")
