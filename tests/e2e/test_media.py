"""Embeddings, images, speech, transcription and translation through the gateway with the real openai SDK."""

from __future__ import annotations

import base64
import io
import threading
import wave
import zlib

import openai
import pytest

from tests.support.simulator_control import SimulatorControl

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def wav_bytes(seconds: float = 0.2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x01" * int(16000 * seconds))
    return buffer.getvalue()


def png_is_valid(data: bytes) -> bool:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return False
    position, idat = 8, b""
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            idat += data[position + 8 : position + 8 + length]
        position += 12 + length
    return len(zlib.decompress(idat)) > 0


def test_embeddings_decode_from_the_sdks_base64_default(client: openai.OpenAI, sim: SimulatorControl) -> None:
    result = client.embeddings.create(model="text-embedding-ada-002", input=["alpha", "beta"])
    assert [len(item.embedding) for item in result.data] == [1536, 1536]
    assert result.data[0].embedding != result.data[1].embedding
    assert sim.last_request()["json"]["encoding_format"] == "base64"


async def test_async_embeddings_with_dimensions(async_client: openai.AsyncOpenAI) -> None:
    result = await async_client.embeddings.create(model="text-embedding-ada-002", input="alpha", dimensions=256)
    assert len(result.data[0].embedding) == 256


def test_image_generation_returns_a_png(client: openai.OpenAI) -> None:
    result = client.images.generate(model="gpt-image-1", prompt="a lighthouse", size="1024x1024")
    assert result.data and result.data[0].b64_json
    assert png_is_valid(base64.b64decode(result.data[0].b64_json))


def test_image_edit_with_one_image_and_a_mask(client: openai.OpenAI, sim: SimulatorControl) -> None:
    result = client.images.edit(
        model="gpt-image-1", image=("in.png", PNG, "image/png"), mask=("mask.png", PNG, "image/png"), prompt="add a sun"
    )
    assert result.data and png_is_valid(base64.b64decode(result.data[0].b64_json or ""))
    seen = sim.last_request()
    assert seen["path"] == "/openai/deployments/gpt-image-1/images/edits"
    assert seen["form"]["prompt"] == "add a sun"
    assert seen["form"]["image"]["size"] == len(PNG)
    assert seen["form"]["mask"]["filename"] == "mask.png"


async def test_image_edit_with_several_images(async_client: openai.AsyncOpenAI, sim: SimulatorControl) -> None:
    images = [("a.png", PNG, "image/png"), ("b.png", PNG, "image/png")]
    result = await async_client.images.edit(model="gpt-image-1", image=images, prompt="merge them")
    assert result.data
    parts = sim.last_request()["form"]["image[]"]
    assert [part["filename"] for part in parts] == ["a.png", "b.png"]


def test_speech_is_a_valid_wav(client: openai.OpenAI) -> None:
    audio = client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="alloy", input="Hello there.", response_format="wav"
    )
    with wave.open(io.BytesIO(audio.content)) as parsed:
        assert parsed.getnframes() > 0


def test_speech_is_relayed_as_it_arrives(client: openai.OpenAI, sim: SimulatorControl) -> None:
    # Azure sends the first chunk, then holds the rest: the client must get that chunk before the rest exists.
    sim.add_fault(deployment="gpt-4o-mini-tts", hold="speech-rest")
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="alloy", input="A longer sentence to speak. " * 20, response_format="wav"
    ) as response:
        chunks = response.iter_bytes()
        first = next(chunks)
        assert first.startswith(b"RIFF")
        threading.Thread(target=sim.release, args=("speech-rest",)).start()
        rest = b"".join(chunks)
    with wave.open(io.BytesIO(first + rest)) as parsed:
        assert parsed.getnframes() > 0


async def test_async_speech_mp3(async_client: openai.AsyncOpenAI) -> None:
    audio = await async_client.audio.speech.create(model="gpt-4o-mini-tts", voice="nova", input="Hi.")
    assert audio.content[:2] == b"\xff\xfb"  # an MPEG-1 Layer III frame header


def test_transcription_formats(client: openai.OpenAI, sim: SimulatorControl) -> None:
    audio = ("clip.wav", wav_bytes(), "audio/wav")
    as_json = client.audio.transcriptions.create(model="whisper", file=audio)
    assert as_json.text
    assert sim.last_request()["form"]["file"]["size"] == len(audio[1])
    as_text = client.audio.transcriptions.create(model="whisper", file=audio, response_format="text")
    assert isinstance(as_text, str) and as_text.strip()
    srt = client.audio.transcriptions.create(model="whisper", file=audio, response_format="srt")
    assert "-->" in srt and srt.lstrip().startswith("1")
    vtt = client.audio.transcriptions.create(model="whisper", file=audio, response_format="vtt")
    assert vtt.startswith("WEBVTT")
    verbose = client.audio.transcriptions.create(
        model="whisper", file=audio, response_format="verbose_json", timestamp_granularities=["word", "segment"]
    )
    assert verbose.segments and verbose.words
    assert sim.last_request()["form"]["timestamp_granularities[]"] == ["word", "segment"]


async def test_async_transcription_and_translation(async_client: openai.AsyncOpenAI) -> None:
    audio = ("clip.wav", wav_bytes(), "audio/wav")
    transcript = await async_client.audio.transcriptions.create(model="gpt-4o-mini-transcribe", file=audio)
    assert transcript.text
    # openai 3.x marks audio.translations.create deprecated (the endpoint shuts down in 2027; its successor,
    # realtime translations, is a different API, not a drop-in replacement). The gateway still serves it.
    with pytest.warns(DeprecationWarning, match="^deprecated$"):
        translation = await async_client.audio.translations.create(model="whisper", file=audio)
    assert translation.text
