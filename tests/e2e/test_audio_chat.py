"""Audio generation through chat/completions: routed to the audio leaf, and its audio relayed intact."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionChunk

from tests.conftest import Simulator
from tests.support.gateway_config import SIMULATOR_KEY

AUDIO_LEAF = "gpt-4o-mini-audio-preview"
SPOKEN = [{"role": "user", "content": "Say good morning to the team."}]


@pytest.fixture
def azure(simulator: Simulator) -> Iterator[openai.AzureOpenAI]:
    """The simulator called directly, as a client of Azure would: what the gateway must hand back unchanged."""
    with openai.AzureOpenAI(
        azure_endpoint=simulator.url, api_key=SIMULATOR_KEY, api_version="2025-04-01-preview", max_retries=0
    ) as client:
        yield client


def test_audio_modality_lands_on_the_audio_leaf_and_the_audio_is_intact(
    client: openai.OpenAI, azure: openai.AzureOpenAI
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="auto", messages=SPOKEN, modalities=["text", "audio"], audio={"voice": "alloy", "format": "wav"}
    )
    assert raw.headers["x-gateway-model"] == AUDIO_LEAF
    audio = raw.parse().choices[0].message.audio
    assert audio is not None and audio.transcript
    wav = base64.b64decode(audio.data)
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    direct = azure.chat.completions.create(
        model=AUDIO_LEAF, messages=SPOKEN, modalities=["text", "audio"], audio={"voice": "alloy", "format": "wav"}
    )
    assert direct.choices[0].message.audio is not None
    assert wav == base64.b64decode(direct.choices[0].message.audio.data)


def test_streamed_audio_arrives_whole_and_in_order(client: openai.OpenAI, azure: openai.AzureOpenAI) -> None:
    request: dict[str, Any] = {
        "messages": SPOKEN,
        "modalities": ["text", "audio"],
        "audio": {"voice": "alloy", "format": "pcm16"},
        "stream": True,
    }
    stream = client.chat.completions.create(model="auto", **request)
    assert stream.response.headers["x-gateway-model"] == AUDIO_LEAF
    through_gateway = _audio_of(stream)
    assert len(through_gateway) > 0 and len(through_gateway) % 2 == 0  # whole 16-bit samples
    assert through_gateway == _audio_of(azure.chat.completions.create(model=AUDIO_LEAF, **request))


def test_input_audio_parts_land_on_the_audio_leaf(client: openai.OpenAI) -> None:
    clip = base64.b64encode(b"RIFF" + bytes(40)).decode()
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is said here?"},
                    {"type": "input_audio", "input_audio": {"data": clip, "format": "wav"}},
                ],
            }
        ],
    )
    assert raw.headers["x-gateway-model"] == AUDIO_LEAF
    assert raw.parse().choices[0].message.content


def _audio_of(stream: Iterable[ChatCompletionChunk]) -> bytes:
    pieces = []
    for chunk in stream:
        for choice in chunk.choices:
            audio = choice.delta.audio  # ChoiceDeltaAudio: the SDK's typed view of the delta's audio part
            if audio is not None and audio.data:
                pieces.append(base64.b64decode(audio.data))
    return b"".join(pieces)
