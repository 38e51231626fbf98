"""The text of a conversation as the task classifier reads it: the user's turns in order, and the system text.

Chat Completions `messages`, a Responses `input` (a string, or items: messages among tool calls and their
outputs) with its `instructions`, and a legacy Completions `prompt` all come to the same shape. Assistant
turns are not the user's ask: only the answer just before the last user turn is kept, for a follow-up whose
words and earlier turns say too little on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.frozen import frozen


@frozen
class Conversation:
    turns: tuple[str, ...]  # the user's turns with text, oldest first
    system: str  # system and developer messages (Responses: instructions first), joined
    # The assistant's answer just before the last user turn: what a follow-up ("make it shorter") follows.
    last_reply: str = ""


_EMPTY = Conversation((), "")


def chat_conversation(json_body: Mapping[str, Any]) -> Conversation:
    """A Chat Completions body's `messages`, or a legacy Completions body's `prompt` as one turn."""
    prompt = json_body.get("prompt")
    if isinstance(prompt, str):
        return Conversation((prompt,), "")
    if isinstance(prompt, list):
        # A list of prompts is a batch of separate requests, not a conversation: read together, as one.
        return Conversation(("\n".join(item for item in prompt if isinstance(item, str)),), "")
    return _messages(json_body.get("messages"))


def responses_conversation(json_body: Mapping[str, Any]) -> Conversation:
    instructions = json_body.get("instructions")
    given = json_body.get("input")
    read = Conversation((given,), "") if isinstance(given, str) else _messages(given)
    texts = [text for text in (instructions if isinstance(instructions, str) else "", read.system) if text]
    return Conversation(read.turns, "\n".join(texts), read.last_reply)


def _messages(messages: Any) -> Conversation:
    if not isinstance(messages, list):
        return _EMPTY
    turns: list[str] = []
    system: list[str] = []
    reply = last_reply = ""
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role == "user":
            text = "\n".join(_texts(message.get("content")))
            if text:
                turns.append(text)
                last_reply, reply = reply, ""
        elif role == "assistant":
            reply = "\n".join(_texts(message.get("content")))
        elif role in ("system", "developer"):
            system.extend(_texts(message.get("content")))
    return Conversation(tuple(turns), "\n".join(system), last_reply)


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)]
    return []
