"""The GA and beta realtime protocols (realtime_dialect.py): default sessions, session.update merging and
validation, per-response overrides, output caps and voices."""

from __future__ import annotations

import base64
import math
from typing import Any

import pytest

from gateway.simulator.realtime_dialect import BETA, GA, MAX_OUTPUT_TOKENS, Dialect, EventError
from tests.conftest import Simulator
from tests.simulator.realtime_helpers import (
    ga_session,
    reply_text,
    say,
    send,
    session,
    text_response,
    tone,
    until,
)
from tests.support.simulator_control import SimulatorControl


async def test_session_update_merges_and_changes_the_voice(simulator: Simulator, sim: SimulatorControl) -> None:
    async with ga_session(simulator) as conn:
        update = {"type": "realtime", "instructions": "Be brief.", "audio": {"output": {"voice": "echo"}}}
        await conn.session.update(session=update)
        updated = await conn.recv()
        assert updated.type == "session.updated"
        assert updated.session.instructions == "Be brief."
        assert updated.session.audio.output.voice == "echo"
        # Merged, not replaced: the input side and the modalities keep their values.
        assert updated.session.audio.input.format.type == "audio/pcm"
        assert updated.session.output_modalities == ["audio"]
        await conn.response.create()
        events = await until(conn, "response.done")
    audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta")
    words = events[-1].response.usage.output_token_details.text_tokens
    assert audio == tone(words, "echo") != tone(words, "alloy")
    assert events[-1].response.usage.input_tokens == math.ceil(len("Be brief.") / 4)


def test_beta_session_cap_uses_its_own_name() -> None:
    rt = session(BETA)
    (updated,) = send(rt, type="session.update", session={"max_response_output_tokens": 3})
    assert updated["session"]["max_response_output_tokens"] == 3
    say(rt, "hi")
    assert len(reply_text(text_response(rt, BETA)).split()) == 3


def test_default_sessions_speak_pcm16_in_each_dialects_words() -> None:
    ga, beta = GA.default_session("sess_1", "model-x", 100), BETA.default_session("sess_1", "model-x", 100)
    assert ga["output_modalities"] == ["audio"]
    assert ga["audio"]["output"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert ga["max_output_tokens"] == "inf"
    assert "modalities" not in ga
    assert beta["modalities"] == ["text", "audio"]
    assert (beta["input_audio_format"], beta["output_audio_format"]) == ("pcm16", "pcm16")
    assert beta["max_response_output_tokens"] == "inf"
    assert "type" not in beta
    for default in (ga, beta):
        assert (default["id"], default["model"], default["expires_at"]) == ("sess_1", "model-x", 100)
    # Each call builds a fresh session: changing one must not change the next.
    ga["audio"]["output"]["format"]["rate"] = 1
    ga["audio"]["input"]["format"]["rate"] = 1
    assert GA.default_session("s", "m", 0)["audio"]["output"]["format"]["rate"] == 24000
    assert GA.default_session("s", "m", 0)["audio"]["input"]["format"]["rate"] == 24000


def test_update_ignores_the_keys_the_server_owns_and_leaves_the_current_session_alone() -> None:
    current = GA.default_session("sess_1", "model-x", 100)
    update = {"type": "realtime", "id": "sess_mine", "model": "gpt-9", "expires_at": 1, "instructions": "hi"}
    merged = GA.updated_session(current, update)
    assert (merged["id"], merged["model"], merged["expires_at"], merged["instructions"]) == (
        "sess_1",
        "model-x",
        100,
        "hi",
    )
    assert current["instructions"] == ""


def test_update_merges_nested_objects_and_replaces_lists() -> None:
    current = GA.default_session("sess_1", "model-x", 100)
    merged = GA.updated_session(current, {"type": "realtime", "audio": {"output": {"speed": 1.5}}, "tools": [{"a": 1}]})
    assert merged["audio"]["output"] == {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy", "speed": 1.5}
    assert merged["tools"] == [{"a": 1}]
    assert current["audio"]["output"]["speed"] == 1.0


@pytest.mark.parametrize(
    ("dialect", "update", "param"),
    [
        (GA, None, "session"),
        (GA, {"instructions": "no type"}, "session.type"),
        (GA, {"type": "transcription"}, "session.type"),
        (GA, {"type": "realtime", "output_modalities": []}, "output_modalities"),
        (GA, {"type": "realtime", "output_modalities": ["video"]}, "output_modalities"),
        (GA, {"type": "realtime", "max_output_tokens": 0}, "max_output_tokens"),
        (GA, {"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcmu"}}}}, "session.audio"),
        (BETA, {"modalities": "text"}, "modalities"),
        (BETA, {"max_response_output_tokens": MAX_OUTPUT_TOKENS + 1}, "max_response_output_tokens"),
        (BETA, {"output_audio_format": "g711_ulaw"}, "session.audio"),
    ],
)
def test_updates_the_simulator_cannot_honour_are_refused(dialect: Dialect, update: Any, param: str) -> None:
    with pytest.raises(EventError) as refused:
        dialect.updated_session(dialect.default_session("s", "m", 0), update)
    assert refused.value.param == param


def test_beta_may_ask_for_text_and_audio_together_but_ga_may_not() -> None:
    assert BETA.modalities({"modalities": ["text", "audio"]}) == ["text", "audio"]
    with pytest.raises(EventError, match="not both"):
        GA.modalities({"output_modalities": ["text", "audio"]})


@pytest.mark.parametrize(("value", "cap"), [("inf", None), (None, None), (1, 1), (MAX_OUTPUT_TOKENS, 4096)])
def test_output_cap(value: Any, cap: int | None) -> None:
    assert GA.output_cap({"max_output_tokens": value}) == cap
    assert BETA.output_cap({"max_response_output_tokens": value}) == cap
    # Each dialect reads only its own name: the other one's is no cap at all.
    assert GA.output_cap({"max_response_output_tokens": 1}) is None


@pytest.mark.parametrize("value", [0, MAX_OUTPUT_TOKENS + 1, True, 2.0, "10"])
def test_output_cap_out_of_range_or_of_the_wrong_type(value: Any) -> None:
    with pytest.raises(EventError):
        GA.output_cap({"max_output_tokens": value})


def test_voice_lives_in_each_dialects_place_and_may_be_custom() -> None:
    assert GA.voice({"audio": {"output": {"voice": "echo"}}}) == "echo"
    assert GA.voice({"voice": "echo"}) == "alloy"
    assert BETA.voice({"voice": "echo"}) == "echo"
    assert BETA.voice({"voice": {"id": "voice_123"}}) == "voice_123"
    assert GA.voice({"audio": {"output": {"voice": {"id": "voice_9"}}}}) == "voice_9"
    assert BETA.voice({}) == "alloy"


def test_response_settings_lay_overrides_over_a_copy_of_the_session() -> None:
    current = {"instructions": "a", "audio": {"output": {"voice": "alloy", "speed": 1.0}}}
    over = GA.response_settings(current, {"audio": {"output": {"voice": "echo"}}})
    assert over == {"instructions": "a", "audio": {"output": {"voice": "echo", "speed": 1.0}}}
    assert current["audio"]["output"]["voice"] == "alloy"
    assert GA.response_settings(current, None) == current
    with pytest.raises(EventError) as refused:
        GA.response_settings(current, ["not", "an", "object"])
    assert refused.value.param == "response"


def test_response_shape_names_the_fields_as_each_dialect_does() -> None:
    assert GA.response_shape("echo", ["audio"], None) == {
        "output_modalities": ["audio"],
        "max_output_tokens": "inf",
        "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "echo"}},
    }
    assert BETA.response_shape("echo", ["text"], 7) == {
        "modalities": ["text"],
        "max_output_tokens": 7,
        "voice": "echo",
        "output_audio_format": "pcm16",
        "temperature": 0.8,
    }


def test_error_defaults_to_invalid_value() -> None:
    error = EventError("bad", "x")
    assert (str(error), error.message, error.param, error.code) == ("bad", "bad", "x", "invalid_value")
