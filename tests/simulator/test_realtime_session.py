"""The realtime session's answers as plain data: no socket, so every event and number is checked."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gateway.simulator.catalog import MODELS
from gateway.simulator.realtime_dialect import BETA
from tests.simulator.realtime_helpers import MODEL, say, send, session, text_response


def test_session_created_describes_a_session_without_voice_detection() -> None:
    (created,) = session().start()
    assert created["type"] == "session.created" and created["event_id"].startswith("event_")
    settings = created["session"]
    assert settings["type"] == "realtime" and settings["model"] == MODELS[MODEL].response_model
    assert settings["expires_at"] == 1_700_000_000 + 1800
    assert settings["audio"]["input"]["turn_detection"] is None
    (beta,) = session(BETA).start()
    assert beta["session"]["modalities"] == ["text", "audio"] and beta["session"]["turn_detection"] is None


def test_deleted_items_stop_counting() -> None:
    rt = session()
    first = say(rt, "x" * 400)
    (deleted,) = send(rt, type="conversation.item.delete", item_id=first)
    assert deleted == {"type": "conversation.item.deleted", "event_id": deleted["event_id"], "item_id": first}
    say(rt, "y")
    assert text_response(rt)["usage"]["input_tokens"] == 1


@pytest.mark.parametrize(
    ("event", "code", "param"),
    [
        ({"type": "session.update", "session": {"instructions": "no type"}}, "invalid_value", "session.type"),
        (
            {"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text", "audio"]}},
            "invalid_value",
            "output_modalities",
        ),
        (
            {"type": "session.update", "session": {"type": "realtime", "audio": {"output": {"format": {"type": "x"}}}}},
            "invalid_value",
            "session.audio",
        ),
        ({"type": "input_audio_buffer.append", "audio": "not base64!"}, "invalid_value", "audio"),
        ({"type": "input_audio_buffer.commit"}, "input_audio_buffer_commit_empty", None),
        ({"type": "conversation.item.create", "item": {"type": "message", "role": "user"}}, "invalid_value", None),
        ({"type": "conversation.item.delete", "item_id": "item_nope"}, "item_delete_invalid_item_id", "item_id"),
        ({"type": "response.cancel"}, "response_cancel_not_active", None),
        ({"type": "conversation.item.truncate"}, "not_simulated", "type"),
        ({"type": "no.such.event"}, "invalid_value", "type"),
        ({"no_type": True}, "missing_required_parameter", "type"),
    ],
)
def test_bad_events_get_one_error_and_change_nothing(event: dict[str, Any], code: str, param: str | None) -> None:
    rt = session()
    before = rt.start()[0]["session"]
    (error,) = send(rt, event_id="evt_client_7", **event)
    assert error["type"] == "error"
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["code"] == code
    if param is not None:
        assert error["error"]["param"] == param
    assert error["error"]["event_id"] == "evt_client_7"
    assert rt.start()[0]["session"] == before
    # Nothing joined the conversation: a response has no input to pay for.
    assert text_response(rt)["usage"]["input_tokens"] == 0


def test_commit_names_the_audio_it_was_given() -> None:
    rt = session(BETA)
    send(rt, type="input_audio_buffer.append", audio=base64.b64encode(b"\0" * 2400).decode())
    (error,) = send(rt, type="input_audio_buffer.commit")
    assert "buffer only has 50.00ms of audio" in error["error"]["message"]
    send(rt, type="input_audio_buffer.append", audio=base64.b64encode(b"\0" * 2400).decode())
    committed, created = send(rt, type="input_audio_buffer.commit")
    assert committed["item_id"] == created["item"]["id"]
    assert created["type"] == "conversation.item.created"
    assert created["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    done = text_response(rt, BETA)
    assert done["usage"]["input_token_details"] == {"cached_tokens": 0, "text_tokens": 0, "audio_tokens": 1}


def test_cleared_buffer_commits_nothing() -> None:
    rt = session()
    send(rt, type="input_audio_buffer.append", audio=base64.b64encode(b"\0" * 9600).decode())
    (cleared,) = send(rt, type="input_audio_buffer.clear")
    assert cleared["type"] == "input_audio_buffer.cleared"
    (error,) = send(rt, type="input_audio_buffer.commit")
    assert error["error"]["code"] == "input_audio_buffer_commit_empty"


def test_response_overrides_do_not_stick_to_the_session() -> None:
    rt = session()
    say(rt, "hi")
    events = send(rt, type="response.create", response={"output_modalities": ["text"]})
    assert "response.output_text.delta" in {e["type"] for e in events}
    events = send(rt, type="response.create")
    assert "response.output_audio.delta" in {e["type"] for e in events}


def test_event_ids_are_unique() -> None:
    rt = session()
    say(rt, "hi")
    events = [*rt.start(), *send(rt, type="response.create")]
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == len(ids)
