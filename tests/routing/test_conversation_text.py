from __future__ import annotations

from typing import Any

import pytest

from gateway.routing.conversation_text import Conversation, chat_conversation, responses_conversation


def test_chat_messages_give_the_user_turns_in_order_and_the_system_text() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "You review code."},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "the model's words are not the user's ask"},
            {"role": "developer", "content": [{"type": "text", "text": "Be terse."}]},
            {"role": "user", "content": [{"type": "text", "text": "second"}, {"type": "text", "text": "part"}]},
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},  # no text: no turn
            "not a message",
        ]
    }
    assert chat_conversation(body) == Conversation(
        ("first", "second\npart"), "You review code.\nBe terse.", "the model's words are not the user's ask"
    )


@pytest.mark.parametrize(
    ("body", "turns"),
    [
        ({"prompt": "Once upon"}, ("Once upon",)),
        ({"prompt": ["a", 7, "b"]}, ("a\nb",)),  # a batch is read as one text, not as turns
        ({"messages": "not a list"}, ()),
        ({}, ()),
    ],
)
def test_legacy_prompts_and_odd_bodies(body: dict[str, Any], turns: tuple[str, ...]) -> None:
    assert chat_conversation(body).turns == turns


def test_a_responses_input_with_instructions_first() -> None:
    body = {
        "instructions": "Be brief.",
        "input": [
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "content": [{"type": "input_text", "text": "first"}, {"type": "input_image"}]},
            {"type": "function_call_output", "call_id": "c1", "output": "not a turn"},
            {"type": "message", "role": "user", "content": "second"},
        ],
    }
    assert responses_conversation(body) == Conversation(("first", "second"), "Be brief.\nAnswer in French.")
    assert responses_conversation({"input": "x", "instructions": 7}) == Conversation(("x",), "")
    assert responses_conversation({"previous_response_id": "resp_1"}) == Conversation((), "")


def test_the_answer_just_before_the_last_user_turn_is_kept() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "an older answer"},
            {"role": "user", "content": "second"},
            {"role": "assistant", "content": [{"type": "text", "text": "the answer followed up"}]},
            {"role": "user", "content": "third"},
        ]
    }
    assert chat_conversation(body).last_reply == "the answer followed up"
    assert chat_conversation({"messages": [{"role": "user", "content": "only"}]}).last_reply == ""
    trailing = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    assert chat_conversation(trailing).last_reply == ""  # an answer after the last user turn follows nothing
