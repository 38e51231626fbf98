"""The responses one simulated resource keeps (responses_store.py): conversations to continue, background
states, and a bounded memory."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.simulator.errors import SimulatorError
from gateway.simulator.responses_store import ResponseStore, StoredResponse, queued_view

USER = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
ANSWER = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "yo", "annotations": []}]}


def stored(response_id: str, background: bool = False, pending: bool = False) -> StoredResponse:
    document: dict[str, Any] = {"id": response_id, "status": "completed", "output": [ANSWER], "usage": {"x": 1}}
    return StoredResponse(document, [{"id": "msg_1", **USER}], [USER], [ANSWER], background, pending)


def test_a_conversation_is_the_context_then_the_output() -> None:
    store = ResponseStore()
    store.add(stored("resp_a"))
    assert store.conversation("resp_a") == [USER, ANSWER]
    assert store.input_items("resp_a") == [{"id": "msg_1", **USER}]
    with pytest.raises(SimulatorError) as caught:
        store.conversation("resp_b")
    assert caught.value.status == 400
    assert caught.value.body["error"]["code"] == "previous_response_not_found"


def test_retrieve_and_delete_a_stored_response_and_404_for_an_unknown_one() -> None:
    store = ResponseStore()
    store.add(stored("resp_a"))
    assert store.retrieve("resp_a")["status"] == "completed"
    assert store.delete("resp_a") == {"id": "resp_a", "object": "response", "deleted": True}
    for action in (store.retrieve, store.delete, store.cancel, store.input_items):
        with pytest.raises(SimulatorError) as caught:
            action("resp_a")
        assert caught.value.status == 404
        assert caught.value.body["error"]["message"] == "Response with id 'resp_a' not found."


def test_a_pending_background_response_completes_when_retrieved() -> None:
    store = ResponseStore()
    entry = stored("resp_a", background=True, pending=True)
    store.add(entry)
    assert store.retrieve("resp_a")["status"] == "completed"
    assert entry.pending is False
    assert store.cancel("resp_a")["status"] == "completed"


def test_cancelling_a_pending_response_drops_its_output_from_the_conversation() -> None:
    store = ResponseStore()
    store.add(stored("resp_a", background=True, pending=True))
    cancelled = store.cancel("resp_a")
    assert (cancelled["status"], cancelled["output"], cancelled["usage"]) == ("cancelled", [], None)
    assert store.retrieve("resp_a")["status"] == "cancelled"
    assert store.conversation("resp_a") == [USER]


def test_only_background_responses_can_be_cancelled() -> None:
    store = ResponseStore()
    store.add(stored("resp_a"))
    with pytest.raises(SimulatorError) as caught:
        store.cancel("resp_a")
    assert caught.value.status == 400


def test_the_oldest_responses_go_first_past_the_limit() -> None:
    store = ResponseStore(limit=2)
    for name in ("resp_a", "resp_b", "resp_c"):
        store.add(stored(name))
    with pytest.raises(SimulatorError):
        store.retrieve("resp_a")
    assert [store.retrieve(name)["id"] for name in ("resp_b", "resp_c")] == ["resp_b", "resp_c"]


def test_the_queued_view_has_no_output_yet() -> None:
    view = queued_view({"id": "resp_a", "status": "completed", "output": [ANSWER], "usage": {"x": 1}})
    assert view == {"id": "resp_a", "status": "queued", "output": [], "usage": None, "incomplete_details": None}
