"""The real openai SDK against a real socket: the simulator must parse the way Azure's replies do."""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from gateway.simulator import media
from tests.simulator.helpers import KEY, Live, png_pixels

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say something."}]
CLIP = media.wav(media.tone_pcm(2.0))
PNG = media.png(16, 16, (200, 10, 10), (10, 10, 200))


@pytest.fixture
def sdk(live: Live) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{live.url}/openai/v1", api_key=KEY, max_retries=0) as client:
        yield client


def test_chat(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(model="gpt-4.1", messages=MESSAGES, max_tokens=50)
    assert completion.choices[0].message.content
    assert completion.choices[0].message.content.startswith("Simulated reply from gpt-4.1:")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert completion.model_extra is not None
    assert completion.model_extra["prompt_filter_results"][0]["prompt_index"] == 0


def test_chat_stream_with_usage(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="gpt-4.1",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices == []  # Azure's prompt-annotation chunk
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(text.split())
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    plain = sdk.chat.completions.create(model="gpt-4.1", messages=MESSAGES)
    assert plain.choices[0].message.content == text


def test_sdk_errors_map_to_its_exceptions(sdk: openai.OpenAI, live: Live) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.chat.completions.create(model="no-such-deployment", messages=MESSAGES)
    assert missing.value.code == "DeploymentNotFound"
    bad = openai.OpenAI(base_url=f"{live.url}/openai/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="gpt-4.1", messages=MESSAGES)


def test_embeddings_base64_default_is_decoded(sdk: openai.OpenAI) -> None:
    result = sdk.embeddings.create(model="text-embedding-ada-002", input=["one", "two"])
    assert [len(d.embedding) for d in result.data] == [1536, 1536]
    assert abs(sum(x * x for x in result.data[0].embedding) - 1.0) < 1e-4
    short = sdk.embeddings.create(model="text-embedding-ada-002", input="one", dimensions=64)
    assert len(short.data[0].embedding) == 64


def test_images_generate(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(model="gpt-image-1", prompt="a lighthouse", n=2, size="1024x1024", quality="low")
    assert result.data is not None
    assert len(result.data) == 2
    assert result.data[0].b64_json is not None
    picture = base64.b64decode(result.data[0].b64_json)
    width, height, rows = png_pixels(picture)  # checks the signature, CRCs, and inflates IDAT
    assert (width, height) == (64, 64)
    assert len(rows) == 64 * (1 + 64 * 3)
    assert result.usage is not None
    assert result.usage.output_tokens == 2 * 272


def test_images_edit_with_one_image_and_with_a_list(sdk: openai.OpenAI, live: Live) -> None:
    one = sdk.images.edit(model="gpt-image-1", image=("in.png", PNG, "image/png"), prompt="add stars")
    several = sdk.images.edit(
        model="gpt-image-1",
        image=[("a.png", PNG, "image/png"), ("b.png", PNG, "image/png")],
        prompt="blend",
    )
    for result in (one, several):
        assert result.data is not None
        assert result.data[0].b64_json is not None
        assert png_pixels(base64.b64decode(result.data[0].b64_json))[:2] == (64, 64)
    log = httpx.get(f"{live.url}/sim/requests").json()
    assert set(log[0]["form"]) >= {"image", "prompt", "model"}
    assert len(log[1]["form"]["image[]"]) == 2


def test_speech_wav(sdk: openai.OpenAI) -> None:
    response = sdk.audio.speech.create(model="gpt-4o-mini-tts", voice="coral", input="Hi there!", response_format="wav")
    with wave.open(io.BytesIO(response.read())) as clip:
        assert clip.getframerate() == 24000
        assert clip.getnframes() > 0


@pytest.mark.parametrize("fmt", ["json", "text", "srt", "vtt", "verbose_json"])
def test_transcriptions_in_each_format(sdk: openai.OpenAI, fmt: str) -> None:
    options: dict[str, Any] = {"response_format": fmt}
    if fmt == "verbose_json":
        options["timestamp_granularities"] = ["word", "segment"]
    result: Any = sdk.audio.transcriptions.create(model="whisper", file=("clip.wav", CLIP, "audio/wav"), **options)
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
    result = sdk.audio.transcriptions.create(model="gpt-4o-transcribe", file=("clip.wav", CLIP, "audio/wav"))
    assert result.usage is not None
    assert result.usage.type == "tokens"


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_translation(sdk: openai.OpenAI) -> None:
    result = sdk.audio.translations.create(model="whisper", file=("clip.wav", CLIP, "audio/wav"))
    assert result.text.startswith("Simulated translation from whisper:")


def test_models_list(sdk: openai.OpenAI) -> None:
    assert "gpt-4.1" in {m.id for m in sdk.models.list()}


def test_azure_client_classic_urls(live: Live) -> None:
    client = openai.AzureOpenAI(azure_endpoint=live.url, api_key=KEY, api_version="2025-04-01-preview", max_retries=0)
    completion = client.chat.completions.create(model="gpt-35-turbo", messages=MESSAGES)
    assert completion.model == "gpt-35-turbo-0125"
    embedded = client.embeddings.create(model="text-embedding-ada-002", input="x")
    assert len(embedded.data[0].embedding) == 1536
    speech = client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="hi", response_format="mp3")
    assert speech.read()[:4] == b"\xff\xfb\x90\x64"
    paths = [r["path"] for r in httpx.get(f"{live.url}/sim/requests").json()]
    assert paths == [
        "/openai/deployments/gpt-35-turbo/chat/completions",
        "/openai/deployments/text-embedding-ada-002/embeddings",
        "/openai/deployments/gpt-4o-mini-tts/audio/speech",
    ]
