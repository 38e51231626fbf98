"""audio/speech."""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.simulator.helpers import AUTH, CLASSIC, Live, add_live_fault, sdk_client, sse_events, stream_into

URL = CLASSIC.format("gpt-4o-mini-tts", "audio/speech")


@pytest.fixture
def sdk(live: Live) -> Iterator[openai.OpenAI]:
    with sdk_client(live) as client:
        yield client


async def speak(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post(URL, json={"input": "Hello there.", "voice": "alloy", **body}, headers=AUTH)


async def test_wav_is_a_24khz_mono_tone_that_grows_with_the_text(client: httpx.AsyncClient) -> None:
    short = await speak(client, response_format="wav")
    long = await speak(client, response_format="wav", input="Hello there. " * 40)
    assert short.headers["content-type"] == "audio/wav"
    frames = []
    for response in (short, long):
        with wave.open(io.BytesIO(response.content)) as clip:
            assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (1, 2, 24000)
            samples = clip.readframes(clip.getnframes())
            frames.append(clip.getnframes())
        assert any(samples[i : i + 2] != b"\x00\x00" for i in range(0, 200, 2))
    assert frames[1] > frames[0] > 0


async def test_speed_shortens_the_audio(client: httpx.AsyncClient) -> None:
    normal = await speak(client, response_format="pcm")
    fast = await speak(client, response_format="pcm", speed=2.0)
    assert normal.headers["content-type"] == "audio/pcm"
    assert len(normal.content) % 2 == 0
    assert abs(len(fast.content) * 2 - len(normal.content)) <= 4


async def test_mp3_is_default_and_made_of_whole_frames(client: httpx.AsyncClient) -> None:
    response = await speak(client)
    assert response.headers["content-type"] == "audio/mpeg"
    data = response.content
    assert len(data) % 417 == 0
    assert all(data[i : i + 4] == b"\xff\xfb\x90\x64" for i in range(0, len(data), 417))


async def test_sse_stream_format(client: httpx.AsyncClient) -> None:
    response = await speak(client, response_format="pcm", stream_format="sse")
    events = sse_events(response.text)
    *deltas, done = events
    assert all(d["type"] == "speech.audio.delta" for d in deltas)
    pcm = b"".join(base64.b64decode(d["audio"]) for d in deltas)
    assert pcm == (await speak(client, response_format="pcm")).content
    assert done["type"] == "speech.audio.done"
    assert done["usage"]["total_tokens"] == done["usage"]["input_tokens"] + done["usage"]["output_tokens"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": None}, "input"),
        ({"input": "x" * 4097}, "input"),
        ({"voice": None}, "voice"),
        ({"voice": "robot"}, "voice"),
        ({"response_format": "opus"}, "response_format"),
        ({"response_format": "flac"}, "response_format"),
        ({"response_format": "ogg"}, "response_format"),
        ({"speed": 5}, "speed"),
    ],
)
async def test_invalid(client: httpx.AsyncClient, body: dict[str, Any], param: str) -> None:
    payload = {"input": "hi", "voice": "alloy", **body}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = await client.post(URL, json=payload, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_longest_input_and_custom_voice_are_accepted(client: httpx.AsyncClient) -> None:
    response = await speak(client, input="x" * 4096, voice={"id": "voice_123"}, response_format="wav")
    assert response.status_code == 200


def test_speech_is_sent_in_4_kib_pieces(live: Live) -> None:
    add_live_fault(live, cut_after_chunks=2)
    received = bytearray()
    body = {"input": "A sentence long enough for a few pieces." * 5, "voice": "alloy", "response_format": "wav"}
    with pytest.raises(httpx.RemoteProtocolError):
        stream_into(received, live, URL, body)
    full = httpx.post(f"{live.url}{URL}", json=body, headers=AUTH)
    assert full.headers["transfer-encoding"] == "chunked"
    full_body = full.content
    assert len(full_body) > 3 * 4096
    assert bytes(received) == full_body[: 2 * 4096]


def test_speech_wav(sdk: openai.OpenAI) -> None:
    response = sdk.audio.speech.create(model="gpt-4o-mini-tts", voice="coral", input="Hi there!", response_format="wav")
    with wave.open(io.BytesIO(response.read())) as clip:
        assert clip.getframerate() == 24000
        assert clip.getnframes() > 0
