"""Each API's own limits, through the gateway with the real openai SDK and the simulator as Azure: embeddings are
limited per input, a TTS model by the tokens of its input, and a transcript's format and timestamps pick a model
that can return them (or a 400 naming the option), each decided before any budget is taken or Azure is called."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import Gateway
from tests.e2e.test_media import wav_bytes
from tests.support.simulator_control import SimulatorControl

AUDIO = ("clip.wav", wav_bytes(), "audio/wav")


def words(count: int) -> str:
    """A text of exactly `count` tokens in both cl100k_base and o200k_base: " a" is one token in each."""
    return "a" + " a" * (count - 1)


def refused_before_azure(gateway: Gateway, sim: SimulatorControl, error: openai.APIStatusError) -> None:
    assert sim.requests() == []
    line = gateway.log_line(error.response.headers["x-request-id"])
    assert line["status"] == 400 and line["attempts"] is None  # never admitted: no budget taken


def test_embeddings_too_long_together_but_not_one_by_one_are_embedded(
    client: openai.OpenAI, gateway: Gateway, sim: SimulatorControl
) -> None:
    # 15,000 tokens in all, each input within text-embedding-ada-002's 8,191.
    raw = client.embeddings.with_raw_response.create(model="auto", input=[words(5_000)] * 3)
    assert len(raw.parse().data) == 3
    assert sim.last_request()["path"] == "/openai/deployments/text-embedding-ada-002/embeddings"
    assert gateway.log_line(raw.headers["x-request-id"])["prompt_tokens"] == 15_000  # all of them count


def test_an_embeddings_input_over_the_window_is_a_400_naming_its_index(
    client: openai.OpenAI, gateway: Gateway, sim: SimulatorControl
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="text-embedding-ada-002", input=["short", words(9_120)])
    error = caught.value
    assert (error.code, error.param) == ("context_length_exceeded", "input")
    assert error.body["message"].startswith(  # type: ignore[index]
        "input[1] is 9,120 tokens; text-embedding-ada-002 takes at most 8,191 per input"
    )
    refused_before_azure(gateway, sim, error)


def test_more_embeddings_inputs_than_azure_takes_is_a_400_before_azure(
    client: openai.OpenAI, gateway: Gateway, sim: SimulatorControl
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="auto", input=["a"] * 2049)
    error = caught.value
    assert (error.code, error.param) == ("array_above_max_length", "input")
    refused_before_azure(gateway, sim, error)


def test_speech_over_the_tts_input_limit_is_a_400_before_azure(
    client: openai.OpenAI, gateway: Gateway, sim: SimulatorControl
) -> None:
    text = words(2_001)
    assert len(text) <= 4096  # within the endpoint's limit in characters: only its tokens are too many
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="auto", voice="alloy", input=text)
    error = caught.value
    assert (error.code, error.param) == ("context_length_exceeded", "input")
    assert "input is 2,001 tokens, over its limit of 2,000 per input" in error.body["message"]  # type: ignore[index]
    refused_before_azure(gateway, sim, error)


def test_speech_within_the_tts_input_limit_is_spoken_however_long_its_instructions(
    client: openai.OpenAI, sim: SimulatorControl
) -> None:
    audio = client.audio.speech.create(
        model="auto", voice="alloy", input=words(1_999), instructions=words(300), response_format="wav"
    )
    assert audio.content.startswith(b"RIFF")
    assert sim.last_request()["path"] == "/openai/deployments/gpt-4o-mini-tts/audio/speech"


def test_a_transcript_format_only_whisper_returns_goes_to_whisper(client: openai.OpenAI, sim: SimulatorControl) -> None:
    srt = client.audio.transcriptions.with_raw_response.create(model="auto", file=AUDIO, response_format="srt")
    assert srt.headers["x-gateway-model"] == "whisper"
    assert "-->" in srt.parse()
    verbose = client.audio.transcriptions.create(
        model="auto", file=AUDIO, response_format="verbose_json", timestamp_granularities=["word"]
    )
    assert verbose.words
    assert sim.last_request()["path"] == "/openai/deployments/whisper/audio/transcriptions"


def test_timestamps_go_to_whisper_with_the_field_as_sent(client: openai.OpenAI, sim: SimulatorControl) -> None:
    raw = client.audio.transcriptions.with_raw_response.create(
        model="auto", file=AUDIO, timestamp_granularities=["segment"]
    )
    assert raw.headers["x-gateway-model"] == "whisper"
    assert raw.parse().text
    assert sim.last_request()["form"]["timestamp_granularities[]"] == "segment"


def test_a_transcript_format_no_model_of_the_leaf_returns_is_a_400_naming_response_format(
    client: openai.OpenAI, gateway: Gateway, sim: SimulatorControl
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(model="auto", file=AUDIO, response_format="diarized_json")
    error = caught.value
    assert (error.code, error.param) == ("no_route", "response_format")
    assert "no diarized_json transcripts (response_format)" in error.body["message"]  # type: ignore[index]
    refused_before_azure(gateway, sim, error)


def test_explain_says_why_gpt_4o_transcribe_was_skipped(gateway: Gateway, sim: SimulatorControl) -> None:
    response = httpx.post(
        f"{gateway.url}/gateway/explain/v1/audio/transcriptions",
        headers={"authorization": f"Bearer {gateway.client_key}"},
        data={"model": "auto", "response_format": "vtt"},
        files={"file": AUDIO},
        timeout=30,
    )
    report = response.json()
    assert report["model"] == "whisper"
    assert report["features"]["needs"] == ["transcript_vtt"]
    assert report["notes"] == ["gpt-4o-transcribe skipped: no vtt transcripts (response_format)"]
    assert sim.requests() == []
