"""One realtime session's state and its answers: client event in, the server events it causes out.

No I/O here (realtime_link.py owns the socket), so every answer is plain data a test can check.

    session.update               -> session.updated (the whole merged session)
    input_audio_buffer.append    -> nothing; the audio waits in the buffer
    input_audio_buffer.commit    -> input_audio_buffer.committed, then the new item (see below)
    input_audio_buffer.clear     -> input_audio_buffer.cleared
    conversation.item.create     -> the new item: GA conversation.item.added + .done, beta .created
    conversation.item.delete     -> conversation.item.deleted
    response.create              -> the response's events (realtime_response.py)
    anything else, bad JSON, binary frames -> one `error` event; the session stays open

Responses are built whole, so one is never in progress when the next event is read: response.cancel
always answers that there is nothing to cancel.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from gateway.simulator.catalog import ModelSpec
from gateway.simulator.realtime_conversation import (
    INPUT_AUDIO_BYTES_PER_TOKEN,
    PCM_BYTES_PER_SECOND,
    Turn,
    audio_turn,
    client_turn,
    decode_audio,
)
from gateway.simulator.realtime_dialect import Dialect, EventError
from gateway.simulator.realtime_response import respond

Event = dict[str, Any]
# Azure refuses to commit less than 100 ms of audio.
MIN_COMMIT_BYTES = INPUT_AUDIO_BYTES_PER_TOKEN
SESSION_SECONDS = 30 * 60
# Valid events that the simulator does not act out; they get an error rather than silence.
_NOT_SIMULATED = frozenset(
    {
        "conversation.item.retrieve",
        "conversation.item.truncate",
        "output_audio_buffer.clear",
        "transcription_session.update",
    }
)


class RealtimeSession:
    def __init__(self, dialect: Dialect, deployment: str, model: ModelSpec, now: float | None = None) -> None:
        self._dialect = dialect
        self._deployment = deployment
        self._prefix = uuid.uuid4().hex[:12]
        self._serial = itertools.count(1)
        expires_at = int(time.time() if now is None else now) + SESSION_SECONDS
        self._settings = dialect.default_session(self._new_id("sess"), model.response_model, expires_at)
        self._conversation_id = self._new_id("conv")
        self._turns: list[Turn] = []
        self._buffer = bytearray()
        self._handlers: Mapping[str, Callable[[Event], list[Event]]] = {
            "session.update": self._update_session,
            "input_audio_buffer.append": self._append_audio,
            "input_audio_buffer.commit": self._commit_audio,
            "input_audio_buffer.clear": self._clear_audio,
            "conversation.item.create": self._create_item,
            "conversation.item.delete": self._delete_item,
            "response.create": self._create_response,
            "response.cancel": self._cancel_response,
        }

    def start(self) -> list[Event]:
        return self._stamped([{"type": "session.created", "session": self._settings}])

    def receive_text(self, text: str) -> list[Event]:
        try:
            event = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [self._error(EventError("The event is not valid JSON.", None, "invalid_json"), None)]
        if not isinstance(event, dict):
            return [self._error(EventError("An event must be a JSON object.", None, "invalid_json"), None)]
        client_event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        try:
            return self._stamped(self._handler(event.get("type"))(event))
        except EventError as error:
            return [self._error(error, client_event_id)]

    def receive_bytes(self) -> list[Event]:
        message = "Binary frames are not accepted: send each event as a JSON text frame."
        return [self._error(EventError(message, None, "invalid_event"), None)]

    def _handler(self, kind: Any) -> Callable[[Event], list[Event]]:
        if not isinstance(kind, str):
            raise EventError("Missing required parameter: 'type'.", "type", "missing_required_parameter")
        if kind in _NOT_SIMULATED:
            raise EventError(f"'{kind}' is valid but not simulated.", "type", "not_simulated")
        handler = self._handlers.get(kind)
        if handler is None:
            supported = ", ".join(f"'{name}'" for name in self._handlers)
            raise EventError(f"Invalid value: '{kind}'. Supported values are: {supported}.", "type")
        return handler

    def _update_session(self, event: Event) -> list[Event]:
        self._settings = self._dialect.updated_session(self._settings, event.get("session"))
        return [{"type": "session.updated", "session": self._settings}]

    def _append_audio(self, event: Event) -> list[Event]:
        self._buffer += decode_audio(event.get("audio"), "audio")
        return []

    def _commit_audio(self, event: Event) -> list[Event]:
        if len(self._buffer) < MIN_COMMIT_BYTES:
            held_ms = 1000 * len(self._buffer) / PCM_BYTES_PER_SECOND
            message = (
                "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, "
                f"but buffer only has {held_ms:.2f}ms of audio."
            )
            raise EventError(message, None, "input_audio_buffer_commit_empty")
        turn = audio_turn(bytes(self._buffer), self._new_id("item"))
        self._buffer.clear()
        previous = self._add(turn)
        committed = {"type": "input_audio_buffer.committed", "previous_item_id": previous, "item_id": turn.id}
        return [committed, *self._announce(turn, previous)]

    def _clear_audio(self, event: Event) -> list[Event]:
        self._buffer.clear()
        return [{"type": "input_audio_buffer.cleared"}]

    def _create_item(self, event: Event) -> list[Event]:
        turn = client_turn(event.get("item"), self._new_id("item"))
        if any(t.id == turn.id for t in self._turns):
            raise EventError(f"Item with id '{turn.id}' already exists.", "item.id", "item_id_already_exists")
        previous = self._add(turn)
        return self._announce(turn, previous)

    def _delete_item(self, event: Event) -> list[Event]:
        item_id = event.get("item_id")
        for index, turn in enumerate(self._turns):
            if turn.id == item_id:
                del self._turns[index]
                return [{"type": "conversation.item.deleted", "item_id": item_id}]
        message = f"Error deleting item: the item with id '{item_id}' does not exist."
        raise EventError(message, "item_id", "item_delete_invalid_item_id")

    def _create_response(self, event: Event) -> list[Event]:
        settings = self._dialect.response_settings(self._settings, event.get("response"))
        reply = respond(self._dialect, self._new_id, self._conversation_id, self._deployment, settings, self._turns)
        self._turns.append(reply.turn)
        return reply.events

    def _cancel_response(self, event: Event) -> list[Event]:
        raise EventError("Cancellation failed: no active response found.", None, "response_cancel_not_active")

    def _add(self, turn: Turn) -> str | None:
        """Append `turn`; returns the id of the item before it, as the announcement names it."""
        previous = self._turns[-1].id if self._turns else None
        self._turns.append(turn)
        return previous

    def _announce(self, turn: Turn, previous: str | None) -> list[Event]:
        kinds = [self._dialect.item_added, *([self._dialect.item_done] if self._dialect.item_done else [])]
        return [{"type": kind, "previous_item_id": previous, "item": turn.item} for kind in kinds]

    def _error(self, error: EventError, client_event_id: str | None) -> Event:
        body = {
            "type": "invalid_request_error",
            "code": error.code,
            "message": error.message,
            "param": error.param,
            "event_id": client_event_id,
        }
        return self._stamp({"type": "error", "error": body})

    def _stamped(self, events: list[Event]) -> list[Event]:
        return [self._stamp(event) for event in events]

    def _stamp(self, event: Event) -> Event:
        return {"type": event["type"], "event_id": self._new_id("event"), **event}

    def _new_id(self, kind: str) -> str:
        return f"{kind}_{self._prefix}{next(self._serial):05d}"
